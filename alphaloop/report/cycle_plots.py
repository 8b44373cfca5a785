"""The charts of a cycle's tear sheet: ``main``, the branch and the benchmarks, as PNGs.

``curves`` are ``main`` first, then the branch when there is one (see
:class:`~alphaloop.report.curves.Curve`); ``benchmarks`` are the reference portfolios
the harness simulated on the same windows. ``main`` is drawn solid blue, the branch
dashed orange on top of it (so a branch that equals ``main`` still shows), the
benchmarks thin and grey behind both. Where a branch is given, the equity and drawdown
charts carry a second panel with the branch minus ``main``, so a small change is visible
even when the two lines overlap. Every time axis shades the held-out window.

:func:`render_cycle_plots` draws them all: ``equity.png`` and ``drawdown.png`` here,
``rolling_sharpe.png``, ``monthly_returns.png`` and ``weights.png`` in
:mod:`alphaloop.report.tearsheet_plots`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from alphaloop.report import _canvas as canvas
from alphaloop.report.curves import Curve, PlotError, difference, period_returns
from alphaloop.report.tearsheet_plots import (
    monthly_returns_figure,
    rolling_sharpe_figure,
    rolling_window,
    weights_figure,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MIN_CALENDAR_MONTHS", "PLOT_CAPTIONS", "Curve", "PlotError", "drawdown_png",
           "equity_png", "render_cycle_plots"]

PLOT_CAPTIONS: dict[str, str] = {
    "equity.png": "Equity of main and the branch",
    "drawdown.png": "Drawdown of main and the branch",
    "rolling_sharpe.png": "Rolling Sharpe ratio",
    "monthly_returns.png": "Monthly returns",
    "weights.png": "Weights by asset class",
}
"""The walkthrough's caption of each chart, by file name."""

MIN_CALENDAR_MONTHS = 6
"""Fewer months than this make no heat map: the calendar-years table says as much."""

_WIDTH = 11.0
_ONE_PANEL = 4.8
_TWO_PANELS = 6.6
_IDENTICAL = 1e-12  # below this the branch's difference is rounding, not a change


def _check(curves: Sequence[Curve]) -> None:
    if not curves:
        raise PlotError("nothing to plot: pass at least one curve (main's backtest)")
    if len(curves) > 2:
        raise PlotError(f"pass main and at most one branch, not {len(curves)} curves")


def _last(curves: Sequence[Curve], benchmarks: Sequence[Curve]) -> date:
    return max(c.dates[-1] for c in (*curves, *benchmarks))


def _styles(curves: Sequence[Curve]) -> list[tuple[Curve, canvas.Style]]:
    return list(zip(curves, (canvas.MAIN, canvas.BRANCH), strict=False))


