"""Public names the change adds without a docstring.

A public name is a top-level function or class of a Python module whose name does not
start with an underscore. It is new when the base's version of the file has no
top-level function or class of that name (every one is new in a file the change adds).
Files the engineering policy exempts (tests, by default) are skipped; a file that does
not parse is left to the lint check.
"""

from __future__ import annotations

import ast
from pathlib import Path

from alphaloop.checks import Severity
from alphaloop.policy.engineering import EngineeringPolicy
from alphaloop.records import EngineerFinding
from alphaloop.roles.engineer.change import Change
from alphaloop.roles.engineer.trees import Trees

__all__ = ["public_names", "undocumented_names"]

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def public_names(source: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """The top-level public functions and classes of ``source``, by name.

    Raises :class:`SyntaxError` when ``source`` does not parse.
    """
    tree = ast.parse(source)
    return {node.name: node for node in tree.body
            if isinstance(node, _DEFINITIONS) and not node.name.startswith("_")}


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def undocumented_names(change: Change, trees: Trees,
                       policy: EngineeringPolicy) -> list[EngineerFinding]:
    """One finding per new public function or class without a docstring."""
    findings: list[EngineerFinding] = []
    for path in change.python_files:
        if not policy.needs_docstrings(path):
            continue
        head = _read(trees.head / path)
        base = None if change.is_new(path) else _read(trees.base / path)
        try:
            names = public_names(head or "")
            before = set(public_names(base or ""))
        except SyntaxError:
            continue
        for name, node in names.items():
            if name in before or ast.get_docstring(node) is not None:
                continue
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            findings.append(EngineerFinding(
                check="engineer.docstring", rule="missing-docstring",
                severity=Severity.RESTRICT, path=path, line=node.lineno,
                message=f"new public {kind} `{name}` has no docstring; say in one line what "
                        "it does (or name it with a leading underscore if it is private)",
                evidence={"name": name, "kind": kind}))
    return findings
