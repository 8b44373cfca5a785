"""`MarketData`: the full, validated panel a data source produces.

Only trusted code (the harness, the roles' review code) holds a ``MarketData``. Strategies
see it through :meth:`MarketData.view`, which copies the rows up to a date into a
read-only :class:`~alphaloop.contract.MarketView`.

Arrays are ``[day, asset]`` (or ``[day]`` for macro series); prices are positive closes
(total-return adjusted), volumes are units traded per day.

Ragged panels: an asset is *listed* from its first to its last price. Outside that span
its price is NaN (not tradable); inside it every day has a finite positive price (files
forward-fill a missing day, see :mod:`alphaloop.data.calendar`). :attr:`MarketData.listed`
is the ``[day, asset]`` mask, :meth:`MarketData.listing` the span of one asset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from alphaloop.contract import AssetInfo, MarketView
from alphaloop.errors import Failure

__all__ = ["DataError", "MarketData"]


class DataError(Failure, ValueError):
    """Market data is missing, malformed or too short; the message says where and what to do."""


@dataclass(frozen=True, eq=False)
class MarketData:
    dates: pd.DatetimeIndex
    assets: tuple[AssetInfo, ...]
    prices: np.ndarray
    volumes: np.ndarray
    fundamentals: Mapping[str, np.ndarray] = field(default_factory=dict)
    macro: Mapping[str, np.ndarray] = field(default_factory=dict)
    source: str = "unknown"

    def __post_init__(self) -> None:
        n_days, n_assets = len(self.dates), len(self.assets)
        if n_days == 0 or n_assets == 0:
            raise DataError(f"{self.source}: market data needs at least one day and one asset")
        if not self.dates.is_monotonic_increasing or self.dates.has_duplicates:
            raise DataError(f"{self.source}: dates must be unique and increasing")
        tickers = [a.ticker for a in self.assets]
        if len(set(tickers)) != len(tickers):
            raise DataError(f"{self.source}: duplicate tickers in the universe")
        for name, arr in (("prices", self.prices), ("volumes", self.volumes)):
            if arr.shape != (n_days, n_assets):
                raise DataError(f"{self.source}: {name} has shape {arr.shape}, "
                                f"expected {(n_days, n_assets)}")
        _check_prices(self.prices, self.dates, tickers, self.source)
        for name, arr in self.fundamentals.items():
            if arr.shape != (n_days, n_assets):
                raise DataError(f"{self.source}: fundamental {name!r} has shape {arr.shape}")
        for name, arr in self.macro.items():
            if arr.shape != (n_days,):
                raise DataError(f"{self.source}: macro {name!r} has shape {arr.shape}")
        for arr in (self.prices, self.volumes, *self.fundamentals.values(),
                    *self.macro.values()):
            arr.setflags(write=False)

    # -- shape ------------------------------------------------------------------------
    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(a.ticker for a in self.assets)

    @property
    def asset_classes(self) -> dict[str, str]:
        return {a.ticker: a.asset_class for a in self.assets}

    @property
    def n_days(self) -> int:
        return len(self.dates)

    @property
    def returns(self) -> np.ndarray:
        """Simple daily returns ``[day, asset]``; zero where there is no prior close
        (row 0, an asset's first listed day) or no close (not listed)."""
        out = np.zeros_like(self.prices)
        with np.errstate(invalid="ignore"):
            out[1:] = self.prices[1:] / self.prices[:-1] - 1.0
        out[~np.isfinite(out)] = 0.0
        return out

    # -- listing ----------------------------------------------------------------------
    @property
    def listed(self) -> np.ndarray:
        """``[day, asset]`` mask: True where the asset has a price (is tradable)."""
        cached = self.__dict__.get("_listed")
        if cached is None:
            cached = np.isfinite(self.prices)
            cached.setflags(write=False)
            object.__setattr__(self, "_listed", cached)
        return cached

    @property
    def first_listed(self) -> np.ndarray:
        """Position of each asset's first listed day (``[asset]``, ints; 0 for an asset
        never listed in the panel, whose :attr:`listed` column is all False)."""
        return np.argmax(self.listed, axis=0)

    @property
    def last_listed(self) -> np.ndarray:
        """Position of each asset's last listed day (``[asset]``, ints)."""
        return self.n_days - 1 - np.argmax(self.listed[::-1], axis=0)

    @property
    def is_ragged(self) -> bool:
        """True when some asset is not listed on some day of the panel."""
        return not bool(self.listed.all())

    def listing(self, ticker: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last listed day of ``ticker``."""
        column = self._column(ticker)
        return (self.dates[int(self.first_listed[column])],
                self.dates[int(self.last_listed[column])])

    def _column(self, ticker: str) -> int:
        try:
            return self.tickers.index(ticker)
        except ValueError:
            raise DataError(f"{self.source}: unknown ticker {ticker!r}") from None

    def price_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.prices, index=self.dates, columns=list(self.tickers))

    # -- point-in-time access ---------------------------------------------------------
    def index_of(self, date: pd.Timestamp | str) -> int:
        """Position of the last trading day on or before ``date``."""
        ts = pd.Timestamp(date)
        pos = int(self.dates.searchsorted(ts, side="right")) - 1
        if pos < 0:
            raise DataError(f"{self.source}: no data on or before {ts.date()} "
                            f"(data starts {self.dates[0].date()})")
        return pos

    def view(self, position: int, lookback: int | None = None) -> MarketView:
        """A read-only view of rows ``[position - lookback + 1, position]`` (copies)."""
        if not 0 <= position < self.n_days:
            raise DataError(f"{self.source}: day {position} is outside the data")
        start = 0 if lookback is None else max(0, position + 1 - int(lookback))
        stamps, index = self._view_parts()
        return MarketView._from_rows(
            stamps[position], self.assets, index, slice(start, position + 1), stamps,
            self.prices, self.volumes, self.fundamentals, self.macro)

    def _view_parts(self) -> tuple[np.ndarray, Mapping[str, int]]:
        """The dates as ``datetime64[ns]`` and a read-only ticker -> column map, built once."""
        parts = self.__dict__.get("_view_cache")
        if parts is None:
            stamps = self.dates.values.astype("datetime64[ns]")
            stamps.setflags(write=False)
            index = MappingProxyType({a.ticker: i for i, a in enumerate(self.assets)})
            parts = (stamps, index)
            object.__setattr__(self, "_view_cache", parts)
        return parts

    def slice(self, start: pd.Timestamp | str | None = None,
              end: pd.Timestamp | str | None = None) -> MarketData:
        """A new panel holding only the days in ``[start, end]``."""
        mask = np.ones(self.n_days, dtype=bool)
        if start is not None:
            mask &= self.dates >= pd.Timestamp(start)
        if end is not None:
            mask &= self.dates <= pd.Timestamp(end)
        if not mask.any():
            raise DataError(f"{self.source}: no data between {start} and {end}")
        return MarketData(
            dates=self.dates[mask], assets=self.assets,
            prices=self.prices[mask].copy(), volumes=self.volumes[mask].copy(),
            fundamentals={k: v[mask].copy() for k, v in self.fundamentals.items()},
            macro={k: v[mask].copy() for k, v in self.macro.items()},
            source=self.source,
        )

    def select(self, tickers: Sequence[str]) -> MarketData:
        """A new panel holding only ``tickers`` (in that order)."""
        pos = {t: i for i, t in enumerate(self.tickers)}
        missing = [t for t in tickers if t not in pos]
        if missing:
            raise DataError(f"{self.source}: unknown tickers {missing}")
        cols = [pos[t] for t in tickers]
        return MarketData(
            dates=self.dates, assets=tuple(self.assets[c] for c in cols),
            prices=self.prices[:, cols].copy(), volumes=self.volumes[:, cols].copy(),
            fundamentals={k: v[:, cols].copy() for k, v in self.fundamentals.items()},
            macro=dict(self.macro), source=self.source,
        )

    # -- identity ---------------------------------------------------------------------
    def content_hash(self) -> str:
        """SHA-256 of every value in the panel: same data, same hash (computed once;
        the arrays are read-only, so it cannot go stale)."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            cached = self._compute_hash()
            object.__setattr__(self, "_content_hash", cached)
        return cached

    def _compute_hash(self) -> str:
        h = hashlib.sha256()
        h.update(",".join(f"{a.ticker}:{a.asset_class}" for a in self.assets).encode())
        h.update(self.dates.asi8.astype("<i8").tobytes())
        for name, arr in (("prices", self.prices), ("volumes", self.volumes),
                          *sorted(self.fundamentals.items()), *sorted(self.macro.items())):
            h.update(name.encode())
            h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
        return h.hexdigest()


def _check_prices(prices: np.ndarray, dates: pd.DatetimeIndex, tickers: list[str],
                  source: str) -> None:
    """Prices are positive and finite where listed, NaN outside one contiguous span.

    A column may be NaN throughout (an asset not listed in this stretch of time)."""
    listed = np.isfinite(prices)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(prices) | (listed & (prices <= 0))
    if bad.any():
        day, col = np.argwhere(bad)[0]
        raise DataError(
            f"{source}: price of {tickers[col]} on {dates[day].date()} is "
            f"{prices[day, col]}; prices must be positive and finite (NaN means not listed)")
    n_days = prices.shape[0]
    first = np.argmax(listed, axis=0)
    last = n_days - 1 - np.argmax(listed[::-1], axis=0)
    days = np.arange(n_days)[:, None]
    span = (days >= first) & (days <= last) & listed.any(axis=0)
    hole = span & ~listed
    if hole.any():
        day, col = np.argwhere(hole)[0]
        raise DataError(
            f"{source}: {tickers[col]} has no price on {dates[day].date()}, inside its "
            f"listing ({dates[first[col]].date()} to {dates[last[col]].date()}); a listed "
            "asset needs a price every day (fill the gap, e.g. with the last close)")
