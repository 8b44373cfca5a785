"""Equity and drawdown charts comparing ``main`` with a cycle's branch, as PNG bytes.

Each :class:`Curve` is one strategy's daily net returns over the in-sample window and
the held-out window that follows it; the charts compound them from 1 and mark where the
held-out window begins with a dashed vertical line and a shaded band. Figures are drawn
with matplotlib's object API on the Agg canvas (no pyplot, so no global figure state),
and the PNG carries no timestamp or version, so the same data gives the same bytes.
matplotlib is imported when a chart is drawn, not with this module, so commands that
never draw one start without it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.errors import Failure
from alphaloop.harness.metrics import drawdown_series
from alphaloop.harness.result import BacktestResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Curve", "PlotError", "drawdown_png", "equity_png", "render_cycle_plots"]

_SIZE_INCHES = (10.0, 4.8)
_DPI = 100
_COLOURS = ("#1f4e9c", "#d9622b", "#2a9d5c", "#7b3fa0")
_HOLDOUT_COLOUR = "#8a8a8a"


class PlotError(Failure, ValueError):
    """The curves cannot be drawn; the message says what is wrong with them."""


class Curve(BaseModel):
    """One line on the charts: a label and daily net returns on trading dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    dates: tuple[date, ...] = Field(min_length=1)
    returns: tuple[float, ...]

    @model_validator(mode="after")
    def _aligned(self) -> Curve:
        if len(self.dates) != len(self.returns):
            raise ValueError(f"curve {self.label!r} has {len(self.dates)} dates but "
                             f"{len(self.returns)} returns")
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise ValueError(f"curve {self.label!r}: dates must be strictly increasing")
        if not np.all(np.isfinite(self.returns)):
            raise ValueError(f"curve {self.label!r} holds non-finite returns")
        return self

    @classmethod
    def from_results(cls, label: str, *results: BacktestResult) -> Curve:
        """Join backtests of adjacent windows (e.g. in-sample then holdout) into one curve.

        Days repeated by a later window are taken from the later one.
        """
        if not results:
            raise PlotError(f"curve {label!r} needs at least one backtest")
        series = pd.concat([r.returns_series() for r in results])
        series = series[~series.index.duplicated(keep="last")].sort_index()
        return cls(label=label, dates=tuple(d.date() for d in series.index),
                   returns=tuple(float(x) for x in series.to_numpy()))

    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(pd.to_datetime(list(self.dates)))

    def equity(self) -> np.ndarray:
        """Value of 1 invested, after each day."""
        return np.cumprod(1.0 + np.asarray(self.returns, dtype=float))

    def drawdown(self) -> np.ndarray:
        """Drawdown after each day, a positive fraction below the running peak."""
        return drawdown_series(np.asarray(self.returns, dtype=float))


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _mark_holdout(axes: Axes, curves: Sequence[Curve], holdout_start: date | None) -> None:
    if holdout_start is None:
        return
    last = max(c.dates[-1] for c in curves)
    start = pd.Timestamp(holdout_start)
    axes.axvspan(start, pd.Timestamp(last), color=_HOLDOUT_COLOUR, alpha=0.10, lw=0)
    axes.axvline(start, color=_HOLDOUT_COLOUR, linestyle="--", linewidth=1.4,
                 label=f"held-out window from {holdout_start.isoformat()}")
    to_axes = axes.get_xaxis_transform()  # x in dates, y as a fraction of the axes
    axes.text(start, 1.01, " held out ", transform=to_axes, ha="left", va="bottom",
              fontsize=9, color="#555555")
    axes.text(start, 1.01, " in-sample ", transform=to_axes, ha="right", va="bottom",
              fontsize=9, color="#555555")


def _finish(figure: Figure, axes: Axes, title: str, ylabel: str) -> bytes:
    axes.set_title(title, fontsize=13, loc="left")
    axes.set_xlabel("Date")
    axes.set_ylabel(ylabel)
    axes.grid(True, color="#dddddd", linewidth=0.8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="best", frameon=False, fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _check(curves: Sequence[Curve]) -> None:
    if not curves:
        raise PlotError("nothing to plot: pass at least one curve (main's backtest)")


def equity_png(curves: Sequence[Curve], *, holdout_start: date | None = None,
               title: str = "Equity: main vs branch") -> bytes:
    """A line chart of the value of 1 invested in each curve, as PNG bytes."""
    _check(curves)
    figure, axes = _figure()
    for colour, curve in zip(_COLOURS * len(curves), curves, strict=False):
        axes.plot(curve.index(), curve.equity(), color=colour, linewidth=1.6,
                  label=f"{curve.label} (total return {curve.equity()[-1] - 1:+.1%})")
    axes.axhline(1.0, color="#999999", linewidth=0.8)
    _mark_holdout(axes, curves, holdout_start)
    return _finish(figure, axes, title, "Value of 1 invested")


def drawdown_png(curves: Sequence[Curve], *, holdout_start: date | None = None,
                 title: str = "Drawdown: main vs branch") -> bytes:
    """Each curve's drawdown below its running peak in percent (0 at the top), as PNG."""
    from matplotlib.ticker import PercentFormatter

    _check(curves)
    figure, axes = _figure()
    for colour, curve in zip(_COLOURS * len(curves), curves, strict=False):
        drawdown = -curve.drawdown()
        axes.plot(curve.index(), drawdown, color=colour, linewidth=1.4,
                  label=f"{curve.label} (max drawdown {-drawdown.min():.1%})")
        axes.fill_between(curve.index(), drawdown, 0.0, color=colour, alpha=0.12, lw=0)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    _mark_holdout(axes, curves, holdout_start)
    return _finish(figure, axes, title, "Drawdown from peak")


def render_cycle_plots(curves: Sequence[Curve], *, holdout_start: date | None,
                       cycle_id: str) -> dict[str, bytes]:
    """``{"equity.png": ..., "drawdown.png": ...}`` for one cycle."""
    names = " vs ".join(c.label for c in curves)
    return {
        "equity.png": equity_png(curves, holdout_start=holdout_start,
                                 title=f"{cycle_id}: equity, {names}"),
        "drawdown.png": drawdown_png(curves, holdout_start=holdout_start,
                                     title=f"{cycle_id}: drawdown, {names}"),
    }
