"""What every chart of the walkthrough shares: styles, the canvas, the held-out band.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot, so no
global figure state), and a PNG carries no timestamp or version, so the same data gives
the same bytes. matplotlib is imported inside these functions, when a chart is drawn,
never with the module, so commands that draw nothing start without it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["BENCHMARK_STYLES", "BRANCH", "MAIN", "Style", "date_axis", "days", "encode",
           "figure", "mark_holdout", "note", "percent_axis", "png", "pngs", "pp_axis",
           "rasterise", "style_axes"]

DPI = 100
HOLDOUT_COLOUR = "#8a8a8a"
GRID_COLOUR = "#dddddd"


class Style(NamedTuple):
    """How one line is drawn: colour, dash pattern, width."""

    colour: str
    linestyle: str | tuple[int, tuple[int, ...]]
    width: float


MAIN = Style("#1f4e9c", "-", 1.8)
"""``main``: solid dark blue, the reference line."""
BRANCH = Style("#d9622b", (0, (5, 2)), 1.6)
"""The branch: dashed orange, drawn over ``main`` so both show where they coincide."""
BENCHMARK_STYLES: tuple[Style, ...] = (Style("#8a8a8a", "-", 1.0),
                                       Style("#3b3b3b", (0, (1, 1.5)), 1.2))
"""Benchmarks: thin greys (equal weight solid, 60/40 dotted), behind the strategy."""


def figure(width: float, height: float, rows: int = 1,
           height_ratios: Sequence[float] | None = None,
           sharex: bool = True) -> tuple[Figure, list[Axes]]:
    """A figure of ``width`` x ``height`` inches with ``rows`` panels, one above the
    other, sharing the x axis unless ``sharex`` is false."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    if rows == 1:
        return fig, [fig.add_subplot()]
    axes = fig.subplots(rows, 1, sharex=sharex, height_ratios=height_ratios)
    return fig, list(axes)


def days(index: pd.DatetimeIndex) -> np.ndarray:
    """``index`` as the x values of a line: a ``datetime64`` array, which matplotlib
    converts at once (a :class:`pandas.DatetimeIndex` it first walks as Timestamps)."""
    return index.to_numpy(dtype="datetime64[ns]")


def mark_holdout(axes: Axes, last: date, holdout_start: date | None, *,
                 label: bool = True, text: bool = True) -> None:
    """Shade the held-out window (from ``holdout_start`` to ``last``) and mark its start."""
    if holdout_start is None:
        return
    start = pd.Timestamp(holdout_start)
    axes.axvspan(start, pd.Timestamp(last), color=HOLDOUT_COLOUR, alpha=0.10, lw=0)
    axes.axvline(start, color=HOLDOUT_COLOUR, linestyle="--", linewidth=1.2,
                 label=f"held-out window\nfrom {holdout_start.isoformat()}" if label else None)
    if text:
        to_axes = axes.get_xaxis_transform()  # x in dates, y as a fraction of the axes
        for words, side in ((" held out ", "left"), (" in-sample ", "right")):
            axes.text(start, 1.01, words, transform=to_axes, ha=side, va="bottom",
                      fontsize=9, color="#555555")


def percent_axis(axes: Axes, decimals: int | None = 0) -> None:
    """Show the y axis's fractions as percents (0.05 -> 5%)."""
    from matplotlib.ticker import PercentFormatter

    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


def pp_axis(axes: Axes) -> None:
    """Label the y axis's differences of fractions in percentage points (0.0123 -> 1.23
    pp), with as many decimals as the axis's range needs."""
    from matplotlib.ticker import PercentFormatter

    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None, symbol=" pp"))


def date_axis(axes: Axes) -> None:
    """Concise date ticks (years, then months where the span is short)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def style_axes(axes: Axes, ylabel: str, *, title: str | None = None,
               legend: bool = False) -> None:
    """Grid, label, optional title; no top or right frame. The legend, when asked for,
    sits to the right of the panel, where it never hides a line."""
    if title:
        axes.set_title(title, fontsize=11, loc="left")
    axes.set_ylabel(ylabel)
    axes.grid(True, color=GRID_COLOUR, linewidth=0.8)
    axes.spines[["top", "right"]].set_visible(False)
    if legend:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                    fontsize=9)


def note(axes: Axes, text: str) -> None:
    """A grey remark centred in the upper part of a panel, on white, over any line."""
    axes.text(0.5, 0.75, text, transform=axes.transAxes, ha="center", va="center",
              fontsize=10, color="#555555",
              bbox={"facecolor": "white", "edgecolor": "none", "pad": 3.0})


def _fix_date_ticks(fig: Figure) -> None:
    """Replace each date axis's locator by the dates it picks now, once the lines are
    drawn: where they fall depends on the span only, not on the panel's size, and the
    layout and the drawing ask for them many times over."""
    from matplotlib.dates import AutoDateLocator
    from matplotlib.ticker import FixedLocator

    for axes in fig.axes:
        if isinstance(axes.xaxis.get_major_locator(), AutoDateLocator):
            axes.xaxis.set_major_locator(FixedLocator(axes.xaxis.get_majorticklocs()))


def rasterise(fig: Figure) -> np.ndarray:
    """The figure drawn on its Agg canvas: RGBA pixels ``[row, column, channel]``.

    The layout runs once, here, and is then switched off (savefig would draw the whole
    figure once more, without output, to run it).
    """
    _fix_date_ticks(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)  # None, not "none": that keeps a placeholder engine
    fig.canvas.draw()
    return np.array(fig.canvas.buffer_rgba())


def encode(pixels: np.ndarray) -> bytes:
    """``pixels`` as PNG bytes, as savefig writes them, without metadata that would
    change from run to run."""
    from matplotlib.image import imsave

    buffer = io.BytesIO()
    imsave(buffer, pixels, format="png", origin="upper", dpi=DPI,
           metadata={"Software": None})
    return buffer.getvalue()


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (:func:`rasterise`, then :func:`encode`)."""
    return encode(rasterise(fig))


def pngs(figures: Iterable[tuple[str, Callable[[], Figure]]]) -> dict[str, bytes]:
    """Each named figure built and drawn in turn, as PNG bytes by name. A second thread
    compresses each picture while the next is drawn: compression lets go of the
    interpreter lock, drawing does not."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="png") as compressor:
        pending = {name: compressor.submit(encode, rasterise(build()))
                   for name, build in figures}
    return {name: job.result() for name, job in pending.items()}
