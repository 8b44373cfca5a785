"""Aligning observations of many assets on one calendar, point-in-time honest.

Every asset of a panel shares one row per *session*. The rule:

1. **The calendar.** ``auto`` (the default) uses the sessions of the New York Stock
   Exchange (``XNYS`` from ``exchange-calendars``) when any asset is not crypto, and a
   plain 7-day calendar (``24/7``: every calendar day) when all assets are crypto. Any
   other exchange-calendars name (``XLON``, ``XTKS``, ...) may be asked for, or ``file``:
   the file's own dates, every row on its own date (for panels already aligned).
2. **When an observation is usable.** An observation is usable at the first session
   close at or after its own close time. A daily bar of an exchange-traded asset dated
   ``D`` closes with the exchange on ``D``: it belongs to session ``D`` (or, dated on a
   day without a session, to the next session). A crypto daily bar (Yahoo and most
   vendors: UTC days) closes at 24:00 UTC, after the NYSE close of the same date, so a
   crypto bar dated ``D`` belongs to the first session *after* ``D``: Friday's,
   Saturday's and Sunday's bars all belong to Monday's session. On the 7-day calendar a
   crypto bar belongs to its own date. The panel ends with the last session of its
   exchange-traded assets: a crypto bar usable only after it (the file's last day) is
   left out and counted as ``dropped_rows``.
3. **Several observations for one session.** The latest one gives the price (and the
   fundamental fields); volumes are added up (volume traded since the previous session).
4. **Listing.** An asset is listed from the session of its first observation to the
   session of its last; before and after, its price is NaN (not tradable).
5. **Gaps.** A session inside an asset's listing with no observation keeps the last
   price (forward fill) with volume NaN (unknown); every filled session is reported.

:func:`align` returns the grids and an :class:`Alignment` report that says, per asset,
how it was aligned, how many rows were folded into later sessions and which sessions
were filled.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.data.defaults import AUTO
from alphaloop.data.panel import DataError

__all__ = [
    "AUTO",
    "DEFAULT_EXCHANGE",
    "FILE_DATES",
    "SEVEN_DAYS",
    "AlignedGrids",
    "Alignment",
    "AssetAlignment",
    "align",
    "choose_calendar",
]

SEVEN_DAYS = "24/7"
FILE_DATES = "file"
DEFAULT_EXCHANGE = "XNYS"
_CRYPTO = "crypto"
_MAX_LISTED_GAPS = 20

Rule = Literal["same session", "next session after its UTC day", "own date"]


class AssetAlignment(BaseModel):
    """How one asset's rows were placed on the calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: str
    asset_class: str
    rule: Rule
    rows: int = Field(description="rows of the asset in the input")
    first_date: date = Field(description="date of its first row")
    last_date: date = Field(description="date of its last row")
    first_session: date
    last_session: date
    sessions: int = Field(description="sessions from its first to its last, inclusive")
    observed: int = Field(description="sessions holding at least one of its rows")
    merged_rows: int = Field(description="rows folded into a session with a later row "
                                         "(weekends, holidays): rows - observed")
    filled: int = Field(description="sessions without a row: last price kept, volume NaN")
    dropped_rows: int = Field(default=0, description="rows usable only after the panel's "
                                                     "last session, left out")
    filled_sessions: list[date] = Field(
        default_factory=list, description=f"the first {_MAX_LISTED_GAPS} filled sessions")

    @property
    def coverage(self) -> float:
        """Share of its listed sessions that hold a row of its own."""
        return self.observed / self.sessions if self.sessions else 0.0


class Alignment(BaseModel):
    """The calendar a panel was aligned on, and each asset's alignment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calendar: str
    sessions: int
    first_session: date
    last_session: date
    assets: list[AssetAlignment]

    @property
    def filled(self) -> int:
        return sum(a.filled for a in self.assets)


class AlignedGrids(BaseModel):
    """``[session, asset]`` arrays built by :func:`align`, with the report."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    sessions: pd.DatetimeIndex
    prices: np.ndarray
    volumes: np.ndarray
    fundamentals: dict[str, np.ndarray]
    alignment: Alignment


def choose_calendar(classes: Mapping[str, str], requested: str = AUTO) -> str:
    """The calendar ``auto`` resolves to for these asset classes (or ``requested``)."""
    if requested != AUTO:
        return requested
    if classes and all(c == _CRYPTO for c in classes.values()):
        return SEVEN_DAYS
    return DEFAULT_EXCHANGE


