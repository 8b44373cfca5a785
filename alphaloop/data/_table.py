"""Reading a CSV or Parquet file into raw columns, remembering where each row came from.

Number columns are parsed by the CSV reader when every cell is a number or empty; any
other column is kept as text until validation converts it, so an error can quote the
offending text and name its place: the 1-based line of a CSV file (the header
is line 1) or the 1-based row of a Parquet table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from alphaloop.data.panel import DataError

__all__ = ["RawTable", "read_table"]

_TEXT_COLUMNS = frozenset({"date", "ticker", "asset_class"})
"""Columns read as text; the others are parsed as numbers where every cell is one."""


@dataclass(frozen=True)
class RawTable:
    """A file's columns as read, and how to name a row for a person."""

    path: Path
    frame: pd.DataFrame
    place: Callable[[int], str]

    def error(self, row: int | None, column: str | None, message: str) -> DataError:
        """A :class:`DataError` naming the file, the row (0-based here) and the column."""
        parts = [str(self.path)]
        if row is not None:
            parts.append(self.place(row))
        if column is not None:
            parts.append(f"column {column!r}")
        return DataError(f"{', '.join(parts)}: {message}")

    def missing(self, column: str) -> np.ndarray:
        """Boolean mask of empty cells in ``column``."""
        values = self.frame[column]
        mask = np.array(values.isna(), dtype=bool)
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.fillna("").astype(str).str.strip()
            mask |= np.array(text.eq(""), dtype=bool)
        return mask

    def numbers(self, column: str, *, required: bool) -> np.ndarray:
        """``column`` as floats; empty cells are NaN unless ``required`` (then an error)."""
        missing = self.missing(column)
        if required and missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise self.error(row, column, "missing value; every row needs one")
        raw = self.frame[column]
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(
                raw.dtype):
            values = raw.to_numpy(dtype=float, na_value=np.nan)
        else:
            parsed = pd.to_numeric(raw.where(~missing), errors="coerce")
            values = np.asarray(parsed, dtype=float)
        bad = np.isnan(values) & ~missing | np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise self.error(row, column, f"{raw.iloc[row]!r} is not a finite number")
        return values

    def dates(self, column: str) -> pd.DatetimeIndex:
        """``column`` as dates (ISO 8601, e.g. 2024-01-31), without time zone."""
        missing = self.missing(column)
        if missing.any():
            raise self.error(int(np.flatnonzero(missing)[0]), column,
                             "missing value; every row needs a date")
        raw = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(raw):
            parsed = pd.DatetimeIndex(raw)
        else:  # parse each distinct text once: long files repeat every date per ticker
            codes, uniques = pd.factorize(raw.astype(str).str.strip())
            try:
                distinct = pd.DatetimeIndex(pd.to_datetime(
                    pd.Series(uniques), format="ISO8601", errors="coerce"))
            except ValueError:  # pandas refuses a column mixing UTC offsets or zones
                raise self.error(None, column,
                                 f"dates mix time zones or UTC offsets (e.g. {uniques[0]!r}, "
                                 f"{uniques[-1]!r}); write plain dates as YYYY-MM-DD") from None
            parsed = distinct.take(codes)
        if parsed.tz is not None:
            parsed = parsed.tz_localize(None)
        bad = np.asarray(parsed.isna())
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise self.error(row, column,
                             f"{raw.iloc[row]!r} is not a date; write dates as YYYY-MM-DD")
        return parsed.normalize()


def read_table(path: Path) -> RawTable:
    """Read ``path`` (``.csv``, ``.parquet`` or ``.pq``) without interpreting values."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; pass the path of a CSV or Parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
            text_columns = {c: str for c in header
                            if str(c).strip().lower() in _TEXT_COLUMNS}
            frame = pd.read_csv(path, dtype=text_columns, keep_default_na=False,
                                na_values=[""], skip_blank_lines=False,
                                encoding="utf-8-sig")
            place: Callable[[int], str] = _csv_line
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path).reset_index(drop=True)
            place = _parquet_row
        else:
            raise DataError(f"{path}: unsupported file type {suffix!r}; "
                            "use .csv or .parquet")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: cannot read the file ({exc})") from exc
    if frame.empty:
        raise DataError(f"{path}: the file holds no data rows")
    return RawTable(path, frame.rename(columns=lambda c: str(c).strip()), place)


def _csv_line(row: int) -> str:
    return f"line {row + 2}"


def _parquet_row(row: int) -> str:
    return f"row {row + 1}"
