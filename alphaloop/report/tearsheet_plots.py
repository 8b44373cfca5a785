"""The tear sheet's other charts: rolling Sharpe, monthly returns, weights by asset class.

Each takes ``main``'s curve first and the branch's second (when there is one), draws
with the shared styles of :mod:`alphaloop.report._canvas`, and returns PNG bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alphaloop.report import _canvas as canvas
from alphaloop.report.curves import Curve, period_returns, rolling_sharpe

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CLASS_COLOURS", "monthly_returns_figure", "monthly_returns_png",
           "rolling_sharpe_figure", "rolling_sharpe_png", "rolling_window", "weights_figure",
           "weights_png"]

CLASS_COLOURS: dict[str, str] = {
    "stocks": "#1f77b4", "bonds": "#2ca02c", "commodities": "#d4a017", "reits": "#9467bd",
    "crypto": "#e4572e", "cash": "#d9d9d9", "other": "#8c564b",
}
"""The colour of each asset class on the weights chart."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rolling_window(n_days: int) -> int | None:
    """The rolling window for curves of ``n_days``: six months (126 days) when they cover
    at least a year, a quarter (63) when they cover half a year, else none."""
    for days in (126, 63):
        if n_days >= 2 * days:
            return days
    return None


def rolling_sharpe_png(curves: Sequence[Curve], *, benchmarks: Sequence[Curve] = (),
                       holdout_start: date | None = None, days: int = 126,
                       title: str = "Rolling Sharpe ratio") -> bytes:
    """The annualised Sharpe ratio of each trailing ``days``-day window, per curve."""
    return canvas.png(rolling_sharpe_figure(curves, benchmarks=benchmarks,
                                            holdout_start=holdout_start, days=days,
                                            title=title))


def rolling_sharpe_figure(curves: Sequence[Curve], *, benchmarks: Sequence[Curve] = (),
                          holdout_start: date | None = None, days: int = 126,
                          title: str = "Rolling Sharpe ratio") -> Figure:
    """The figure of :func:`rolling_sharpe_png`."""
    fig, (axes,) = canvas.figure(11.0, 4.6)
    fig.suptitle(title, fontsize=13, x=0.01, ha="left")
    styled = [*zip(benchmarks, canvas.BENCHMARK_STYLES * len(benchmarks), strict=False),
              *zip(curves, (canvas.MAIN, canvas.BRANCH), strict=False)]
    for curve, style in styled:
        sharpe = rolling_sharpe(curve, days)
        prefix = "benchmark " if style in canvas.BENCHMARK_STYLES else ""
        axes.plot(canvas.days(sharpe.index), sharpe.to_numpy(), color=style.colour,
                  linestyle=style.linestyle, linewidth=style.width,
                  label=f"{prefix}{curve.label}")
    axes.axhline(0.0, color="#555555", linewidth=0.8)
    last = max(c.dates[-1] for c in (*curves, *benchmarks))
    canvas.mark_holdout(axes, last, holdout_start)
    canvas.style_axes(axes, f"Sharpe ratio, trailing {days} days\n(annualised)",
                      legend=True)
    canvas.date_axis(axes)
    axes.set_xlabel("Date (each point: the window ending that day)")
    return fig


def _calendar(returns: pd.Series) -> pd.DataFrame:
    """Monthly returns as a year x month grid (NaN where the curve has no day)."""
    grid = pd.DataFrame({"year": returns.index.year, "month": returns.index.month,
                         "value": returns.to_numpy()})
    table = grid.pivot(index="year", columns="month", values="value")
    return table.reindex(columns=range(1, 13))


def _cell(value: float, digits: int, signed: bool) -> str:
    """A heat-map cell in percent; a difference that rounds to zero is left blank, a
    return that rounds to zero shows without a sign."""
    if not np.isfinite(value):
        return ""
    text = f"{100 * value:{'+' if signed else ''}.{digits}f}"
    if float(text) == 0.0:
        return "" if signed else f"{0.0:.{digits}f}"
    return text


