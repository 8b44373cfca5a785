"""The synthetic market: determinism, no look-ahead, structure and plausible statistics."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy.stats import spearmanr

from alphaloop.contract import ContractError
from alphaloop.data import (
    DEFAULT_UNIVERSE,
    FUNDAMENTAL_FIELDS,
    MACRO_SERIES,
    DataSource,
    SyntheticConfig,
    SyntheticSource,
)


def _annual(prices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    log_returns = np.diff(np.log(prices), axis=0)
    ret = np.exp(log_returns.mean(axis=0) * 252) - 1
    vol = log_returns.std(axis=0) * np.sqrt(252)
    cum = np.log(prices)
    drawdown = 1 - np.exp((cum - np.maximum.accumulate(cum, axis=0)).min(axis=0))
    return ret, vol, drawdown


# -- determinism and identity ---------------------------------------------------------------
def test_same_config_gives_same_bytes_and_other_seeds_differ() -> None:
    config = SyntheticConfig(seed=3, years=2)
    first, second = SyntheticSource(config), SyntheticSource(config.model_copy())
    assert first.content_hash() == second.content_hash()
    assert np.array_equal(first.load().prices, second.load().prices)
    other = SyntheticSource(SyntheticConfig(seed=4, years=2))
    assert other.content_hash() != first.content_hash()


def test_content_hash_is_the_hash_of_what_load_returns() -> None:
    source = SyntheticSource(SyntheticConfig(years=1))
    assert isinstance(source, DataSource)
    assert source.content_hash() == source.load().content_hash()
    assert source.load() is source.load()  # generated once, immutable


def test_name_is_a_spec_describing_the_config() -> None:
    config = SyntheticConfig(seed=11, years=5, signal_strength=0.5)
    assert SyntheticSource(config).name == (
        "synthetic:seed=11,years=5,start=2005-01-03,signal_strength=0.5")
    assert SyntheticSource(config).load().source == SyntheticSource(config).name


def test_a_shorter_history_is_an_exact_prefix_of_a_longer_one() -> None:
    """Nothing on day t depends on randomness drawn for later days (no look-ahead)."""
    short = SyntheticSource(SyntheticConfig(seed=9, years=2)).load()
    long = SyntheticSource(SyntheticConfig(seed=9, years=4)).load()
    assert long.slice(end=short.dates[-1]).content_hash() == short.content_hash()


# -- structure --------------------------------------------------------------------------------
def test_universe_calendar_and_fields(small_panel) -> None:
    expected = [(t, c) for c, tickers in DEFAULT_UNIVERSE.items() for t in tickers]
    assert [(a.ticker, a.asset_class) for a in small_panel.assets] == expected
    assert small_panel.n_days == 3 * 252
    assert small_panel.dates[0].date() == date(2005, 1, 3)
    assert (small_panel.dates.day_of_week < 5).all()
    assert set(small_panel.fundamentals) == set(FUNDAMENTAL_FIELDS)
    assert set(small_panel.macro) == set(MACRO_SERIES)
    assert np.all(np.isfinite(small_panel.volumes)) and np.all(small_panel.volumes > 0)


def test_fundamentals_are_nan_exactly_where_a_field_does_not_apply(small_panel) -> None:
    classes = [a.asset_class for a in small_panel.assets]
    for name, spec in FUNDAMENTAL_FIELDS.items():
        values = small_panel.fundamentals[name]
        for j, asset_class in enumerate(classes):
            if asset_class in spec.classes:
                assert np.all(np.isfinite(values[:, j])), (name, small_panel.tickers[j])
            else:
                assert np.all(np.isnan(values[:, j])), (name, small_panel.tickers[j])


def test_fundamentals_have_plausible_ranges(small_panel) -> None:
    f = small_panel.fundamentals
    assert np.nanmin(f["spread_bps"]) > 0
    assert np.nanmin(f["book_to_market"]) > 0 and np.nanmax(f["book_to_market"]) < 3
    assert np.nanmin(f["market_cap"]) > 0
    assert np.nanmin(f["yield"]) > -0.01 and np.nanmax(f["yield"]) < 0.2
    assert np.nanmin(f["credit_spread"]) >= 0
    assert np.nanmin(f["sector_outlook"]) >= -1 and np.nanmax(f["sector_outlook"]) <= 1
    crypto = [j for j, a in enumerate(small_panel.assets) if a.asset_class == "crypto"]
    for name in ("active_addresses", "adoption"):
        assert np.allclose(f[name][0, crypto], 100.0)
    quarterly = f["profitability"][:, 3]  # AAPL's ROE changes only at quarter starts
    changes = np.flatnonzero(np.diff(quarterly)) + 1
    assert set(changes % 63) == {0}


def test_regimes_are_exposed_but_not_in_the_panel(default_source) -> None:
    regimes = default_source.regimes()
    data = default_source.load()
    assert regimes.index.equals(data.dates)
    assert set(regimes.unique()) == {"calm", "volatile", "crash"}
    assert "regime" not in data.macro and "regime" not in data.fundamentals
    share = regimes.value_counts(normalize=True)
    assert share["calm"] > 0.5 and 0.01 < share["crash"] < 0.15


def test_views_are_point_in_time_read_only_copies(small_panel) -> None:
    position = 400
    view = small_panel.view(position, lookback=100)
    assert view.as_of == small_panel.dates[position]
    assert view.n_days == 100 and view.dates[-1] == small_panel.dates[position]
    assert np.array_equal(view.prices, small_panel.prices[position - 99:position + 1])
    assert np.array_equal(view.fundamental("yield"),
                          small_panel.fundamentals["yield"][position - 99:position + 1],
                          equal_nan=True)
    assert view.macro("VIX")[-1] == small_panel.macro["VIX"][position]
    with pytest.raises(ValueError):
        view.prices[0, 0] = 1.0
    assert not np.shares_memory(view.prices, small_panel.prices)
    with pytest.raises(ContractError):
        view.fundamental("regime")


def test_custom_universe_gets_class_profiles_deterministically() -> None:
    universe = {"stocks": ("AAA", "BBB"), "bonds": ("CCC",), "crypto": ("DDD",)}
    config = SyntheticConfig(seed=1, years=1, universe=universe)
    data = SyntheticSource(config).load()
    assert data.tickers == ("AAA", "BBB", "CCC", "DDD")
    assert "universe=custom-" in data.source
    assert SyntheticSource(config).content_hash() == data.content_hash()


@pytest.mark.parametrize("universe, message", [
    ({"stocks": ("A",), "bonds": ("A",)}, "appears twice"),
    ({"equities": ("A",)}, "unknown asset class"),
    ({"stocks": ()}, "no ticker"),
])
def test_bad_universe_is_refused(universe, message) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticConfig(universe=universe)


# -- statistics of the default market ----------------------------------------------------
def test_default_market_has_plausible_annual_figures(default_source) -> None:
    data = default_source.load()
    ret, vol, drawdown = _annual(data.prices)
    at = data.tickers.index
    assert 0.07 <= ret[at("SPY")] <= 0.10 and 0.15 <= vol[at("SPY")] <= 0.20
    assert 0.35 <= drawdown[at("SPY")] <= 0.55
    for bond in ("AGG", "IEF"):
        assert 0.025 <= ret[at(bond)] <= 0.045 and 0.04 <= vol[at(bond)] <= 0.08
    assert vol[at("SHY")] < vol[at("IEF")] < vol[at("TLT")]
    assert 0.55 <= vol[at("BTC-USD")] <= 0.85 and 0.55 <= vol[at("ETH-USD")] <= 0.95
    stocks = [at(t) for t in DEFAULT_UNIVERSE["stocks"]]
    assert np.median(vol[stocks]) > vol[at("AGG")] * 3


def test_plausible_across_seeds() -> None:
    """Loose bounds hold for other seeds too, not only for the calibrated default."""
    for seed in (1, 2, 3):
        data = SyntheticSource(SyntheticConfig(seed=seed)).load()
        ret, vol, drawdown = _annual(data.prices)
        spy = data.tickers.index("SPY")
        assert -0.02 <= ret[spy] <= 0.20 and 0.12 <= vol[spy] <= 0.25
        assert 0.15 <= drawdown[spy] <= 0.80


def test_fat_tails_and_regime_dependent_volatility(default_source) -> None:
    data = default_source.load()
    regimes = default_source.regimes().to_numpy()[1:]
    spy = np.diff(np.log(data.prices[:, data.tickers.index("SPY")]))
    centred = spy - spy.mean()
    assert (centred**4).mean() / (centred**2).mean() ** 2 > 6  # normal is 3
    calm, crash = spy[regimes == "calm"].std(), spy[regimes == "crash"].std()
    assert crash > 2.5 * calm
    vix = data.macro["VIX"][1:]
    assert vix[regimes == "crash"].mean() > vix[regimes == "volatile"].mean() \
        > vix[regimes == "calm"].mean()


def test_treasuries_hedge_stocks_in_crashes_and_credit_does_not(default_source) -> None:
    data = default_source.load()
    crash = default_source.regimes().to_numpy()[1:] == "crash"
    returns = np.diff(np.log(data.prices), axis=0)[crash]
    at = data.tickers.index

    def corr(a: str, b: str) -> float:
        return float(np.corrcoef(returns[:, at(a)], returns[:, at(b)])[0, 1])

    assert corr("SPY", "TLT") < -0.2
    assert corr("SPY", "HYG") > 0.4
    assert corr("SPY", "VNQ") > 0.6
    spread = data.fundamentals["credit_spread"][:, at("HYG")]
    regimes = default_source.regimes().to_numpy()
    assert spread[regimes == "crash"].mean() > spread[regimes == "calm"].mean() * 1.3


def _pooled_rank_ic(data, field: str, asset_class: str, horizon: int = 63) -> float:
    columns = [j for j, a in enumerate(data.assets) if a.asset_class == asset_class]
    values, prices = data.fundamentals[field][:, columns], data.prices[:, columns]
    ics = [spearmanr(values[t], np.log(prices[t + horizon] / prices[t]))[0]
           for t in range(0, data.n_days - horizon, 21)]
    return float(np.mean(ics))


def test_fundamentals_carry_a_real_signal_that_strength_zero_removes() -> None:
    universe = {"stocks": tuple(f"S{i:02d}" for i in range(40))}
    strong = SyntheticSource(SyntheticConfig(seed=2, years=8, universe=universe,
                                             signal_strength=4.0)).load()
    none = SyntheticSource(SyntheticConfig(seed=2, years=8, universe=universe,
                                           signal_strength=0.0)).load()
    strong_ic = _pooled_rank_ic(strong, "book_to_market", "stocks")
    none_ic = _pooled_rank_ic(none, "book_to_market", "stocks")
    assert strong_ic > 0.08
    assert abs(none_ic) < 0.05
    assert strong_ic - none_ic > 0.06


def test_default_signal_is_small() -> None:
    universe = {"stocks": tuple(f"S{i:02d}" for i in range(40))}
    data = SyntheticSource(SyntheticConfig(seed=2, years=8, universe=universe)).load()
    assert 0.0 < _pooled_rank_ic(data, "book_to_market", "stocks") < 0.12
