"""The equity and drawdown chart of one backtest, as a PNG.

Two panels share the date axis: the portfolio value compounded from its daily net
returns (with an optional benchmark line), and the drawdown below its running peak in
percent. Figures are built with matplotlib's object API on the Agg canvas (no pyplot,
so no global figure state) at 1200 x 750 pixels, readable at 100% zoom. matplotlib is
imported when a chart is drawn, not with this module, so commands that never draw one
start without it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alphaloop.harness.metrics import drawdown_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["equity_figure", "equity_png", "plot_equity"]

_SIZE_INCHES = (12.0, 7.5)
_DPI = 100
_STRATEGY_COLOUR = "#1f4e9c"
_BENCHMARK_COLOUR = "#8a8a8a"
_DRAWDOWN_COLOUR = "#c0392b"


def _checked(returns: pd.Series, what: str) -> pd.Series:
    if not isinstance(returns, pd.Series) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ValueError(f"{what} must be a pandas Series of daily returns indexed by date")
    if returns.empty:
        raise ValueError(f"{what} is empty: there is nothing to plot")
    if not np.all(np.isfinite(returns.to_numpy(dtype=float))):
        raise ValueError(f"{what} holds non-finite returns; clean them before plotting")
    return returns.astype(float)


def _money(value: float, _position: object) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.2f}{suffix}"
    return f"{value:,.2f}"


def equity_figure(
    returns: pd.Series,
    *,
    title: str,
    initial_value: float = 1.0,
    benchmark: pd.Series | None = None,
    strategy_label: str = "strategy",
    benchmark_label: str = "benchmark",
) -> Figure:
    """A two-panel figure: value of ``initial_value`` invested, and drawdown in percent."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    returns = _checked(returns, "returns")
    curves = [(strategy_label, returns, _STRATEGY_COLOUR, 1.8)]
    if benchmark is not None:
        curves.append((benchmark_label, _checked(benchmark, "benchmark"), _BENCHMARK_COLOUR,
                       1.3))

    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(2.2, 1.0))
    figure.suptitle(title, fontsize=13)

    for label, series, colour, width in reversed(curves):
        values = initial_value * np.cumprod(1.0 + series.to_numpy())
        top.plot(series.index, values, color=colour, linewidth=width, label=label)
        drawdown = -100.0 * drawdown_series(series.to_numpy())
        if label == strategy_label:
            bottom.fill_between(series.index, drawdown, 0.0, color=_DRAWDOWN_COLOUR,
                                alpha=0.35, linewidth=0.0)
            bottom.plot(series.index, drawdown, color=_DRAWDOWN_COLOUR, linewidth=1.0,
                        label=f"{label} (worst {drawdown.min():.1f}%)")
        else:
            bottom.plot(series.index, drawdown, color=colour, linewidth=1.0, label=label)

    top.set_ylabel("Portfolio value" if initial_value != 1.0 else "Growth of 1")
    top.yaxis.set_major_formatter(FuncFormatter(_money))
    top.axhline(initial_value, color="black", linewidth=0.6, alpha=0.4)
    for axes in (top, bottom):  # strategy first in the legends
        handles, labels = axes.get_legend_handles_labels()
        axes.legend(handles[::-1], labels[::-1], loc="upper left" if axes is top else
                    "lower left", frameon=False)
    bottom.set_ylabel("Drawdown")
    bottom.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    bottom.set_xlabel("Date")
    locator = AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    for axes in (top, bottom):
        axes.grid(True, linewidth=0.5, alpha=0.4)
        axes.tick_params(labelsize=10)
        axes.spines[["top", "right"]].set_visible(False)
    return figure


def equity_png(returns: pd.Series, *, title: str, initial_value: float = 1.0,
               benchmark: pd.Series | None = None, strategy_label: str = "strategy",
               benchmark_label: str = "benchmark") -> bytes:
    """The chart of :func:`equity_figure` as PNG bytes (no timestamp, reproducible)."""
    figure = equity_figure(returns, title=title, initial_value=initial_value,
                           benchmark=benchmark, strategy_label=strategy_label,
                           benchmark_label=benchmark_label)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def plot_equity(path: Path, returns: pd.Series, *, title: str, initial_value: float = 1.0,
                benchmark: pd.Series | None = None, strategy_label: str = "strategy",
                benchmark_label: str = "benchmark") -> Path:
    """Write the equity and drawdown chart of ``returns`` to ``path`` as a PNG."""
    payload = equity_png(returns, title=title, initial_value=initial_value,
                         benchmark=benchmark, strategy_label=strategy_label,
                         benchmark_label=benchmark_label)
    Path(path).write_bytes(payload)
    return Path(path)
