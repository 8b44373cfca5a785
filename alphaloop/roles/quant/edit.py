"""Apply a hypothesis's parameter edits to ``strategy/tunables.py`` as text.

Each tunable is one ``NAME = literal  # comment`` line; an edit replaces the literal and
keeps everything else, so the diff a reviewer reads is exactly the values moved.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from alphaloop.errors import Failure
from alphaloop.records import ParamEdit

__all__ = ["EditError", "apply_edits", "format_value"]


class EditError(Failure, ValueError):
    """An edit names a tunable that is not a plain literal assignment in the file."""


def format_value(value: float | int | str) -> str:
    if isinstance(value, str):
        return repr(value).replace("'", '"')
    if isinstance(value, bool):
        raise EditError("booleans are not tunables")
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6g}"
    return text if any(c in text for c in ".en") else f"{text}.0"


def apply_edits(source: str, edits: Iterable[ParamEdit]) -> str:
    """Return ``source`` with each edited tunable's literal replaced."""
    tree = ast.parse(source)
    spans: dict[str, ast.expr] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            spans[node.targets[0].id] = node.value
    lines = source.splitlines(keepends=True)
    for edit in edits:
        value = spans.get(edit.name)
        if value is None or not isinstance(value, ast.Constant | ast.UnaryOp):
            raise EditError(f"{edit.name} is not a literal assignment in strategy/tunables.py")
        if value.lineno != value.end_lineno or value.end_col_offset is None:
            raise EditError(f"{edit.name} spans several lines; keep tunables on one line")
        line = lines[value.lineno - 1]
        lines[value.lineno - 1] = (line[: value.col_offset] + format_value(edit.new)
                                   + line[value.end_col_offset:])
    return "".join(lines)
