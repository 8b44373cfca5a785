"""Real market crises, as data: the windows Risk replays where a panel covers them.

Each :class:`CrisisWindow` is a span of real dates. :func:`crisis_coverage` says, for a
panel, whether it covers a window with enough history before it for a strategy's
lookback, and if not, why not. A synthetic panel (its ``source`` starts with
``synthetic``) covers none: its dates are not real market days.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.data.panel import MarketData

__all__ = ["CRISIS_WINDOWS", "DEFAULT_HISTORY", "CrisisCoverage", "CrisisWindow",
           "crisis_coverage"]

SYNTHETIC_PREFIX = "synthetic"
"""Panels whose ``source`` starts so are generated: they cover no real crisis."""
DEFAULT_HISTORY = TRADING_DAYS_PER_YEAR
"""Sessions a panel must hold before a crisis for a strategy to have its history (a year)."""


class CrisisWindow(BaseModel):
    """A real crisis: its name, first and last day, and what happened."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    start: date
    end: date
    description: str


class CrisisCoverage(BaseModel):
    """Whether a panel can replay one crisis window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    start: date
    end: date
    covered: bool
    reason: str = Field(description="why it is covered or not, in a sentence")
    listed: list[str] = Field(default_factory=list,
                              description="assets listed on the window's first day")


CRISIS_WINDOWS: Mapping[str, CrisisWindow] = MappingProxyType({w.name: w for w in (
    CrisisWindow(name="gfc_2008", start=date(2008, 9, 1), end=date(2009, 3, 31),
                 description="the global financial crisis: Lehman Brothers' failure "
                             "(September 2008) to the equity low of March 2009"),
    CrisisWindow(name="covid_2020", start=date(2020, 2, 19), end=date(2020, 3, 31),
                 description="the COVID crash: the equity peak of 19 February 2020 through "
                             "the March liquidity squeeze"),
    CrisisWindow(name="rates_2022", start=date(2022, 1, 3), end=date(2022, 12, 30),
                 description="the 2022 rate shock: bonds and equities fell together as the "
                             "Federal Reserve raised rates by 4.25 points"),
)})
"""Crisis name -> :class:`CrisisWindow` (read-only); the one place these dates live."""


def crisis_coverage(data: MarketData, window: CrisisWindow, *,
                    history: int = DEFAULT_HISTORY) -> CrisisCoverage:
    """Whether ``data`` covers ``window`` with ``history`` sessions before it."""
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    first = int(data.dates.searchsorted(start, side="left"))
    common = {"name": window.name, "start": window.start, "end": window.end}
    if data.source.startswith(SYNTHETIC_PREFIX):
        return CrisisCoverage(covered=False, reason="the data is synthetic: its dates are "
                                                    "not real market days", **common)
    if data.dates[0] > start:
        return CrisisCoverage(covered=False, reason=f"the data starts "
                                                    f"{data.dates[0].date()}, after it began",
                              **common)
    if data.dates[-1] < end:
        reason = (f"the data ends {data.dates[-1].date()}, before the window ends"
                  if data.dates[-1] >= start else
                  f"the data ends {data.dates[-1].date()}, before the window")
        return CrisisCoverage(covered=False, reason=reason, **common)
    if first < history:
        return CrisisCoverage(
            covered=False, reason=f"only {first} sessions before {window.start}, fewer than "
                                  f"the {history} a strategy's lookback needs", **common)
    listed = [t for t, on in zip(data.tickers, data.listed[first], strict=True) if on]
    return CrisisCoverage(covered=True, listed=listed,
                          reason=f"{first} sessions before it; {len(listed)} of "
                                 f"{len(data.tickers)} assets listed at its start", **common)
