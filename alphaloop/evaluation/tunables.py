"""The tunables file, ``strategy/tunables.py``: where it is and how it is read and written.

The strategy keeps the values a research hypothesis edits in one file, one tunable a line::

    RISK_AVERSION = 3.0  # risk-aversion coefficient (mean-variance, BL)

(its declared space is ``strategy/parameters.py``, read by :mod:`.space`). This module is
the one place that knows the file's path and format. It is read as text, never run:
:func:`read_tunables` returns the ``NAME = literal`` assignments, and
:func:`apply_edits` replaces the literal of each edited tunable and keeps everything
else (comments, order, blank lines), so the diff a reviewer reads is exactly the values
moved. The Quant writes it through :func:`write_edits`; the merge gate and Risk read it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

from alphaloop.errors import Failure
from alphaloop.records import ParamEdit

__all__ = ["TUNABLES_PATH", "EditError", "apply_edits", "format_value", "read_tunables",
           "write_edits"]

TUNABLES_PATH = "strategy/tunables.py"
"""The tunables file, relative to the repository (and to a checkout of it)."""

TunableValue = float | int | str


class EditError(Failure, ValueError):
    """An edit names a tunable that is not a plain literal assignment in the file."""


def _assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    """Each top-level ``NAME = value`` of the file, in order."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            yield node.targets[0].id, node.value


def read_tunables(source: bytes | str) -> dict[str, TunableValue]:
    """The ``NAME = literal`` assignments of a tunables file (numbers and strings), read
    without running it; nothing when the source does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out: dict[str, TunableValue] = {}
    for name, node in _assignments(tree):
        try:
            value = ast.literal_eval(node)
        except ValueError:
            continue
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            out[name] = value
    return out


def format_value(value: TunableValue) -> str:
    """A value as the file writes it: ``"text"``, ``126``, ``0.35`` (six significant
    digits, always with a point or an exponent for a float)."""
    if isinstance(value, str):
        return repr(value).replace("'", '"')
    if isinstance(value, bool):
        raise EditError("booleans are not tunables")
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6g}"
    return text if any(c in text for c in ".en") else f"{text}.0"


def apply_edits(source: str, edits: Iterable[ParamEdit]) -> str:
    """Return ``source`` with each edited tunable's literal replaced.

    Raises :class:`EditError` when an edit names no one-line literal assignment.
    """
    spans = dict(_assignments(ast.parse(source)))
    lines = source.splitlines(keepends=True)
    for edit in edits:
        value = spans.get(edit.name)
        if value is None or not isinstance(value, ast.Constant | ast.UnaryOp):
            raise EditError(f"{edit.name} is not a literal assignment in {TUNABLES_PATH}")
        if value.lineno != value.end_lineno or value.end_col_offset is None:
            raise EditError(f"{edit.name} spans several lines; keep tunables on one line")
        line = lines[value.lineno - 1]
        lines[value.lineno - 1] = (line[: value.col_offset] + format_value(edit.new)
                                   + line[value.end_col_offset:])
    return "".join(lines)


def write_edits(checkout: Path, edits: Iterable[ParamEdit]) -> None:
    """Apply ``edits`` to the tunables file of the checkout rooted at ``checkout``."""
    path = Path(checkout) / TUNABLES_PATH
    path.write_text(apply_edits(path.read_text(), edits))
