"""The formatting-only rule: a role limited to formatting may not change what code does.

A Python file passes when its syntax tree is unchanged (comments and layout are free;
docstrings may be re-wrapped, since their whitespace is ignored); any other file passes
when only its whitespace changed. Adding or deleting a file is never formatting.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from alphaloop.checks.findings import Finding, Severity

__all__ = ["check_formatting_only", "same_code", "same_text"]

_DOCSTRING_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _normalized_tree(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, _DOCSTRING_OWNERS) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                first.value.value = " ".join(first.value.value.split())
    return ast.dump(tree, include_attributes=False)


def same_code(old: str, new: str) -> bool:
    """Whether two Python sources have the same syntax tree (docstring spacing aside).

    Raises :class:`SyntaxError` when either does not parse.
    """
    return _normalized_tree(old) == _normalized_tree(new)


def same_text(old: str, new: str) -> bool:
    """Whether two texts differ in whitespace only."""
    return old.split() == new.split()


def check_formatting_only(changes: Mapping[str, tuple[str | None, str | None]]) -> list[Finding]:
    """Block every change that is more than formatting.

    ``changes`` maps a path to ``(old text, new text)``; ``None`` marks an absent file.
    """
    findings: list[Finding] = []
    for path, (old, new) in sorted(changes.items()):
        if old is None or new is None:
            verb = "adds" if old is None else "deletes"
            findings.append(_block(path, f"{verb} {path}; a formatting change may only modify "
                                   "existing files", "file-added-or-deleted"))
            continue
        if path.endswith(".py"):
            try:
                unchanged = same_code(old, new)
            except SyntaxError as exc:
                findings.append(_block(path, f"{path} does not parse after the change "
                                       f"({exc.msg}); formatting must keep it valid", "syntax"))
                continue
            if not unchanged:
                findings.append(_block(path, f"{path}: the syntax tree changed, so this is more "
                                       "than formatting; limit the change to layout and "
                                       "comments", "code-changed"))
        elif not same_text(old, new):
            findings.append(_block(path, f"{path}: words changed, not only whitespace; limit "
                                   "the change to formatting", "text-changed"))
    return findings


def _block(path: str, message: str, rule: str) -> Finding:
    return Finding(check="formatting", severity=Severity.BLOCK, path=path, message=message,
                   evidence={"rule": rule})
