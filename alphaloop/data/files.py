"""`FileSource`: market data from a CSV or Parquet file, validated with precise errors.

Two layouts are understood:

- **long**: one row per (date, ticker) with columns ``date, ticker, close`` and
  optionally ``volume``, ``asset_class`` and any fundamental field of
  :data:`alphaloop.data.schema.FUNDAMENTAL_FIELDS` (empty cells are NaN);
- **wide**: a ``date`` column and one close-price column per ticker.

``layout="auto"`` picks long when a ``ticker`` column exists. Asset classes come from
the ``asset_class`` column, else from ``asset_classes``, else from the FinSage default
universe. Every problem raises :class:`DataError` naming the file, the row (the 1-based
line of a CSV file, the 1-based row of a Parquet table) and the column.

Assets may start and end on different dates (a *ragged* file): in the long layout an
asset simply has no rows outside its life, in the wide layout its cells are empty. The
rows are placed on one calendar by the rule of :mod:`alphaloop.data.calendar` (NYSE
sessions by default, crypto bars in the session after their UTC day); each asset's
price is NaN before its first and after its last row, and a session missing inside its
life keeps the last price (volume NaN). :meth:`FileSource.load_aligned` also returns the
:class:`~alphaloop.data.calendar.Alignment` report saying how each asset was aligned.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from alphaloop.contract import ASSET_CLASSES, AssetInfo
from alphaloop.data._table import RawTable, read_table
from alphaloop.data.calendar import AUTO, Alignment, align
from alphaloop.data.panel import DataError, MarketData
from alphaloop.data.schema import FUNDAMENTAL_FIELDS, default_asset_class

__all__ = ["LONG_COLUMNS", "FileSource", "Layout"]

Layout = Literal["auto", "long", "wide"]
LONG_COLUMNS: tuple[str, ...] = ("date", "ticker", "close", "volume", "asset_class")
"""Reserved columns of the long layout (fundamental fields may follow)."""


class FileSource:
    """A :class:`~alphaloop.data.base.DataSource` reading one CSV or Parquet file."""

    def __init__(self, path: str | Path, *, asset_classes: Mapping[str, str] | None = None,
                 layout: Layout = "auto", calendar: str = AUTO) -> None:
        if layout not in ("auto", "long", "wide"):
            raise DataError(f"unknown layout {layout!r}; use 'auto', 'long' or 'wide'")
        self.path = Path(path)
        self.asset_classes = dict(asset_classes or {})
        self.layout: Layout = layout
        self.calendar = calendar

    @property
    def name(self) -> str:
        return f"file:{self.path}"

    def load(self) -> MarketData:
        return self.load_aligned()[0]

    def load_aligned(self) -> tuple[MarketData, Alignment]:
        """The panel and the report of how each asset was placed on the calendar."""
        table = read_table(self.path)
        for ticker, asset_class in self.asset_classes.items():
            if asset_class not in ASSET_CLASSES:
                raise table.error(None, None,
                                  f"asset_classes[{ticker!r}]: unknown asset class "
                                  f"{asset_class!r}; use one of {', '.join(ASSET_CLASSES)}")
        long = self.layout == "long" or (
            self.layout == "auto" and "ticker" in {c.lower() for c in table.frame.columns})
        return self._load_long(table) if long else self._load_wide(table)

    def content_hash(self) -> str:
        return self.load().content_hash()

    def __repr__(self) -> str:
        return (f"FileSource({str(self.path)!r}, layout={self.layout!r}, "
                f"calendar={self.calendar!r})")

    # -- long layout --------------------------------------------------------------------
    def _load_long(self, table: RawTable) -> tuple[MarketData, Alignment]:
        frame = table.frame.rename(columns=str.lower)
        table = RawTable(table.path, frame, table.place)
        allowed = set(LONG_COLUMNS) | set(FUNDAMENTAL_FIELDS)
        unknown = [c for c in frame.columns if c not in allowed]
        if unknown:
            raise table.error(None, unknown[0],
                              f"unknown column; the long layout allows "
                              f"{', '.join(LONG_COLUMNS)} and the fundamental fields "
                              f"{', '.join(FUNDAMENTAL_FIELDS)}")
        for required in ("date", "ticker", "close"):
            if required not in frame.columns:
                raise table.error(None, required, "required column is absent")

        dates = table.dates("date")
        missing_ticker = table.missing("ticker")
        if missing_ticker.any():
            raise table.error(int(np.flatnonzero(missing_ticker)[0]), "ticker",
                              "missing value; every row needs a ticker")
        tickers = frame["ticker"].astype(str).str.strip().to_numpy()
        close = table.numbers("close", required=True)
        _check_positive(table, close, "close")
        volume = table.numbers("volume", required=True) if "volume" in frame else None
        if volume is not None and (volume < 0).any():
            row = int(np.flatnonzero(volume < 0)[0])
            raise table.error(row, "volume", f"negative volume {volume[row]:g}")
        _check_date_order(table, dates, tickers)

        order = list(dict.fromkeys(tickers))
        classes = self._classes_long(table, tickers, order)
        column_of = pd.Index(order).get_indexer(tickers)
        row_class = np.array([classes[t] for t in order])[column_of]

        fundamentals = {}
        for field in (c for c in frame.columns if c in FUNDAMENTAL_FIELDS):
            values = table.numbers(field, required=False)
            applies = np.isin(row_class, FUNDAMENTAL_FIELDS[field].classes)
            stray = ~applies & ~np.isnan(values)
            if stray.any():
                row = int(np.flatnonzero(stray)[0])
                described = ", ".join(FUNDAMENTAL_FIELDS[field].classes)
                raise table.error(row, field,
                                  f"{field!r} describes {described} only, but "
                                  f"{tickers[row]} is in {classes[tickers[row]]}; "
                                  "leave the cell empty")
            fundamentals[field] = values
        return self._panel(dates, column_of, order, classes, close, volume, fundamentals)

    def _panel(self, dates: pd.DatetimeIndex, column_of: np.ndarray, order: list[str],
               classes: Mapping[str, str], close: np.ndarray, volume: np.ndarray | None,
               fundamentals: Mapping[str, np.ndarray]) -> tuple[MarketData, Alignment]:
        grids = align(pd.DatetimeIndex(dates), column_of, order, classes, close, volume,
                      fundamentals, self.calendar)
        data = MarketData(
            dates=grids.sessions,
            assets=tuple(AssetInfo(ticker=t, asset_class=classes[t])  # type: ignore[arg-type]
                         for t in order),
            prices=grids.prices, volumes=grids.volumes, fundamentals=grids.fundamentals,
            source=self.name)
        return data, grids.alignment

    def _classes_long(self, table: RawTable, tickers: np.ndarray, order: list[str]
                      ) -> dict[str, str]:
        self._check_mapping(table, set(order))
        if "asset_class" in table.frame:
            missing = table.missing("asset_class")
            if missing.any():
                raise table.error(int(np.flatnonzero(missing)[0]), "asset_class",
                                  "missing value; give every row its asset class")
            column = table.frame["asset_class"].astype(str).str.strip().to_numpy()
            unknown = ~np.isin(column, ASSET_CLASSES)
            if unknown.any():
                _check_class(table, int(np.flatnonzero(unknown)[0]),
                             column[unknown][0], "asset_class")
            pairs = pd.DataFrame({"ticker": tickers, "asset_class": column})
            first = pairs.groupby("ticker", sort=False)["asset_class"].transform("first")
            clash = np.flatnonzero(np.asarray(first != pairs["asset_class"]))
            heads = pairs.groupby("ticker", sort=False).head(1)["ticker"]
            first_row = {ticker: int(row) for row, ticker in heads.items()}
            if clash.size:
                row = int(clash[0])
                ticker = tickers[row]
                raise table.error(row, "asset_class",
                                  f"{ticker} is {column[row]!r} here but "
                                  f"{first.iloc[row]!r} at {table.place(first_row[ticker])}")
            classes = {t: str(column[i]) for t, i in first_row.items()}
            for ticker, asset_class in self.asset_classes.items():
                if classes[ticker] != asset_class:
                    raise table.error(first_row[ticker], "asset_class",
                                      f"{ticker} is {classes[ticker]!r} in the file but "
                                      f"{asset_class!r} in asset_classes")
            return classes
        return self._resolve_classes(table, order)

    # -- wide layout --------------------------------------------------------------------
    def _load_wide(self, table: RawTable) -> tuple[MarketData, Alignment]:
        columns = list(table.frame.columns)
        date_columns = [c for c in columns if c.lower() == "date"]
        if not date_columns:
            raise table.error(None, None, "no 'date' column; the wide layout is a date "
                                          "column and one close-price column per ticker")
        date_column = date_columns[0]
        tickers = [c for c in columns if c != date_column]
        for ticker in tickers:
            if (not ticker or ticker.lower().startswith("unnamed:")
                    or ticker.lower() in LONG_COLUMNS):
                raise table.error(None, ticker or "(empty)",
                                  "unknown column; in the wide layout every column but "
                                  "'date' is a ticker (use a 'ticker' column for the long "
                                  "layout)")
        if not tickers:
            raise table.error(None, None, "no ticker columns next to 'date'")
        dates = table.dates(date_column)
        _check_date_order(table, dates, np.full(len(dates), ""))
        prices = np.column_stack([table.numbers(t, required=False) for t in tickers])
        for j, ticker in enumerate(tickers):
            _check_positive(table, prices[:, j], ticker)
            if np.isnan(prices[:, j]).all():
                raise table.error(None, ticker, "no price in the whole column")
        self._check_mapping(table, set(tickers))
        classes = self._resolve_classes(table, tickers)
        rows, cols = np.nonzero(~np.isnan(prices))  # row-major: dates stay in order
        order = np.lexsort((rows, cols))
        rows, cols = rows[order], cols[order]
        return self._panel(pd.DatetimeIndex(dates)[rows], cols, tickers, classes,
                           prices[rows, cols], None, {})

    # -- asset classes ------------------------------------------------------------------
    def _check_mapping(self, table: RawTable, tickers: set[str]) -> None:
        for ticker in self.asset_classes:
            if ticker not in tickers:
                raise table.error(None, None,
                                  f"asset_classes names ticker {ticker!r}, which the file "
                                  f"does not hold (it holds {', '.join(sorted(tickers))})")

    def _resolve_classes(self, table: RawTable, tickers: list[str]) -> dict[str, str]:
        classes = {}
        for ticker in tickers:
            asset_class = self.asset_classes.get(ticker) or default_asset_class(ticker)
            if asset_class is None:
                raise table.error(None, None,
                                  f"unknown asset class for ticker {ticker!r}: add an "
                                  "'asset_class' column (long layout) or pass "
                                  f"asset_classes={{{ticker!r}: 'stocks'}}")
            classes[ticker] = asset_class
        return classes


def _check_class(table: RawTable, row: int | None, asset_class: str, column: str) -> None:
    if asset_class not in ASSET_CLASSES:
        raise table.error(row, column, f"unknown asset class {asset_class!r}; use one of "
                                       f"{', '.join(ASSET_CLASSES)}")


def _check_positive(table: RawTable, values: np.ndarray, column: str) -> None:
    bad = values <= 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise table.error(row, column,
                          f"non-positive price {values[row]:g}; prices must be above zero")


def _check_date_order(table: RawTable, dates: pd.DatetimeIndex, keys: np.ndarray) -> None:
    """Within each key (ticker), dates must strictly increase down the file."""
    frame = pd.DataFrame({"key": keys, "date": dates.asi8, "row": np.arange(len(keys))})
    previous = frame.groupby("key", sort=False)["date"].shift(1)
    previous_row = frame.groupby("key", sort=False)["row"].shift(1)
    bad = np.flatnonzero(np.asarray(previous.notna() & (frame["date"] <= previous)))
    if not bad.size:
        return
    row = int(bad[0])
    earlier = int(previous_row.iloc[row])
    who = f" for {keys[row]}" if keys[row] else ""
    day = dates[row].date()
    if dates[row] == dates[earlier]:
        raise table.error(row, "date", f"duplicate date {day}{who} "
                                       f"(already at {table.place(earlier)})")
    raise table.error(row, "date", f"unsorted dates: {day}{who} comes after "
                                   f"{dates[earlier].date()} ({table.place(earlier)}); "
                                   "sort the rows by date")
