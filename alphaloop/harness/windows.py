"""Backtest windows: a named date range, and the research split of a data set.

:func:`research_windows` cuts the data the way AlphaLoop's roles use it:

- the **holdout**: the most recent ``holdout_days`` trading days up to ``end`` (the
  clock); :data:`HOLDOUT_DAYS` (two years) unless asked otherwise, and at least
  :data:`MIN_HOLDOUT_DAYS`. Only Risk reads it; it is the out-of-sample check of a change.
- the **in-sample** period: everything before the holdout (after an optional warm-up),
  the only data the Quant researches on.
- **walk-forward folds** inside the in-sample period only. The in-sample days are cut
  into ``n_folds + 1`` consecutive blocks of (nearly) equal length; fold ``k`` trains on
  blocks ``0..k`` (an *expanding* window that always starts at the in-sample start) and
  tests on block ``k + 1``. Test blocks never overlap and never reach the holdout.

Windows are inclusive date ranges. A window is resolved against a data set with
:meth:`Window.bounds`, which returns the positions of its first and last trading days.

pandas and the data panel are imported where a function needs them: the command line
reads :data:`HOLDOUT_DAYS` for its help and starts without them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.harness.errors import WindowError

if TYPE_CHECKING:
    import pandas as pd

    from alphaloop.data.panel import MarketData

__all__ = [
    "HOLDOUT_DAYS",
    "MIN_FOLD_DAYS",
    "MIN_HOLDOUT_DAYS",
    "MIN_WINDOW_DAYS",
    "Fold",
    "ResearchWindows",
    "Window",
    "WindowName",
    "full_window",
    "named_window",
    "research_windows",
]

MIN_WINDOW_DAYS = 2
"""A backtest needs a day to invest on and at least one day of returns after it."""

MIN_FOLD_DAYS = 21
"""Each walk-forward block holds at least about one month of trading days."""

HOLDOUT_DAYS = 2 * TRADING_DAYS_PER_YEAR
"""The held-out window's default length: the two most recent years (504 trading days).

The one default of ``alphaloop cycle --holdout-days``, ``alphaloop backtest
--holdout-days``, :class:`~alphaloop.cycle.options.CycleOptions` and the windows here.
"""

MIN_HOLDOUT_DAYS = 20
"""The shortest held-out window anything accepts.

