"""open_source specs, the schema vocabulary and the package's public names."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

import alphaloop.data as data_package
from alphaloop.data import (
    DEFAULT_UNIVERSE,
    FUNDAMENTAL_FIELDS,
    MACRO_SERIES,
    DataError,
    DataSource,
    FileSource,
    FMPAuthError,
    FMPSource,
    SyntheticSource,
    fields_for_class,
    open_source,
)
from alphaloop.data.schema import applicable_mask, default_asset_class


def test_synthetic_specs() -> None:
    default = open_source("synthetic")
    assert isinstance(default, SyntheticSource) and isinstance(default, DataSource)
    assert default.config.years == 20
    source = open_source(" synthetic:seed=11, years=5 ")
    assert isinstance(source, SyntheticSource)
    assert (source.config.seed, source.config.years) == (11, 5.0)
    dated = open_source("synthetic:start=2010-01-04,signal_strength=0,years=1")
    assert isinstance(dated, SyntheticSource)
    assert dated.config.start == date(2010, 1, 4) and dated.config.signal_strength == 0


def test_a_synthetic_name_reopens_the_same_source() -> None:
    source = open_source("synthetic:seed=4,years=1,signal_strength=2")
    again = open_source(source.name)
    assert again.content_hash() == source.content_hash()


@pytest.mark.parametrize("spec, message", [
    ("synthetic:colour=red", r"unknown option\(s\) colour; synthetic takes seed, "
                             r"signal_strength, start, years"),
    ("synthetic:years=-1", r"years: Input should be greater than 0"),
    ("synthetic:seed=abc", r"seed: Input should be a valid integer"),
    ("synthetic:seed", r"option 'seed' is not key=value"),
    ("synthetic:universe=custom-1234", r"custom universe cannot be written in a spec"),
    ("fmp:start=2005-01-01,symbols=x", r"unknown option\(s\) symbols; fmp takes start, end"),
    ("yahoo", r"unknown data source 'yahoo'; choose one of: synthetic.*file:PATH.*fmp"),
    ("", r"unknown data source ''"),
])
def test_bad_specs_name_the_problem(spec, message) -> None:
    with pytest.raises(DataError, match=message):
        open_source(spec, environ={})


def test_file_specs(tmp_path) -> None:
    for spec in (f"file:{tmp_path / 'a.csv'}", str(tmp_path / "b.CSV"),
                 str(tmp_path / "c.parquet"), f"file:{tmp_path / 'd.txt'}"):
        source = open_source(spec)
        assert isinstance(source, FileSource)
    assert open_source(str(tmp_path / "b.CSV")).name == f"file:{tmp_path / 'b.CSV'}"
    with pytest.raises(DataError, match="file not found"):
        open_source(f"file:{tmp_path / 'a.csv'}").load()


def test_fmp_spec_needs_a_key(tmp_path) -> None:
    with pytest.raises(FMPAuthError, match="FMP_API_KEY is not set"):
        open_source("fmp", environ={"HOME": str(tmp_path)})


def test_fmp_spec_reads_the_environment(fake_fmp, fmp_key, tmp_path) -> None:
    environ = {"FMP_API_KEY": fmp_key, "FMP_BASE_URL": fake_fmp.base_url,
               "ALPHALOOP_CACHE_DIR": str(tmp_path)}
    source = open_source("fmp:start=2005-01-01,end=2005-03-31", environ=environ)
    assert isinstance(source, FMPSource)
    assert source.name == "fmp:start=2005-01-01,end=2005-03-31"
    assert source.client.config.cache_dir == tmp_path / "fmp"
    assert len(source.assets) == sum(len(t) for t in DEFAULT_UNIVERSE.values())
    with pytest.raises(DataError, match=r"no prices for QQQ \(symbol QQQ\)"):
        source.load()  # the fake serves only a few symbols
    assert open_source(source.name, environ=environ).name == source.name


# -- schema ------------------------------------------------------------------------------------
def test_schema_lists_the_agreed_fields() -> None:
    assert set(MACRO_SERIES) == {"VIX", "rate_10y", "rate_2y", "inflation"}
    assert fields_for_class("stocks") == ("spread_bps", "book_to_market", "profitability",
                                          "investment", "market_cap", "earnings_yield")
    assert fields_for_class("bonds") == ("spread_bps", "yield", "duration", "credit_spread")
    assert fields_for_class("commodities") == ("spread_bps", "roll_yield", "basis")
    assert fields_for_class("reits") == ("spread_bps", "nav_discount", "sector_outlook")
    assert fields_for_class("crypto") == ("spread_bps", "active_addresses", "adoption")
    assert fields_for_class("cash") == ()
    for spec in FUNDAMENTAL_FIELDS.values():
        assert spec.unit and spec.description and spec.classes


def test_schema_helpers_and_immutability() -> None:
    assert np.array_equal(applicable_mask("yield", ["stocks", "bonds", "bonds"]),
                          [False, True, True])
    assert default_asset_class("HYG") == "bonds" and default_asset_class("ZZZ") is None
    assert default_asset_class("X", {"reits": ["X"]}) == "reits"
    with pytest.raises(TypeError):
        DEFAULT_UNIVERSE["stocks"] = ("A",)  # type: ignore[index]
    with pytest.raises(TypeError):
        FUNDAMENTAL_FIELDS["new"] = FUNDAMENTAL_FIELDS["yield"]  # type: ignore[index]


def test_package_exports() -> None:
    for name in data_package.__all__:
        assert hasattr(data_package, name), name
    assert {"MarketData", "DataError", "DataSource", "open_source", "stress_panel",
            "SyntheticSource", "FileSource", "FMPSource"} <= set(data_package.__all__)