def _heat_map(axes: Axes, months: pd.DataFrame, years: pd.Series, *, signed: bool,
              title: str) -> None:
    """One grid of monthly figures coloured red (loss) to green (gain), with the year's
    figure written in a grey column on the right."""
    from matplotlib.colors import Normalize

    values = months.to_numpy(dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    digits = 1 if not signed or largest >= 0.005 else 2 if largest >= 5e-4 else 3
    cells = [[_cell(v, digits, signed) for v in row] for row in values]
    shown = np.where([[bool(c) for c in row] for row in cells], values, np.nan)
    limit = max(float(np.quantile(finite, 0.95)) if finite.size else 0.0,
                1e-4 if signed else 0.01)
    axes.imshow(np.ma.masked_invalid(shown), cmap="RdYlGn", aspect="auto",
                norm=Normalize(-limit, limit), extent=(-0.5, 11.5, len(months) - 0.5, -0.5))
    # Each figure sits inside its cell, so none moves the layout; blank cells draw nothing.
    for row, year in enumerate(months.index):
        figures = [(col, text, "normal") for col, text in enumerate(cells[row])]
        figures.append((12.4, _cell(years.get(year, np.nan), digits, signed), "bold"))
        for col, text, weight in figures:
            if text:
                axes.text(col, row, text, ha="center", va="center", fontsize=8,
                          fontweight=weight, color="#1a1a1a", in_layout=False)
    if signed and not any(any(row) for row in cells):
        canvas.note(axes, "no month differs at this precision")
    axes.axvspan(11.9, 12.9, color="#eeeeee", lw=0)
    axes.set_xlim(-0.5, 12.9)
    axes.set_xticks([*range(12), 12.4], [*_MONTHS, "Year"], fontsize=9)
    axes.set_yticks(range(len(months)), [str(y) for y in months.index], fontsize=9)
    axes.tick_params(length=0)
    axes.xaxis.tick_top()
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.set_title(title, fontsize=11, loc="left", pad=22)


def monthly_returns_png(curves: Sequence[Curve], *, title: str = "Monthly returns") -> bytes:
    """``main``'s return in each calendar month (percent), and with a branch, the
    branch's monthly return minus ``main``'s (percentage points)."""
    return canvas.png(monthly_returns_figure(curves, title=title))


def monthly_returns_figure(curves: Sequence[Curve], *,
                           title: str = "Monthly returns") -> Figure:
    """The figure of :func:`monthly_returns_png`."""
    main = period_returns(curves[0], "M")
    main_years = period_returns(curves[0], "Y")
    panels = [(_calendar(main), main_years.set_axis(main_years.index.year), False,
               f"{curves[0].label}: return of each month and year, in %")]
    if len(curves) > 1:
        branch = period_returns(curves[1], "M")
        branch_years = period_returns(curves[1], "Y")
        months = (branch - main).dropna()
        years = (branch_years - main_years).dropna()
        panels.append((_calendar(months), years.set_axis(years.index.year), True,
                       f"{curves[1].label} minus {curves[0].label}, in percentage points "
                       "(green: the branch did better; blank: no difference)"))
    rows = [len(p[0]) for p in panels]
    fig, axes = canvas.figure(11.0, 0.8 + sum(0.3 * r + 0.9 for r in rows), rows=len(panels),
                              height_ratios=[r + 2.5 for r in rows], sharex=False)
    fig.suptitle(title, fontsize=13, x=0.01, ha="left")
    for ax, (months, years, signed, heading) in zip(axes, panels, strict=True):
        _heat_map(ax, months, years, signed=signed, title=heading)
    return fig


def _weight_difference(axes: Axes, main: Curve, branch: Curve,
                       holdout_start: date | None) -> None:
    """The branch's weight in each asset class minus ``main``'s, one line per class."""
    ours, theirs = main.weights_frame(), branch.weights_frame()
    common = ours.index.intersection(theirs.index)
    diff = theirs.reindex(index=common).sub(ours.reindex(index=common), fill_value=0.0)
    for name in diff.columns:
        axes.plot(canvas.days(diff.index), diff[name].to_numpy(), linewidth=1.2, label=name,
                  color=CLASS_COLOURS.get(name, CLASS_COLOURS["other"]) if name != "cash"
                  else "#7f7f7f")
    axes.axhline(0.0, color="#555555", linewidth=0.8)
    canvas.mark_holdout(axes, branch.dates[-1], holdout_start, label=False, text=False)
    values = diff.to_numpy()
    canvas.pp_axis(axes)
    if not values.size or float(np.abs(values).max()) < 1e-12:
        canvas.note(axes, "no difference: the branch holds what main holds")
    canvas.style_axes(axes, "branch − main",
                      title=f"{branch.label} minus {main.label}: weight by asset class",
                      legend=True)


def weights_png(curves: Sequence[Curve], *, holdout_start: date | None = None,
                title: str = "Weights by asset class") -> bytes:
    """Each curve's end-of-day weights by asset class, stacked to 100% with cash on top;
    with a branch, a last panel shows its weight in each class minus ``main``'s.

    Cash a trade's cost pushed a hair below zero is drawn as zero.
    """
    return canvas.png(weights_figure(curves, holdout_start=holdout_start, title=title))


def weights_figure(curves: Sequence[Curve], *, holdout_start: date | None = None,
                   title: str = "Weights by asset class") -> Figure:
    """The figure of :func:`weights_png`."""
    shown = [c for c in curves if c.weights]
    both = len(shown) == 2
    fig, axes = canvas.figure(11.0, 1.2 + 2.6 * len(shown) + (2.0 if both else 0.0),
                              rows=len(shown) + both,
                              height_ratios=[1.0] * len(shown) + ([0.8] if both else []))
    fig.suptitle(title, fontsize=13, x=0.01, ha="left")
    if both:
        _weight_difference(axes[-1], shown[0], shown[1], holdout_start)
    for ax, curve in zip(axes, shown, strict=False):
        frame = curve.weights_frame().clip(lower=0.0)
        colours = [CLASS_COLOURS.get(c, CLASS_COLOURS["other"]) for c in frame.columns]
        ax.stackplot(canvas.days(frame.index), frame.to_numpy().T, labels=list(frame.columns),
                     colors=colours, linewidth=0)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlim(frame.index[0], frame.index[-1])
        canvas.mark_holdout(ax, curve.dates[-1], holdout_start, label=False,
                            text=ax is axes[0])
        canvas.percent_axis(ax)
        canvas.style_axes(ax, "Share of the portfolio", title=curve.label)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   frameon=False, fontsize=9, title="asset class")
    canvas.date_axis(axes[-1])
    axes[-1].set_xlabel("Date")
    return fig
