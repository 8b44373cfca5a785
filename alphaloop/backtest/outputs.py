"""The files a backtest leaves: ``result.json``, its charts and its tear sheet, all or nothing.

``result.json`` is the :class:`~alphaloop.harness.BacktestResult` JSON; when the strategy
came from a repository it also carries a top-level ``source`` object (repository, rev,
commit, strategy tree hash, sandboxed) and ``tearsheet`` (the tear sheet's tables, below),
and when asked for, ``walk_forward`` (a list of fold figures: label, start, end, sharpe,
max_drawdown, reward) and ``holdout_read`` (the run's counted read of the held-out
window) - read the result and its source back with :func:`load_outputs`. A library
strategy's run (``inverse-vol``, ``package.module:factory``) asked for nothing more
writes the plain result, which :meth:`BacktestResult.load` reads.

The tear sheet is the walkthrough's (:mod:`alphaloop.report.tearsheet`), for one
strategy and no branch: the equal-weight and 60/40 benchmarks simulated by the harness
on the run's panel and window with its frequency and costs (:func:`backtest_tear_sheet`),
the figures against them and the calendar years in ``tearsheet.md`` (and in
``result.json``, as above), and the charts of
:func:`~alphaloop.report.cycle_plots.render_cycle_plots` as PNGs beside them
(:data:`CHART_FILES`; the cumulative-return chart is ``cumulative_return.png``, since
``equity.png`` is the portfolio's value and drawdown against equal weight).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.backtest.source import StrategySource
from alphaloop.data.panel import MarketData
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.windows import Window
from alphaloop.report.curves import Curve
from alphaloop.report.tearsheet import (
    EQUAL_WEIGHT,
    Benchmark,
    TearSheet,
    build_tear_sheet,
    simulate_benchmarks,
)

__all__ = ["CHART_FILES", "EXTRA_KEYS", "PLOT_FILE", "RESULT_FILE", "TEARSHEET_FILE",
           "BacktestFiles", "BacktestTearSheet", "backtest_tear_sheet", "load_outputs",
           "result_json", "tear_sheet_json", "write_outputs"]

RESULT_FILE = "result.json"
PLOT_FILE = "equity.png"
TEARSHEET_FILE = "tearsheet.md"

#: The tear sheet's charts: the walkthrough's file name -> the name in the output folder,
#: its caption and what to read in it (one strategy: no difference panel).
CHART_FILES: dict[str, tuple[str, str, str]] = {
    "equity.png": ("cumulative_return.png", "Cumulative return",
                   "Return since the first day, compounded; the benchmarks in grey."),
    "drawdown.png": ("drawdown.png", "Drawdown",
                     "Loss from the running peak (0 at a new high); the benchmarks in grey."),
    "rolling_sharpe.png": ("rolling_sharpe.png", "Rolling Sharpe ratio",
                           "Annualised Sharpe ratio over a trailing window, each point the "
                           "window ending that day."),
    "monthly_returns.png": ("monthly_returns.png", "Monthly returns",
                            "Return in each calendar month and year, in percent."),
    "weights.png": ("weights.png", "Weights by asset class",
                    "End-of-day weight of each asset class, cash on top."),
}

#: Top-level keys a result file may carry beside the result: what ran (``source``), the
#: walk-forward folds' figures (``walk_forward``), the read of the held-out window
#: (``holdout_read``) and the tear sheet's tables (``tearsheet``).
EXTRA_KEYS = ("walk_forward", "holdout_read", "tearsheet")


class BacktestTearSheet(BaseModel):
    """A run's tear sheet: its curve, the benchmarks, where the held-out window starts
    (``None``: the run does not reach it) and the tables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    curve: Curve
    benchmarks: list[Benchmark] = Field(default_factory=list)
    holdout_start: date | None = None
    sheet: TearSheet


def _holdout_start(window: Window, holdout: Window | None) -> date | None:
    if holdout is None or window.end < holdout.start or window.start > holdout.end:
        return None
    return max(window.start, holdout.start)


def backtest_tear_sheet(result: BacktestResult, *, label: str | None = None,
                        data: MarketData | None = None, holdout: Window | None = None,
                        benchmarks: bool = True) -> BacktestTearSheet:
    """The tear sheet of ``result``, run on ``data``: its curve (weights by asset class
    when ``data`` is given), and with ``benchmarks`` the equal-weight and 60/40 portfolios
    the harness simulates on the same panel and window with the run's frequency and
    costs. A run reaching into ``holdout`` has its figures split at its start."""
    config = result.config
    curve = Curve.from_results(label or config.strategy, result,
                               asset_classes=data.asset_classes if data is not None else None)
    marks = (simulate_benchmarks([(data, config.window)], frequency=config.frequency,
                                 costs=config.costs)
             if benchmarks and data is not None else [])
    start = _holdout_start(config.window, holdout)
    sheet = build_tear_sheet([curve], marks, holdout_start=start,
                             frequency=config.frequency if marks else None,
                             costs=config.costs if marks else None)
    return BacktestTearSheet(curve=curve, benchmarks=marks, holdout_start=start, sheet=sheet)


