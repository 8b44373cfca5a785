"""The walkthrough's ``## Tear sheet`` section: what the benchmarks hold, three short
tables (against the benchmarks, calendar years, stress scenarios) and the charts.

Only formatting happens here: every figure comes from a
:class:`~alphaloop.report.tearsheet.TearSheet`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

from alphaloop.report.markdown import format_delta, format_number, format_percent, table
from alphaloop.report.tearsheet import SIXTY_FORTY, StressRow, TearSheet, YearRow

__all__ = ["CHART_NOTES", "render_tear_sheet"]


def _intro(sheet: TearSheet) -> list[str]:
    branch = " and the branch (dashed orange)" if len(sheet.labels) > 1 else ""
    if not sheet.benchmarks:
        return [f"`{sheet.labels[0]}` (solid blue on the charts){branch}; no benchmark "
                "was simulated for this report.", ""]
    how = [f"rebalanced {sheet.frequency}" if sheet.frequency else "",
           (f"with the same costs (commission {format_percent(sheet.costs.commission, 2)}, "
            f"slippage {format_percent(sheet.costs.slippage, 2)})") if sheet.costs else ""]
    settings = " ".join(h for h in how if h)
    out = [f"`{sheet.labels[0]}` (solid blue on the charts){branch} against "
           f"{len(sheet.benchmarks)} benchmark portfolios (grey) that the harness simulated "
           f"on the same windows{', ' + settings if settings else ''}; each window starts "
           "from cash, as the backtests do:", ""]
    out += [f"- **{label}**: {text}" for label, text in sheet.benchmarks.items()]
    if SIXTY_FORTY not in sheet.benchmarks:
        out.append(f"- **{SIXTY_FORTY}**: left out, the panel holds neither stocks nor bonds")
    return [*out, ""]


def _relative(sheet: TearSheet) -> list[str]:
    if not sheet.relative:
        return []
    rows = [[r.window, r.portfolio, r.benchmark, format_percent(r.portfolio_return, 2),
             format_percent(r.benchmark_return, 2),
             format_delta("annual_return", r.benchmark_return, r.portfolio_return),
             format_percent(r.tracking_error, 2), format_number(r.information_ratio, 2),
             format_number(r.beta, 2)] for r in sheet.relative]
    headers = ["window", "portfolio", "benchmark", "annual return", "benchmark's",
               "excess return", "tracking error", "information ratio", "beta"]
    return ["### Against the benchmarks", "",
            table(headers, rows, ["left"] * 3 + ["right"] * 6), "",
            "Annual returns are geometric; excess return is the difference of the two. "
            "Tracking error is the annualised volatility of the daily return difference, "
            "the information ratio its annualised mean over the tracking error, beta the "
            "slope of the portfolio's daily returns on the benchmark's.", ""]


def _year_label(row: YearRow) -> str:
    if not row.partial:
        return str(row.year)
    return f"{row.year} ({row.first:%d %b} to {row.last:%d %b})"


def _years(sheet: TearSheet) -> list[str]:
    if not sheet.years:
        return []
    labels = list(sheet.labels)
    columns = [*labels, *sheet.benchmarks]
    headers = ["year", *columns]
    if len(labels) > 1:
        headers.insert(3, f"{labels[1]} − {labels[0]}")
    rows = []
    for row in sheet.years:
        cells = [_year_label(row), *(format_percent(row.returns.get(c), 2) for c in columns)]
        if len(labels) > 1:
            cells.insert(3, format_delta("total_return", row.returns.get(labels[0]),
                                         row.returns.get(labels[1])))
        rows.append(cells)
    return ["### Calendar years", "",
            "Return compounded over each calendar year (or the part of it the backtests "
            "cover):", "", table(headers, rows, ["left", *["right"] * (len(headers) - 1)]),
            ""]


def _side(row: StressRow, side: str, name: str) -> float | None:
    found = getattr(row, side)
    return getattr(found, name) if found is not None else None


def _stress(sheet: TearSheet) -> list[str]:
    if not sheet.stress:
        return []
    rows = []
    for row in sheet.stress:
        cells = [row.scenario, row.kind, f"{row.start} to {row.end}"]
        for name in ("total_return", "max_drawdown"):
            before, after = _side(row, "main", name), _side(row, "branch", name)
            cells += [format_percent(before, 2), format_percent(after, 2),
                      format_delta(name, before, after)]
        rows.append(cells)
    headers = ["scenario", "kind", "window", "main return", "branch return", "change",
               "main max drawdown", "branch max drawdown", "change"]
    return ["### Stress scenarios", "",
            "Risk's stress tests of this change, replayed from the in-sample data: real "
            "crises the data covers, then synthetic shocks appended after its last day. "
            "Return and maximum drawdown over each scenario's window:", "",
            table(headers, rows, ["left", "left", "left", *["right"] * 6]), ""]


CHART_NOTES: dict[str, str] = {
    "equity.png": "Return since the first day, compounded, with the benchmarks in grey; "
                  "the lower panel is the branch minus main (above 0: the branch is ahead).",
    "drawdown.png": "Loss from the running peak (0 at a new high); the lower panel is the "
                    "branch's drawdown minus main's (above 0: the branch is less deep).",
    "rolling_sharpe.png": "Annualised Sharpe ratio over a trailing window, each point the "
                          "window ending that day.",
    "monthly_returns.png": "Main's return in each calendar month and year, in percent; "
                           "below, the branch minus main in percentage points.",
    "weights.png": "End-of-day weight of each asset class (cash on top); the last panel "
                   "is the branch's weight minus main's.",
}
"""What to read in each chart, by file name; shown under its caption."""


def _charts(plots: Mapping[str, str]) -> list[str]:
    out = ["### Charts", ""]
    for caption, path in plots.items():
        note = CHART_NOTES.get(PurePosixPath(path).name)
        out += [f"**{caption}.**" + (f" {note}" if note else ""), "",
                f"![{caption}]({path})", ""]
    return out


def render_tear_sheet(sheet: TearSheet | None, plots: Mapping[str, str]) -> list[str]:
    """The section's lines; empty when there is neither a tear sheet nor a chart."""
    if sheet is None and not plots:
        return []
    out = ["## Tear sheet", ""]
    if sheet is not None:
        out += _intro(sheet) + _relative(sheet) + _years(sheet) + _stress(sheet)
    return out + (_charts(plots) if plots else [])
