"""FileSource: long and wide CSV/Parquet files, and every validation error it reports."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphaloop.data import DataError, DataSource, FileSource, MarketData

LONG = """\
date,ticker,close,volume,asset_class,yield,book_to_market
2024-01-02,SPY,470.5,1000,stocks,,0.25
2024-01-02,TLT,95.25,500,bonds,0.041,
2024-01-03,SPY,468.0,1100,stocks,,0.26
2024-01-03,TLT,96.0,400,bonds,0.040,
2024-01-04,SPY,471.0,900,stocks,,0.25
2024-01-04,TLT,95.5,450,bonds,0.042,
"""

WIDE = """\
date,SPY,TLT,BTC-USD
2024-01-02,470.5,95.25,42000
2024-01-03,468.0,96.0,43000
2024-01-04,471.0,95.5,41000
"""


def _write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _edit(text: str, line: int, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` on 1-based ``line`` only."""
    lines = text.splitlines(keepends=True)
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "".join(lines)


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        FileSource(path, **kwargs).load()
    message = str(info.value)
    assert str(path) in message
    return message


# -- reading ---------------------------------------------------------------------------------
def test_long_csv(tmp_path) -> None:
    source = FileSource(_write(tmp_path, LONG))
    assert isinstance(source, DataSource)
    data = source.load()
    assert data.tickers == ("SPY", "TLT")
    assert data.asset_classes == {"SPY": "stocks", "TLT": "bonds"}
    assert list(data.dates.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03",
                                                     "2024-01-04"]
    assert np.array_equal(data.prices, [[470.5, 95.25], [468.0, 96.0], [471.0, 95.5]])
    assert np.array_equal(data.volumes[:, 1], [500, 400, 450])
    assert np.array_equal(data.fundamentals["yield"][:, 1], [0.041, 0.040, 0.042])
    assert np.isnan(data.fundamentals["yield"][:, 0]).all()
    assert np.isnan(data.fundamentals["book_to_market"][:, 1]).all()
    assert data.source == source.name == f"file:{tmp_path / 'prices.csv'}"
    assert source.content_hash() == data.content_hash()


def test_long_rows_may_come_in_any_ticker_order(tmp_path) -> None:
    lines = LONG.splitlines(keepends=True)
    shuffled = lines[0] + "".join(lines[2::2]) + "".join(lines[1::2])  # all TLT, then SPY
    data = FileSource(_write(tmp_path, shuffled)).load()
    reference = FileSource(_write(tmp_path, LONG, "ref.csv")).load()
    assert data.tickers == ("TLT", "SPY")
    assert np.array_equal(data.select(["SPY", "TLT"]).prices, reference.prices)


def test_wide_csv_takes_classes_from_the_default_universe(tmp_path) -> None:
    data = FileSource(_write(tmp_path, WIDE)).load()
    assert data.asset_classes == {"SPY": "stocks", "TLT": "bonds", "BTC-USD": "crypto"}
    # a crypto bar is usable at the session after its UTC day; the last one is left out
    assert np.array_equal(data.prices[:, 2], [np.nan, 42000, 43000], equal_nan=True)
    assert np.isnan(data.volumes).all()
    assert not data.fundamentals and not data.macro


def test_wide_csv_with_an_asset_class_mapping(tmp_path) -> None:
    text = WIDE.replace("BTC-USD", "XYZ")
    data = FileSource(_write(tmp_path, text), asset_classes={"XYZ": "commodities"}).load()
    assert data.asset_classes["XYZ"] == "commodities"


def test_explicit_layout_and_header_whitespace(tmp_path) -> None:
    text = LONG.replace("date,ticker,close", " Date , Ticker ,Close")
    data = FileSource(_write(tmp_path, text), layout="long").load()
    assert data.tickers == ("SPY", "TLT")
    with pytest.raises(DataError, match="unknown layout"):
        FileSource(tmp_path / "x.csv", layout="tall")  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_long_and_wide(tmp_path, suffix) -> None:
    long = pd.read_csv(_write(tmp_path, LONG))
    long["date"] = pd.to_datetime(long["date"])
    long.to_parquet(tmp_path / f"long{suffix}")
    wide = pd.read_csv(_write(tmp_path, WIDE, "wide.csv"))
    wide.to_parquet(tmp_path / f"wide{suffix}")
    from_csv = FileSource(tmp_path / "prices.csv").load()
    from_parquet = FileSource(tmp_path / f"long{suffix}").load()
    assert np.array_equal(from_parquet.prices, from_csv.prices)
    assert np.array_equal(from_parquet.fundamentals["yield"], from_csv.fundamentals["yield"],
                          equal_nan=True)
    assert FileSource(tmp_path / f"wide{suffix}").load().tickers == ("SPY", "TLT", "BTC-USD")


