"""`FMPSource`: a market panel built from FMP historical prices.

Each ticker's daily bars come from ``/historical-price-eod/full`` (through
:class:`~alphaloop.data.fmp_client.FMPClient`, so they are cached, rate-limited and
retried). The panel's calendar is the union of the exchange-traded assets' dates (crypto
trades every day, so it is sampled on those dates); a ticker missing a day is carried
forward at most ``max_fill_days`` days, with zero volume on the filled days, and the panel
starts on the first day every ticker has a price. Macro series (``VIX`` from ``^VIX`` by
default) come from the same endpoint. FMP data carries no fundamentals here: strategies
fall back to price signals.

The client's names are re-exported, so ``from alphaloop.data.fmp import FMPClient`` works.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from alphaloop.contract import ASSET_CLASSES, AssetInfo
from alphaloop.data.fmp_client import (
    DEFAULT_ENDPOINTS,
    FMPAuthError,
    FMPClient,
    FMPConfig,
    FMPError,
)
from alphaloop.data.panel import DataError, MarketData
from alphaloop.data.schema import DEFAULT_UNIVERSE

__all__ = ["DEFAULT_ENDPOINTS", "DEFAULT_MACRO_SYMBOLS", "FMPAuthError", "FMPClient",
           "FMPConfig", "FMPError", "FMPSource", "fmp_symbol"]

DEFAULT_MACRO_SYMBOLS: Mapping[str, str] = MappingProxyType({"VIX": "^VIX"})


def fmp_symbol(ticker: str, asset_class: str) -> str:
    """FMP's spelling of ``ticker``: crypto pairs drop the dash (``BTC-USD`` -> ``BTCUSD``)."""
    return ticker.replace("-", "") if asset_class == "crypto" else ticker


class FMPSource:
    """A :class:`~alphaloop.data.base.DataSource` of FMP daily prices and volumes."""

    def __init__(self, tickers_by_class: Mapping[str, Sequence[str]],
                 start: date | str, end: date | str, *, client: FMPClient,
                 symbols: Mapping[str, str] | None = None,
                 macro_symbols: Mapping[str, str] | None = None,
                 max_fill_days: int = 5) -> None:
        self.start = pd.Timestamp(start).normalize()
        self.end = pd.Timestamp(end).normalize()
        if self.end <= self.start:
            raise DataError(f"FMP source: end {self.end.date()} must be after start "
                            f"{self.start.date()}")
        assets: list[AssetInfo] = []
        for asset_class, tickers in tickers_by_class.items():
            if asset_class not in ASSET_CLASSES:
                raise DataError(f"FMP source: unknown asset class {asset_class!r}; use one "
                                f"of {', '.join(ASSET_CLASSES)}")
            assets.extend(AssetInfo(ticker=t, asset_class=asset_class)  # type: ignore[arg-type]
                          for t in tickers)
        tickers_seen = [a.ticker for a in assets]
        if not assets or len(set(tickers_seen)) != len(tickers_seen):
            raise DataError("FMP source: give each ticker once, in one asset class")
        self.assets = tuple(assets)
        self.client = client
        self.symbols = dict(symbols or {})
        self.macro_symbols = dict(DEFAULT_MACRO_SYMBOLS if macro_symbols is None
                                  else macro_symbols)
        self.max_fill_days = max_fill_days

    @property
    def name(self) -> str:
        """``fmp:start=...,end=...``, plus a digest of the universe when it is not the
        default one (only the default form can be reopened by ``open_source``)."""
        spec = f"fmp:start={self.start.date()},end={self.end.date()}"
        default = tuple(AssetInfo(ticker=t, asset_class=c)  # type: ignore[arg-type]
                        for c, tickers in DEFAULT_UNIVERSE.items() for t in tickers)
        if (self.assets == default and not self.symbols
                and self.macro_symbols == dict(DEFAULT_MACRO_SYMBOLS)):
            return spec
        universe = ",".join(f"{a.ticker}:{a.asset_class}={self.symbol(a)}"
                            for a in self.assets)
        universe += ";" + ",".join(f"{k}={v}" for k, v in self.macro_symbols.items())
        return f"{spec},universe={len(self.assets)}-{zlib.crc32(universe.encode()):08x}"

    def symbol(self, asset: AssetInfo) -> str:
        return self.symbols.get(asset.ticker) or fmp_symbol(asset.ticker, asset.asset_class)

    def _bars(self, symbol: str, ticker: str) -> pd.DataFrame:
        frame = self.client.historical_prices(symbol, str(self.start.date()),
                                              str(self.end.date()))
        frame = frame[(frame["date"] >= self.start) & (frame["date"] <= self.end)]
        if frame.empty:
            raise DataError(f"FMP returned no prices for {ticker} (symbol {symbol}) between "
                            f"{self.start.date()} and {self.end.date()}")
        return frame.set_index("date")

    def load(self) -> MarketData:
        try:
            bars = {a.ticker: self._bars(self.symbol(a), a.ticker) for a in self.assets}
        finally:
            self.client.close()  # no idle connection outlives a load
        exchange = [bars[a.ticker].index for a in self.assets if a.asset_class != "crypto"]
        calendar = pd.DatetimeIndex(sorted(set().union(*(exchange or
                                                         [b.index for b in bars.values()]))))
        closes = pd.DataFrame({t: b["close"].astype(float) for t, b in bars.items()}
                              ).reindex(calendar)
        volumes = pd.DataFrame({t: b["volume"].astype(float) for t, b in bars.items()}
                               ).reindex(calendar)
        filled = closes.ffill(limit=self.max_fill_days)
        complete = filled.notna().all(axis=1).to_numpy()
        if not complete.any():
            firsts = ", ".join(f"{t} {b.index[0].date()}" for t, b in bars.items())
            raise DataError(f"FMP data: no day on which every ticker has a price "
                            f"(first days: {firsts}); narrow the universe or the dates")
        first = int(np.argmax(complete))
        filled, closes, volumes = filled.iloc[first:], closes.iloc[first:], volumes.iloc[first:]
        gaps = filled.isna().to_numpy()
        if gaps.any():
            day, column = np.argwhere(gaps)[0]
            raise DataError(f"FMP data: {filled.columns[column]} has no price for more than "
                            f"{self.max_fill_days} days up to {filled.index[day].date()}; "
                            "raise max_fill_days or drop the ticker")
        volumes = volumes.mask(closes.isna(), 0.0)
        macro = {}
        for name, symbol in self.macro_symbols.items():
            series = self._bars(symbol, name)["close"].astype(float)
            macro[name] = (series.reindex(series.index.union(filled.index)).ffill()
                           .reindex(filled.index).to_numpy(float))
        return MarketData(dates=pd.DatetimeIndex(filled.index), assets=self.assets,
                          prices=filled.to_numpy(float), volumes=volumes.to_numpy(float),
                          macro=macro, source=self.name)

    def content_hash(self) -> str:
        return self.load().content_hash()

    def __repr__(self) -> str:
        return f"FMPSource({self.name})"
