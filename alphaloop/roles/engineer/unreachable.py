"""Code the change adds where it can never run: after a ``return``, ``raise``,
``continue`` or ``break`` in the same block.

ruff reports unused imports and variables (see :mod:`.lint`); statements after a jump
are found here, from the head's syntax tree, and reported when the change added them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise

from alphaloop.checks import Severity
from alphaloop.records import EngineerFinding
from alphaloop.roles.engineer.change import Change
from alphaloop.roles.engineer.trees import Trees

__all__ = ["after_jumps", "unreachable_code"]

_JUMPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
_BLOCKS = ("body", "orelse", "finalbody")


def after_jumps(tree: ast.AST) -> Iterator[tuple[ast.stmt, ast.stmt]]:
    """Each first statement that follows a jump in its block, with that jump."""
    for node in ast.walk(tree):
        for field in _BLOCKS:
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for jump, following in pairwise(block):
                if isinstance(jump, _JUMPS) and isinstance(following, ast.stmt):
                    yield following, jump
                    break


def unreachable_code(change: Change, trees: Trees) -> list[EngineerFinding]:
    """One finding per unreachable statement on a line the change added."""
    findings: list[EngineerFinding] = []
    for path in change.python_files:
        try:
            tree = ast.parse((trees.head / path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue  # the lint check reports a file that does not parse
        for statement, jump in after_jumps(tree):
            if not change.touches(path, statement.lineno):
                continue
            word = type(jump).__name__.lower()
            findings.append(EngineerFinding(
                check="engineer.dead_code", rule="unreachable", severity=Severity.RESTRICT,
                path=path, line=statement.lineno,
                message=f"this code can never run: it follows the `{word}` on line "
                        f"{jump.lineno}; remove it",
                evidence={"jump": word, "jump_line": jump.lineno,
                          "snippet": ast.unparse(statement).splitlines()[0][:200]}))
    return findings