Risk judges a change on the held-out days with the paired test, which needs at least
:data:`alphaloop.harness.compare.MIN_DAYS` (20) days; a shorter window could not judge.
"""

WindowName = Literal["full", "in-sample", "holdout"]


def _day(value: date | str | pd.Timestamp) -> date:
    import pandas as pd

    return pd.Timestamp(value).date()


class Window(BaseModel):
    """An inclusive range of dates to backtest over, with a label for reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date
    label: str = Field(default="custom", min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            raise ValueError(f"window {self.label!r} ends ({self.end}) before it starts "
                             f"({self.start}); swap the dates")
        return self

    def bounds(self, data: MarketData) -> tuple[int, int]:
        """Positions of the first and last trading days of ``data`` inside this window.

        Raises :class:`WindowError` naming the dates when fewer than
        :data:`MIN_WINDOW_DAYS` trading days fall inside.
        """
        import pandas as pd

        first = int(data.dates.searchsorted(pd.Timestamp(self.start), side="left"))
        last = int(data.dates.searchsorted(pd.Timestamp(self.end), side="right")) - 1
        n_days = last - first + 1
        if n_days < MIN_WINDOW_DAYS:
            span = f"{data.dates[0].date()} to {data.dates[-1].date()}"
            found = "no trading day" if n_days <= 0 else f"only {n_days} trading day"
            raise WindowError(
                f"window {self.label!r} ({self.start} to {self.end}) holds {found} of the "
                f"data {data.source!r}, which runs from {span}; a backtest needs at least "
                f"{MIN_WINDOW_DAYS} trading days: widen the window or use other data"
            )
        return first, last


class Fold(BaseModel):
    """One walk-forward step: decide on ``train``'s history, measure on ``test``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    train: Window
    test: Window


class ResearchWindows(BaseModel):
    """The in-sample period, the held-out tail and the walk-forward folds of a data set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_sample: Window
    holdout: Window
    folds: tuple[Fold, ...] = ()
    scheme: Literal["expanding"] = "expanding"


def full_window(data: MarketData, label: str = "full") -> Window:
    """The window covering every day of ``data``."""
    return Window(start=data.dates[0].date(), end=data.dates[-1].date(), label=label)


def _window(data: MarketData, first: int, last: int, label: str) -> Window:
    return Window(start=data.dates[first].date(), end=data.dates[last].date(), label=label)


def research_windows(
    data: MarketData,
    *,
    holdout_days: int = HOLDOUT_DAYS,
    n_folds: int = 4,
    end: date | str | pd.Timestamp | None = None,
    warmup_days: int = 0,
) -> ResearchWindows:
    """Split ``data`` up to ``end`` into in-sample, holdout and walk-forward folds.

    ``end`` is the clock (default: the last day of the data); nothing after it is used.
    ``warmup_days`` trading days at the start are left out of the in-sample period so
    that the first decision already sees that much history.
    """
    from alphaloop.data.panel import DataError

    if holdout_days < MIN_HOLDOUT_DAYS:
        raise WindowError(f"holdout_days must be at least {MIN_HOLDOUT_DAYS}, got {holdout_days}")
    if n_folds < 0 or warmup_days < 0:
        raise WindowError(f"n_folds ({n_folds}) and warmup_days ({warmup_days}) must not be "
                          "negative")
    try:
        last = data.index_of(end) if end is not None else data.n_days - 1
    except DataError as exc:
        raise WindowError(str(exc)) from None
    holdout_first = last - holdout_days + 1
    in_sample_days = holdout_first - warmup_days
    needed = max(MIN_WINDOW_DAYS, (n_folds + 1) * MIN_FOLD_DAYS if n_folds else 0)
    if in_sample_days < needed:
        clock = data.dates[last].date()
        raise WindowError(
            f"the data {data.source!r} ({data.dates[0].date()} to {clock}, {last + 1} "
            f"trading days up to the clock) is too short for a {holdout_days}-day holdout, "
            f"{warmup_days} warm-up days and an in-sample period of at least {needed} days "
            f"({n_folds} walk-forward folds): use a longer history, a shorter holdout or "
            "fewer folds"
        )
    in_sample = _window(data, warmup_days, holdout_first - 1, "in-sample")
    holdout = _window(data, holdout_first, last, "holdout")
    edges = [warmup_days + round(i * in_sample_days / (n_folds + 1)) for i in range(n_folds + 2)]
    folds = tuple(
        Fold(
            index=k,
            train=_window(data, edges[0], edges[k + 1] - 1, f"fold-{k + 1}-train"),
            test=_window(data, edges[k + 1], edges[k + 2] - 1, f"fold-{k + 1}-test"),
        )
        for k in range(n_folds)
    )
    return ResearchWindows(in_sample=in_sample, holdout=holdout, folds=folds)


def named_window(
    data: MarketData,
    name: WindowName,
    *,
    holdout_days: int = HOLDOUT_DAYS,
    end: date | str | pd.Timestamp | None = None,
) -> Window:
    """The ``full``, ``in-sample`` or ``holdout`` window of ``data`` up to ``end``."""
    if name == "full":
        window = full_window(data)
        if end is None:
            return window
        return Window(start=window.start, end=min(window.end, _day(end)), label="full")
    split = research_windows(data, holdout_days=holdout_days, n_folds=0, end=end)
    if name == "in-sample":
        return split.in_sample
    if name == "holdout":
        return split.holdout
    raise WindowError(f"unknown window {name!r}; use full, in-sample or holdout")
