"""Small helpers that write readable markdown: aligned tables and formatted figures.

Numbers are shown the way a reviewer reads them: fractions of wealth (returns,
volatility, drawdown, VaR) as percents with two decimals, ratios (Sharpe, Calmar,
reward) with three, annual turnover as a multiple per year. The loop trades in small
gains, so metrics keep enough digits for a change between two runs to show. A missing
or undefined figure is ``n/a``, never ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel

__all__ = [
    "PERCENT_METRICS",
    "describe_finding",
    "format_delta",
    "format_metric",
    "format_number",
    "format_percent",
    "short_sha",
    "shorten",
    "table",
]

PERCENT_METRICS: frozenset[str] = frozenset({
    "total_return", "annual_return", "annual_volatility", "max_drawdown",
    "var_95", "cvar_95", "var_99", "cvar_99", "hit_rate",
})
"""Metrics that are fractions of wealth, shown as percents."""

Align = Literal["left", "right"]

RATIO_DIGITS = 3
PERCENT_DIGITS = 2


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def format_number(value: float | None, digits: int = 2) -> str:
    """``1.2345`` -> ``1.23``; ``None``/NaN -> ``n/a``; infinities as ``inf``/``-inf``."""
    if not _finite(value):
        return "n/a"
    assert value is not None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        return text[1:]  # "-0.00" reads as a loss that is not there
    return text


def format_percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percent: ``0.1234`` -> ``12.3%``."""
    if not _finite(value):
        return "n/a"
    assert value is not None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format_number(100.0 * value, digits) + "%"


def format_metric(name: str, value: float | None) -> str:
    """``value`` formatted for the metric ``name`` (percent, ratio or turnover)."""
    if name in PERCENT_METRICS:
        return format_percent(value, PERCENT_DIGITS)
    if name == "turnover":
        return "n/a" if not _finite(value) else f"{format_number(value)}x/yr"
    if name == "n_days":
        return "n/a" if not _finite(value) else f"{int(value or 0):,}"
    return format_number(value, RATIO_DIGITS)


def format_delta(name: str, before: float | None, after: float | None) -> str:
    """The change from ``before`` to ``after`` with a sign, in the metric's unit."""
    if not (_finite(before) and _finite(after)):
        return "n/a"
    assert before is not None and after is not None
    change = after - before
    if math.isinf(change) or math.isnan(change):
        return "n/a"
    if name in PERCENT_METRICS:
        text = format_number(100.0 * change, PERCENT_DIGITS) + " pp"
    elif name == "turnover":
        text = format_number(change) + "x/yr"
    else:
        text = format_number(change, RATIO_DIGITS)
    return text if text.startswith("-") else "+" + text


def shorten(text: str, width: int = 80) -> str:
    """``text`` on one line, at most ``width`` characters, never cut inside a word.

    A long text ends at the last sentence or clause boundary (``.``, ``;``) that fits,
    else at the last whole word, followed by an ellipsis; a single word longer than
    ``width`` is the only thing ever cut.
    """
    flat = " ".join(str(text).split())
    if len(flat) <= width:
        return flat
    room = flat[: max(width - 1, 1)]
    clause = max(room.rfind(". "), room.rfind("; "))
    if clause >= width // 2:
        return room[: clause + 1].rstrip(";") + " …"
    space = room.rfind(" ")
    if space > 0:
        return room[:space].rstrip(" ,;:") + " …"
    return room + "…"


def short_sha(sha: str | None) -> str:
    """The first 8 characters of a commit id (``-`` when there is none)."""
    return sha[:8] if sha else "-"


def _cell(value: object) -> str:
    text = " ".join(str(value).split())
    return text.replace("|", "\\|") if text else " "


def table(headers: Sequence[str], rows: Sequence[Sequence[object]],
          align: Sequence[Align] | None = None) -> str:
    """A markdown table whose columns are padded to line up in the raw text.

    ``align`` gives each column's alignment (default: first column left, others left);
    right-aligned columns suit numbers. Pipes in cells are escaped and line breaks
    collapsed, so any text is safe in a cell.
    """
    width = len(headers)
    aligns: list[Align] = list(align) if align is not None else ["left"] * width
    if len(aligns) != width:
        raise ValueError(f"table has {width} columns but {len(aligns)} alignments")
    cells = [[_cell(h) for h in headers]]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"table row has {len(row)} cells, expected {width}: {row!r}")
        cells.append([_cell(c) for c in row])
    sizes = [max(3, *(len(r[i]) for r in cells)) for i in range(width)]

    def line(row: list[str]) -> str:
        padded = [c.rjust(s) if a == "right" else c.ljust(s)
                  for c, s, a in zip(row, sizes, aligns, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join(
        "-" * (s - 1) + ":" if a == "right" else "-" * s
        for s, a in zip(sizes, aligns, strict=True)) + " |"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def describe_finding(item: Any) -> str:
    """One line for a review finding: a string, or a mapping/model with ``message``.

    Structured findings (as :class:`alphaloop.checks.findings.Finding` writes them) read
    ``[severity] check path:line: message``.
    """
    if isinstance(item, str):
        return shorten(item, 300)
    if isinstance(item, BaseModel):
        item = item.model_dump()
    message = _field(item, "message") or _field(item, "summary") or _field(item, "text")
    if message is None:
        return shorten(str(item), 300)
    parts = []
    severity = _field(item, "severity")
    if severity is not None:
        parts.append(f"[{int(severity)}]")
    check = _field(item, "check")
    if check:
        parts.append(str(check))
    path = _field(item, "path")
    if path:
        line_no = _field(item, "line")
        parts.append(f"{path}:{line_no}" if line_no else str(path))
    prefix = " ".join(parts)
    return shorten(f"{prefix}: {message}" if prefix else str(message), 300)