def tear_sheet_json(sheet: TearSheet) -> dict[str, Any]:
    """The tables of ``sheet`` as JSON values (a figure that is not a number: ``null``)."""
    return json.loads(sheet.model_dump_json())


def result_json(result: BacktestResult, source: StrategySource | None, *,
                indent: int | None = None, extra: Mapping[str, Any] | None = None) -> str:
    """The result's JSON, with ``source`` and the ``extra`` keys added when there are."""
    if source is None and not extra:
        return result.to_json(indent=indent)
    unknown = set(extra or {}) - set(EXTRA_KEYS)
    if unknown:
        raise ValueError(f"unknown result keys {sorted(unknown)}; known: {EXTRA_KEYS}")
    payload = json.loads(result.to_json())
    head = {"source": source.model_dump(mode="json")} if source is not None else {}
    return json.dumps({**head, **payload, **(extra or {})}, indent=indent)


def load_outputs(text: str | bytes) -> tuple[BacktestResult, StrategySource | None]:
    """A ``result.json`` (or ``--json`` output) read back: the result and its source."""
    payload = json.loads(text)
    for key in EXTRA_KEYS:
        payload.pop(key, None)
    raw = payload.pop("source", None)
    source = StrategySource.model_validate(raw) if raw is not None else None
    return BacktestResult.from_json(json.dumps(payload)), source


def _markdown(title: str, tear: BacktestTearSheet, charts: Sequence[str]) -> str:
    """``tearsheet.md``: the walkthrough's tear-sheet section, with one strategy's charts."""
    from alphaloop.report.tearsheet_markdown import render_tear_sheet

    notes = {name: (caption, note) for name, caption, note in CHART_FILES.values()}
    notes[PLOT_FILE] = ("Portfolio value", "The value of the initial capital and its "
                                           "drawdown, against the equal-weight benchmark.")
    lines = [f"# Backtest: {title}", "", *render_tear_sheet(tear.sheet, {}), "### Charts", ""]
    for name in charts:
        caption, note = notes[name]
        lines += [f"**{caption}.** {note}", "", f"![{caption}]({name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _charts(tear: BacktestTearSheet, title: str) -> dict[str, bytes]:
    """The tear sheet's PNGs by output file name."""
    from alphaloop.report.cycle_plots import render_cycle_plots

    drawn = render_cycle_plots([tear.curve], holdout_start=tear.holdout_start,
                               cycle_id=title, benchmarks=[b.curve for b in tear.benchmarks])
    return {CHART_FILES[name][0]: png for name, png in drawn.items()}


class BacktestFiles(BaseModel):
    """Where :func:`write_outputs` wrote a run's files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: Path
    plot: Path = Field(description="equity.png: value and drawdown")
    tearsheet: Path
    charts: list[Path] = Field(description="the tear sheet's PNGs, in CHART_FILES order")


def write_outputs(result: BacktestResult, out: Path, *, title: str,
                  tear_sheet: BacktestTearSheet | None = None,
                  source: StrategySource | None = None,
                  extra: Mapping[str, Any] | None = None,
                  chart_title: str = "Backtest") -> BacktestFiles:
    """Write ``result.json``, ``equity.png``, ``tearsheet.md`` and the tear sheet's charts
    into ``out``, all or nothing; other files in ``out`` are left alone.

    ``tear_sheet`` defaults to the result's own, without benchmarks; ``extra`` holds the
    keys ``result.json`` carries beside the result (:data:`EXTRA_KEYS`, ``tearsheet``
    from :func:`tear_sheet_json`). ``chart_title`` starts each chart's title.
    """
    from alphaloop.report.plots import plot_equity

    tear = tear_sheet if tear_sheet is not None else backtest_tear_sheet(result)
    equal = next((b.curve for b in tear.benchmarks if b.curve.label == EQUAL_WEIGHT), None)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / RESULT_FILE).write_text(result_json(result, source, indent=1, extra=extra))
        plot_equity(
            staging / PLOT_FILE, result.returns_series(), title=title,
            initial_value=result.config.initial_capital,
            benchmark=equal.series() if equal is not None else None,
            strategy_label=tear.curve.label, benchmark_label=EQUAL_WEIGHT)
        charts = _charts(tear, chart_title)
        for name, png in charts.items():
            (staging / name).write_bytes(png)
        (staging / TEARSHEET_FILE).write_text(_markdown(title, tear, [*charts, PLOT_FILE]))
        out.mkdir(exist_ok=True)
        for name in [RESULT_FILE, PLOT_FILE, *charts, TEARSHEET_FILE]:
            os.replace(staging / name, out / name)
        for name, _, _ in CHART_FILES.values():  # a chart an earlier run drew, not this one
            if name not in charts:
                (out / name).unlink(missing_ok=True)
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
    return BacktestFiles(result=out / RESULT_FILE, plot=out / PLOT_FILE,
                         tearsheet=out / TEARSHEET_FILE, charts=[out / n for n in charts])