def test_a_synthetic_panel_survives_a_round_trip(tmp_path, small_panel) -> None:
    panel = small_panel.slice(end=small_panel.dates[30])
    frame = pd.DataFrame({
        "date": np.repeat(panel.dates.strftime("%Y-%m-%d"), len(panel.tickers)),
        "ticker": np.tile(panel.tickers, panel.n_days),
        "asset_class": np.tile([a.asset_class for a in panel.assets], panel.n_days),
        "close": panel.prices.ravel(), "volume": panel.volumes.ravel(),
        **{k: v.ravel() for k, v in panel.fundamentals.items()},
    })
    frame.to_csv(tmp_path / "panel.csv", index=False)
    loaded = FileSource(tmp_path / "panel.csv", calendar="file").load()
    assert loaded.tickers == panel.tickers
    assert np.array_equal(loaded.prices, panel.prices)
    for name, values in panel.fundamentals.items():
        assert np.array_equal(loaded.fundamentals[name], values, equal_nan=True), name


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=st.lists(st.lists(st.floats(0.01, 1e6, allow_nan=False), min_size=2,
                                max_size=2), min_size=1, max_size=8))
def test_wide_round_trip_keeps_every_price(tmp_path, prices) -> None:
    dates = pd.bdate_range("2020-01-01", periods=len(prices))
    frame = pd.DataFrame(prices, columns=["SPY", "GLD"])
    frame.insert(0, "date", dates.strftime("%Y-%m-%d"))
    frame.to_csv(tmp_path / "wide.csv", index=False)
    data = FileSource(tmp_path / "wide.csv", calendar="file").load()
    assert np.array_equal(data.prices, np.array(prices))


# -- validation errors --------------------------------------------------------------------------
@pytest.mark.parametrize("line, old, new, expected", [
    (3, "95.25", "", r"line 3, column 'close': missing value"),
    (4, ",1100,", ",,", r"line 4, column 'volume': missing value"),
    (6, "2024-01-04", "", r"line 6, column 'date': missing value"),
    (6, "2024-01-04", "04/01/2024", r"line 6, column 'date': '04/01/2024' is not a date"),
    (2, ",SPY,", ",,", r"line 2, column 'ticker': missing value"),
    (7, "95.5", "abc", r"line 7, column 'close': 'abc' is not a finite number"),
    (7, "95.5", "0", r"line 7, column 'close': non-positive price 0"),
    (4, "468.0", "-1.5", r"line 4, column 'close': non-positive price -1.5"),
    (4, ",1100,", ",-3,", r"line 4, column 'volume': negative volume -3"),
    (7, "2024-01-04", "2024-01-03", r"line 7, column 'date': duplicate date 2024-01-03 "
                                    r"for TLT \(already at line 5\)"),
    (7, "2024-01-04", "2024-01-02", r"line 7, column 'date': unsorted dates: 2024-01-02 "
                                    r"for TLT comes after 2024-01-03 \(line 5\)"),
    (4, "stocks", "equities", r"line 4, column 'asset_class': unknown asset class "
                              r"'equities'"),
    (4, "stocks", "bonds", r"line 4, column 'asset_class': SPY is 'bonds' here but "
                           r"'stocks' at line 2"),
    (2, "stocks,,", "stocks,0.03,", r"line 2, column 'yield': 'yield' describes bonds only, "
                                    r"but SPY is in stocks"),
    (3, "0.041", "high", r"line 3, column 'yield': 'high' is not a finite number"),
])
def test_long_errors_name_line_and_column(tmp_path, line, old, new, expected) -> None:
    message = _error(_write(tmp_path, _edit(LONG, line, old, new)))
    assert re.search(expected, message), message


def test_a_blank_line_is_reported_where_it_is(tmp_path) -> None:
    lines = LONG.splitlines(keepends=True)
    text = "".join(lines[:3]) + "\n" + "".join(lines[3:])
    assert "line 4, column 'date': missing value" in _error(_write(tmp_path, text))


def test_a_missing_row_inside_a_life_is_filled_and_reported(tmp_path) -> None:
    lines = LONG.splitlines(keepends=True)
    text = "".join(lines[:3] + lines[4:])  # drop SPY on 2024-01-03
    data, alignment = FileSource(_write(tmp_path, text)).load_aligned()
    assert np.array_equal(data.prices[:, 0], [470.5, 470.5, 471.0])
    assert np.array_equal(data.volumes[:, 0], [1000, np.nan, 900], equal_nan=True)
    spy = alignment.assets[0]
    assert (spy.filled, spy.filled_sessions) == (1, [pd.Timestamp("2024-01-03").date()])


def test_a_missing_last_row_ends_the_listing(tmp_path) -> None:
    lines = LONG.splitlines(keepends=True)
    text = "".join(lines[:5] + lines[6:])  # drop SPY on 2024-01-04
    data = FileSource(_write(tmp_path, text)).load()
    assert np.isnan(data.prices[2, 0]) and not data.listed[2, 0]