def _benchmark_styles(benchmarks: Sequence[Curve]) -> list[tuple[Curve, canvas.Style]]:
    styles = canvas.BENCHMARK_STYLES * (len(benchmarks) // len(canvas.BENCHMARK_STYLES) + 1)
    return list(zip(benchmarks, styles, strict=False))


def _difference_panel(axes: Axes, values: np.ndarray, index: np.ndarray, *, colour: str,
                      ylabel: str, title: str) -> None:
    """Branch minus main as a line and a fill around zero; says so when it is all zero."""
    axes.axhline(0.0, color="#555555", linewidth=0.8)
    if float(np.max(np.abs(values))) < _IDENTICAL:
        axes.set_ylim(-0.001, 0.001)
        canvas.note(axes, "no difference: the branch's daily returns equal main's")
    else:
        axes.plot(index, values, color=colour, linewidth=1.2)
        axes.fill_between(index, values, 0.0, where=values >= 0, color="#2a9d5c", alpha=0.3,
                          lw=0, interpolate=True)
        axes.fill_between(index, values, 0.0, where=values < 0, color="#c0392b", alpha=0.3,
                          lw=0, interpolate=True)
    canvas.pp_axis(axes)
    canvas.style_axes(axes, ylabel, title=title)


class _Measure(NamedTuple):
    """What a two-panel comparison chart draws of each curve, and how it is labelled."""

    values: Callable[[Curve], np.ndarray]
    legend: Callable[[Curve], str]
    ylabel: str
    column: str  # of :func:`~alphaloop.report.curves.difference`
    reading: str  # how to read the difference panel
    fill_main: bool


_EQUITY = _Measure(values=Curve.cumulative_return,
                   legend=lambda c: f"(total {c.cumulative_return()[-1]:+.1%})",
                   ylabel="Return since the first day", column="cumulative_return",
                   reading="cumulative return (above 0: the branch is ahead)", fill_main=False)
_DRAWDOWN = _Measure(values=Curve.underwater,
                     legend=lambda c: f"(max {c.drawdown().max():.1%})",
                     ylabel="Loss from the running peak", column="drawdown",
                     reading="drawdown (above 0: the branch is less deep)", fill_main=True)


def _comparison_figure(curves: Sequence[Curve], benchmarks: Sequence[Curve],
                       holdout_start: date | None, title: str, measure: _Measure) -> Figure:
    """``measure`` of each curve over time; with a branch, the branch minus ``main`` below."""
    _check(curves)
    two = len(curves) == 2
    fig, axes = canvas.figure(_WIDTH, _TWO_PANELS if two else _ONE_PANEL,
                              rows=2 if two else 1, height_ratios=(2.4, 1.0) if two else None)
    fig.suptitle(title, fontsize=13, x=0.01, ha="left")
    top, last = axes[0], _last(curves, benchmarks)
    lines = [(c, s, "benchmark ") for c, s in _benchmark_styles(benchmarks)]
    lines += [(c, s, "") for c, s in _styles(curves)]
    for curve, style, prefix in lines:
        values, days = measure.values(curve), canvas.days(curve.index())
        top.plot(days, values, color=style.colour, linestyle=style.linestyle,
                 linewidth=style.width,
                 label=f"{prefix}{curve.label}\n{measure.legend(curve)}")
        if measure.fill_main and style is canvas.MAIN:
            top.fill_between(days, values, 0.0, color=style.colour, alpha=0.12, lw=0)
    top.axhline(0.0, color="#999999", linewidth=0.8)
    canvas.mark_holdout(top, last, holdout_start)
    canvas.percent_axis(top)
    canvas.style_axes(top, measure.ylabel, legend=True)
    if two:
        diff = difference(curves[0], curves[1])
        _difference_panel(axes[1], diff[measure.column].to_numpy(), canvas.days(diff.index),
                          colour=canvas.BRANCH.colour, ylabel="branch − main",
                          title=f"{curves[1].label} minus {curves[0].label}: "
                                f"{measure.reading}")
        canvas.mark_holdout(axes[1], last, holdout_start, label=False, text=False)
    canvas.date_axis(axes[-1])
    axes[-1].set_xlabel("Date")
    return fig


def equity_png(curves: Sequence[Curve], *, benchmarks: Sequence[Curve] = (),
               holdout_start: date | None = None,
               title: str = "Cumulative return: main vs branch") -> bytes:
    """Each curve's compounded return since its first day, in percent, as PNG bytes.

    With a branch, a lower panel shows the branch's cumulative return minus ``main``'s
    (:func:`~alphaloop.report.curves.difference`).
    """
    return canvas.png(_comparison_figure(curves, benchmarks, holdout_start, title, _EQUITY))


def drawdown_png(curves: Sequence[Curve], *, benchmarks: Sequence[Curve] = (),
                 holdout_start: date | None = None,
                 title: str = "Drawdown: main vs branch") -> bytes:
    """Each curve's loss from its running peak in percent (0 at a new high), as PNG.

    With a branch, a lower panel shows the branch's drawdown minus ``main``'s, signed so
    that above 0 means the branch is less deep.
    """
    return canvas.png(_comparison_figure(curves, benchmarks, holdout_start, title,
                                         _DRAWDOWN))


def render_cycle_plots(curves: Sequence[Curve], *, holdout_start: date | None,
                       cycle_id: str, benchmarks: Sequence[Curve] = ()) -> dict[str, bytes]:
    """Every chart of one cycle's tear sheet, by file name (see :data:`PLOT_CAPTIONS`).

    ``rolling_sharpe.png`` is left out when the curves are too short for a rolling
    window, ``monthly_returns.png`` when they cover fewer than
    :data:`MIN_CALENDAR_MONTHS` months, ``weights.png`` when no curve carries weights by
    asset class.
    """
    _check(curves)
    names = " and ".join(c.label for c in curves)
    against = " against the benchmarks" if benchmarks else ""
    figures: list[tuple[str, Callable[[], Figure]]] = [
        ("equity.png", partial(_comparison_figure, curves, benchmarks, holdout_start,
                               f"{cycle_id}: cumulative return of {names}{against}",
                               _EQUITY)),
        ("drawdown.png", partial(_comparison_figure, curves, benchmarks, holdout_start,
                                 f"{cycle_id}: drawdown of {names}{against}", _DRAWDOWN)),
    ]
    days = rolling_window(len(curves[0].dates))
    if days is not None:
        figures.append(("rolling_sharpe.png", partial(
            rolling_sharpe_figure, curves, benchmarks=benchmarks,
            holdout_start=holdout_start, days=days,
            title=f"{cycle_id}: rolling {days}-day Sharpe ratio of {names}{against}")))
    if len(period_returns(curves[0], "M")) >= MIN_CALENDAR_MONTHS:
        figures.append(("monthly_returns.png", partial(
            monthly_returns_figure, curves, title=f"{cycle_id}: monthly returns")))
    if any(c.weights for c in curves):
        figures.append(("weights.png", partial(
            weights_figure, curves, holdout_start=holdout_start,
            title=f"{cycle_id}: weights by asset class")))
    return canvas.pngs(figures)
