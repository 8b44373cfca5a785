"""Ragged files on one calendar, computed by hand: listing, crypto weekends, gaps."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.data import DataError, FileSource, MarketData
from alphaloop.data.report import data_report

NAN = np.nan
RAGGED = """\
date,ticker,close,volume,asset_class
2024-01-04,SPY,100,10,stocks
2024-01-04,BTC-USD,40000,1,crypto
2024-01-05,SPY,101,11,stocks
2024-01-05,BTC-USD,41000,2,crypto
2024-01-06,BTC-USD,42000,3,crypto
2024-01-07,BTC-USD,43000,4,crypto
2024-01-08,SPY,102,12,stocks
2024-01-08,BTC-USD,44000,5,crypto
2024-01-09,SPY,103,13,stocks
2024-01-10,SPY,104,14,stocks
2024-01-10,GLD,50,7,commodities
2024-01-11,GLD,51,8,commodities
2024-01-12,SPY,105,15,stocks
"""
FIXTURE = (Path(__file__).parents[1] / "fixtures" / "real-multiasset"
           / "real_multiasset_2015_2020.csv")


@pytest.fixture()
def ragged(tmp_path) -> Path:
    path = tmp_path / "ragged.csv"
    path.write_text(RAGGED)
    return path


def test_alignment_by_hand(ragged) -> None:
    data, alignment = FileSource(ragged).load_aligned()
    assert alignment.calendar == "XNYS"
    assert [d.strftime("%m-%d") for d in data.dates] == [
        "01-04", "01-05", "01-08", "01-09", "01-10", "01-11", "01-12"]
    assert data.tickers == ("SPY", "BTC-USD", "GLD")
    expected = np.array([
        [100, NAN, NAN],     # Thu: BTC's Thursday bar closes at 24:00 UTC, after NYSE
        [101, 40000, NAN],   # Fri: Thursday's bar
        [102, 43000, NAN],   # Mon: Friday's, Saturday's and Sunday's bars; Sunday's wins
        [103, 44000, NAN],   # Tue: Monday's bar, BTC's last
        [104, NAN, 50],      # Wed: BTC no longer listed, GLD listed
        [104, NAN, 51],      # Thu: SPY has no row: last price kept
        [105, NAN, NAN],     # Fri: GLD's series ended
    ])
    assert np.array_equal(data.prices, expected, equal_nan=True)
    assert np.array_equal(data.volumes[:, 0], [10, 11, 12, 13, 14, NAN, 15], equal_nan=True)
    assert np.array_equal(data.volumes[:4, 1], [NAN, 1, 2 + 3 + 4, 5], equal_nan=True)
    assert data.listed[:, 1].tolist() == [False, True, True, True, False, False, False]
    spy, btc, gld = alignment.assets
    assert (spy.rule, spy.filled, spy.filled_sessions) == ("same session", 1,
                                                           [date(2024, 1, 11)])
    assert (btc.rule, btc.rows, btc.observed, btc.merged_rows) == (
        "next session after its UTC day", 5, 3, 2)
    assert (btc.first_session, btc.last_session) == (date(2024, 1, 5), date(2024, 1, 9))
    assert (gld.first_session, gld.last_session, gld.sessions) == (
        date(2024, 1, 10), date(2024, 1, 11), 2)
    assert data.listing("GLD") == (pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-11"))
    assert data.first_listed.tolist() == [0, 1, 4] and data.last_listed.tolist() == [6, 3, 5]


def test_returns_never_cross_a_missing_price(ragged) -> None:
    data = FileSource(ragged).load()
    assert np.isfinite(data.returns).all()
    assert data.returns[1, 1] == 0.0  # BTC's first listed day: no prior close
    assert data.returns[2, 1] == pytest.approx(43000 / 40000 - 1)
    assert data.returns[4, 1] == 0.0  # not listed
    view = data.view(4)
    assert np.isnan(view.returns[-1, 1]) and np.isnan(view.returns[0, 1])
    assert view.returns[-1, 0] == pytest.approx(104 / 103 - 1)


def test_an_all_crypto_file_uses_every_calendar_day(tmp_path) -> None:
    path = tmp_path / "crypto.csv"
    path.write_text("\n".join(line for line in RAGGED.splitlines()
                              if "crypto" in line or line.startswith("date")) + "\n")
    data, alignment = FileSource(path).load_aligned()
    assert alignment.calendar == "24/7" and alignment.assets[0].rule == "own date"
    assert [d.day for d in data.dates] == [4, 5, 6, 7, 8]
    assert data.prices[:, 0].tolist() == [40000, 41000, 42000, 43000, 44000]


def test_the_calendar_can_be_chosen(ragged) -> None:
    data = FileSource(ragged, calendar="file").load()
    assert len(data.dates) == 9  # every date of the file, crypto on its own date
    with pytest.raises(DataError, match="calendar 'NOPE'"):
        FileSource(ragged, calendar="NOPE").load()


def test_marketdata_takes_nan_but_not_bad_prices() -> None:
    dates = pd.bdate_range("2024-01-01", periods=3)
    from alphaloop.contract import AssetInfo

    assets = (AssetInfo(ticker="A", asset_class="stocks"),)

    def make(column: list[float]) -> MarketData:
        return MarketData(dates=dates, assets=assets, prices=np.array([column]).T,
                          volumes=np.ones((3, 1)), source="t")
    assert make([NAN, 1.0, 2.0]).listed[:, 0].tolist() == [False, True, True]
    for bad, message in (([1.0, -1.0, 2.0], "prices must be positive"),
                         ([1.0, np.inf, 2.0], "prices must be positive"),
                         ([1.0, NAN, 2.0], "inside its listing")):
        with pytest.raises(DataError, match=message):
            make(bad)


def test_data_report_of_a_price_only_file(tmp_path) -> None:
    path = tmp_path / "prices.csv"
    pd.read_csv(io.StringIO(RAGGED)).drop(columns="volume").to_csv(path, index=False)
    data, alignment = FileSource(path).load_aligned()
    report = data_report(data, alignment)
    assert report.volume == "missing" and "volume" in report.missing_fields
    assert "VIX" in report.missing_fields
    liquidity = next(a for a in report.assessments if a.topic == "liquidity")
    assert not liquidity.possible and "not assessed" in liquidity.note


def test_data_check_on_the_real_fixture() -> None:
    result = CliRunner().invoke(app, ["data", "check", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "7 assets, 1511 sessions 2015-01-02 to 2020-12-31 on the XNYS calendar" in out
    assert "zero volume: XLRE on 5 session(s): 2015-10-14" in out
    assert "suspicious move: ETH-USD -42.3% on 2020-03-13" in out
    assert "covid_2020 (2020-02-19 to 2020-03-31): covered" in out
    assert "gfc_2008 (2008-09-01 to 2009-03-31): not covered" in out
    assert "VIX regime" in out and "missing fields:" in out
    report = json.loads(CliRunner().invoke(app, ["data", "check", str(FIXTURE),
                                                 "--json"]).output)
    eth = next(a for a in report["assets"] if a["ticker"] == "ETH-USD")
    assert eth["first"] == "2017-11-10" and eth["rule"] == "next session after its UTC day"
    assert [c["name"] for c in report["crises"] if c["covered"]] == ["covid_2020"]


def test_data_check_refuses_bad_data_without_a_traceback(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(RAGGED.replace("2024-01-09,SPY,103", "2024-01-09,SPY,-3"))
    result = CliRunner().invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 1
    assert "line 10, column 'close': non-positive price -3" in result.output
    assert "Traceback" not in result.output