def test_unknown_long_column_is_named(tmp_path) -> None:
    text = LONG.replace("book_to_market", "colour")
    message = _error(_write(tmp_path, text))
    assert "column 'colour': unknown column" in message and "book_to_market" in message


def test_required_long_column(tmp_path) -> None:
    text = LONG.replace(",close,", ",price,")
    assert "column 'price': unknown column" in _error(_write(tmp_path, text))
    frame = pd.read_csv(_write(tmp_path, LONG)).drop(columns=["close"])
    frame.to_csv(tmp_path / "noclose.csv", index=False)
    assert "column 'close': required column is absent" in _error(tmp_path / "noclose.csv")


def test_asset_class_conflict_between_file_and_mapping(tmp_path) -> None:
    message = _error(_write(tmp_path, LONG), asset_classes={"SPY": "reits"})
    assert "line 2, column 'asset_class': SPY is 'stocks' in the file but 'reits'" in message


@pytest.mark.parametrize("old, new, expected", [
    (",95.25,", ",,", r"no price in the whole column"),
    ("2024-01-04", "2024-01-03", r"line 4, column 'date': duplicate date 2024-01-03 "
                                 r"\(already at line 3\)"),
    ("2024-01-04", "2024-01-01", r"line 4, column 'date': unsorted dates: 2024-01-01 comes "
                                 r"after 2024-01-03 \(line 3\)"),
    ("468.0", "0.0", r"line 3, column 'SPY': non-positive price 0"),
    ("43000", "n/a", r"line 3, column 'BTC-USD': 'n/a' is not a finite number"),
])
def test_wide_errors_name_line_and_column(tmp_path, old, new, expected) -> None:
    text = WIDE.replace(old, new, 1)
    if "whole column" in expected:
        text = text.replace(",96.0,", ",,").replace(",95.5,", ",,")
    message = _error(_write(tmp_path, text))
    assert re.search(expected, message), message


def test_an_empty_wide_cell_means_not_listed(tmp_path) -> None:
    data = FileSource(_write(tmp_path, WIDE.replace("471.0,95.5", "471.0,"))).load()
    assert np.array_equal(data.prices[:, 1], [95.25, 96.0, np.nan], equal_nan=True)


@pytest.mark.parametrize("header, column", [
    ("date,SPY,TLT,", "Unnamed: 3"),
    ("date,SPY,TLT,volume", "volume"),
])
def test_unknown_wide_column(tmp_path, header, column) -> None:
    text = WIDE.replace("date,SPY,TLT,BTC-USD", header)
    message = _error(_write(tmp_path, text))
    assert f"column {column!r}: unknown column" in message


def test_wide_file_without_date_column(tmp_path) -> None:
    message = _error(_write(tmp_path, WIDE.replace("date,", "day,")))
    assert "no 'date' column" in message


def test_ticker_without_a_known_class(tmp_path) -> None:
    message = _error(_write(tmp_path, WIDE.replace("BTC-USD", "XYZ")))
    assert "unknown asset class for ticker 'XYZ'" in message
    assert "asset_classes={'XYZ': 'stocks'}" in message


def test_unknown_class_in_mapping(tmp_path) -> None:
    message = _error(_write(tmp_path, WIDE), asset_classes={"SPY": "equity"})
    assert "asset_classes['SPY']: unknown asset class 'equity'" in message


def test_unknown_ticker_in_mapping(tmp_path) -> None:
    for text in (WIDE, LONG):
        message = _error(_write(tmp_path, text), asset_classes={"QQQ": "stocks"})
        assert "asset_classes names ticker 'QQQ', which the file does not hold" in message


def test_parquet_errors_name_the_row(tmp_path) -> None:
    frame = pd.read_csv(_write(tmp_path, LONG))
    frame.loc[3, "close"] = -2.0
    frame.to_parquet(tmp_path / "bad.parquet")
    message = _error(tmp_path / "bad.parquet")
    assert "row 4, column 'close': non-positive price -2" in message
    frame.loc[3, "close"] = np.nan
    frame.to_parquet(tmp_path / "missing.parquet")
    assert "row 4, column 'close': missing value" in _error(tmp_path / "missing.parquet")


def test_unreadable_inputs(tmp_path) -> None:
    assert "file not found" in _error(tmp_path / "absent.csv")
    assert "unsupported file type '.xlsx'" in _error(_write(tmp_path, WIDE, "prices.xlsx"))
    assert "holds no data rows" in _error(_write(tmp_path, "date,SPY\n", "empty.csv"))
    assert "cannot read" in _error(_write(tmp_path, "", "blank.csv"))
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    assert "cannot read" in _error(tmp_path / "junk.parquet")


def test_loaded_panel_is_a_market_data(tmp_path) -> None:
    data = FileSource(_write(tmp_path, LONG)).load()
    assert isinstance(data, MarketData)
    view = data.view(1)
    assert view.as_of == pd.Timestamp("2024-01-03") and view.n_days == 2