def _sessions(name: str, usable: pd.DatetimeIndex) -> pd.DatetimeIndex:
    first, last = usable.min(), usable.max()
    if name == SEVEN_DAYS:
        return pd.date_range(first, last, freq="D")
    if name == FILE_DATES:
        return pd.DatetimeIndex(usable.unique()).sort_values()
    import exchange_calendars as xcals  # imported here: building the module is slow

    try:
        with warnings.catch_warnings():  # exchange-calendars 4.x on pandas 3 warns inside
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            calendar = xcals.get_calendar(name, start=first - pd.Timedelta(days=7),
                                          end=last + pd.Timedelta(days=31))
    except (xcals.errors.InvalidCalendarName, ValueError) as exc:  # type: ignore[attr-defined]
        raise DataError(f"calendar {name!r}: {exc}; use auto, {SEVEN_DAYS}, {FILE_DATES} or "
                        "an exchange-calendars name such as XNYS") from None
    sessions = pd.DatetimeIndex(calendar.sessions)
    if sessions.tz is not None:
        sessions = sessions.tz_localize(None)
    return sessions


def _rules(name: str, classes: Sequence[str]) -> list[Rule]:
    if name in (SEVEN_DAYS, FILE_DATES):
        return ["own date" for _ in classes]
    return ["next session after its UTC day" if c == _CRYPTO else "same session"
            for c in classes]


def align(dates: pd.DatetimeIndex, columns: np.ndarray, order: Sequence[str],
          classes: Mapping[str, str], close: np.ndarray, volume: np.ndarray | None,
          fundamentals: Mapping[str, np.ndarray], calendar: str = AUTO) -> AlignedGrids:
    """Place rows (``dates[i]``, asset ``order[columns[i]]``) on one calendar.

    Rows of each asset must be in increasing date order (checked by the caller). See the
    module docstring for the rule.
    """
    name = choose_calendar({t: classes[t] for t in order}, calendar)
    rules = _rules(name, [classes[t] for t in order])
    next_day = np.array([r == "next session after its UTC day" for r in rules])[columns]
    usable = pd.DatetimeIndex(dates + pd.to_timedelta(next_day.astype(int), unit="D"))
    sessions = _sessions(name, usable)
    position = sessions.searchsorted(usable, side="left")
    beyond = position >= len(sessions)
    if beyond.any():
        row = int(np.flatnonzero(beyond)[0])
        raise DataError(f"calendar {name}: no session on or after {usable[row].date()} "
                        f"(row of {order[columns[row]]} dated {dates[row].date()})")
    exchange = ~next_day
    keep = np.ones(len(position), dtype=bool)
    if next_day.any() and exchange.any():
        keep = position <= position[exchange].max()
    used = np.unique(position[keep])
    lo, hi = int(used[0]), int(used[-1])
    sessions = sessions[lo:hi + 1]
    position = position - lo
    n_days, n_assets = len(sessions), len(order)

    frame = pd.DataFrame({"col": columns, "day": position,
                          "i": np.arange(len(columns))})[keep]
    groups = frame.groupby(["col", "day"], sort=False)
    latest = groups["i"].max().to_numpy()
    keys = groups["i"].max().index
    cols = keys.get_level_values("col").to_numpy()
    days = keys.get_level_values("day").to_numpy()

    prices = np.full((n_days, n_assets), np.nan)
    prices[days, cols] = close[latest]
    volumes = np.full((n_days, n_assets), np.nan)
    if volume is not None:
        frame["volume"] = volume[keep]
        summed = frame.groupby(["col", "day"], sort=False)["volume"].sum(min_count=1)
        volumes[days, cols] = summed.to_numpy()
    grids = {}
    for field, values in fundamentals.items():
        grid = np.full((n_days, n_assets), np.nan)
        grid[days, cols] = values[latest]
        grids[field] = grid

    observed = ~np.isnan(prices)
    first = np.argmax(observed, axis=0)
    last = n_days - 1 - np.argmax(observed[::-1], axis=0)
    index = np.arange(n_days)[:, None]
    span = (index >= first) & (index <= last) & observed.any(axis=0)
    filled_mask = span & ~observed
    prices = pd.DataFrame(prices).ffill().to_numpy(copy=True)
    prices[~span] = np.nan

    assets = []
    counts = np.bincount(columns, minlength=n_assets)
    dropped = np.bincount(columns[~keep], minlength=n_assets)
    for j, ticker in enumerate(order):
        own = np.flatnonzero(columns == j)
        gaps = sessions[filled_mask[:, j]]
        n_observed = int(observed[:, j].sum())
        assets.append(AssetAlignment(
            ticker=ticker, asset_class=classes[ticker], rule=rules[j], rows=int(counts[j]),
            first_date=dates[own[0]].date(), last_date=dates[own[-1]].date(),
            first_session=sessions[first[j]].date(), last_session=sessions[last[j]].date(),
            sessions=int(last[j] - first[j] + 1), observed=n_observed,
            merged_rows=int(counts[j] - dropped[j]) - n_observed, filled=len(gaps),
            dropped_rows=int(dropped[j]),
            filled_sessions=[d.date() for d in gaps[:_MAX_LISTED_GAPS]]))
    report = Alignment(calendar=name, sessions=n_days, first_session=sessions[0].date(),
                       last_session=sessions[-1].date(), assets=assets)
    return AlignedGrids(sessions=sessions, prices=prices, volumes=volumes,
                        fundamentals=grids, alignment=report)
