"""Shared pieces of the AST policy: a parsed source file, snippets, literal numbers."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alphaloop.checks.findings import Finding, Severity

__all__ = ["SourceFile", "literal_number", "module_name_for"]

_SNIPPET_CHARS = 200
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def module_name_for(path: str) -> tuple[str, bool]:
    """The dotted module a repository path holds, and whether it is a package.

    ``strategy/experts/stock.py`` -> (``strategy.experts.stock``, False);
    ``strategy/experts/__init__.py`` -> (``strategy.experts``, True).
    """
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def literal_number(node: ast.AST | None) -> float | None:
    """The value of a numeric literal, a signed one, or simple arithmetic over literals.

    Booleans, names and calls are not literals (``None`` is returned).
    """
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = literal_number(node.operand)
        if inner is None:
            return None
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = literal_number(node.left), literal_number(node.right)
        if left is None or right is None:
            return None
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            return None
    return None


@dataclass
class SourceFile:
    """One parsed file and the findings collected about it."""

    path: str
    source: str
    tree: ast.Module
    findings: list[Finding] = field(default_factory=list)
    _seen: set[tuple[Any, ...]] = field(default_factory=set)

    def snippet(self, node: ast.AST) -> str:
        lineno = getattr(node, "lineno", None)
        lines = self.source.splitlines()
        if lineno is None or not 1 <= lineno <= len(lines):
            return ""
        text = lines[lineno - 1].strip()
        return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "..."

    def report(self, check: str, node: ast.AST, message: str, *, rule: str,
               severity: Severity = Severity.BLOCK, **evidence: Any) -> None:
        """Add a finding at ``node`` (once per check, line and rule key)."""
        line = getattr(node, "lineno", None)
        key = (check, line, rule, evidence.get("name"))
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(Finding(
            check=check, severity=severity, message=message, path=self.path, line=line,
            evidence={"rule": rule, "snippet": self.snippet(node), **evidence}))
