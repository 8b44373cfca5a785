"""Factor kernels, the five factor scorers and the factor screener."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri
from scipy.stats import kurtosis, skew

from alphaloop.contract import AssetInfo, ContractError, MarketView
from strategy.factors import (
    SCORERS,
    BondFactorScorer,
    CommodityFactorScorer,
    CryptoFactorScorer,
    FactorScreener,
    FactorSettings,
    REITsFactorScorer,
    StockFactorScorer,
    kernels,
)

STOCKS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA")
BONDS = ("TLT", "IEF", "SHY", "LQD", "HYG", "AGG")
COMMODITIES = ("GLD", "SLV", "USO", "DBA", "COPX")
REITS = ("VNQ", "IYR", "DLR", "EQIX")
CRYPTO = ("BTC-USD", "ETH-USD")
CLASSES = {"stocks": STOCKS, "bonds": BONDS, "commodities": COMMODITIES, "reits": REITS,
           "crypto": CRYPTO}


def build_view(tickers: Mapping[str, str], prices: np.ndarray, *,
               fundamentals: Mapping[str, np.ndarray] | None = None,
               macro: Mapping[str, np.ndarray] | None = None,
               volumes: np.ndarray | None = None) -> MarketView:
    dates = pd.bdate_range("2020-01-01", periods=prices.shape[0])
    return MarketView(as_of=dates[-1], dates=dates, prices=prices, volumes=volumes,
                      assets=[AssetInfo(ticker=t, asset_class=c) for t, c in tickers.items()],
                      fundamentals=fundamentals, macro=macro)


def walk(rng: np.random.Generator, n_days: int, n_assets: int, *, vol: float = 0.01,
         drift: np.ndarray | float = 0.0) -> np.ndarray:
    steps = rng.normal(0.0, vol, size=(n_days, n_assets)) + drift
    steps[0] = 0.0
    return 100.0 * np.exp(np.cumsum(steps, axis=0))


def market(seed: int = 0, n_days: int = 300, *, with_fundamentals: bool = True) -> MarketView:
    """A whole default universe with every field, drawn at random."""
    rng = np.random.default_rng(seed)
    tickers = {t: c for c, ts in CLASSES.items() for t in ts}
    n = len(tickers)
    classes = np.array(list(tickers.values()))
    prices = walk(rng, n_days, n)
    volumes = rng.uniform(1e5, 1e6, size=(n_days, n))

    def field(cls: str, level: float, noise: float) -> np.ndarray:
        out = np.full((n_days, n), np.nan)
        cols = classes == cls
        base = level + rng.normal(0, noise, size=cols.sum())
        out[:, cols] = base + np.cumsum(rng.normal(0, noise / 20, (n_days, cols.sum())), axis=0)
        return out

    fundamentals = {
        "book_to_market": field("stocks", 0.4, 0.1), "profitability": field("stocks", 0.15, 0.05),
        "investment": field("stocks", 0.05, 0.03), "market_cap": np.abs(field("stocks", 500, 200)),
        "earnings_yield": field("stocks", 0.05, 0.01), "yield": field("bonds", 0.04, 0.01),
        "duration": np.abs(field("bonds", 7, 4)),
        "credit_spread": np.abs(field("bonds", 0.01, 0.005)),
        "roll_yield": field("commodities", 0.0, 0.05), "basis": field("commodities", 0.0, 0.01),
        "nav_discount": field("reits", -0.05, 0.05), "sector_outlook": field("reits", 0, 0.3),
        "active_addresses": np.abs(field("crypto", 100, 10)),
        "adoption": np.abs(field("crypto", 100, 10)),
    }
    macro = {"VIX": 20 + rng.normal(0, 1, n_days), "rate_2y": np.full(n_days, 0.02),
             "rate_10y": np.full(n_days, 0.03), "inflation": np.full(n_days, 0.02)}
    return build_view(tickers, prices, volumes=volumes, macro=macro,
                      fundamentals=fundamentals if with_fundamentals else None)


# -- kernels ----------------------------------------------------------------------------------

def test_history_kernels_match_hand_computation() -> None:
    x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, np.nan]])
    np.testing.assert_allclose(kernels.last_valid(x), [3.0, 2.0])
    # column 0: mean 2, population std sqrt(2/3); column 1: one value, flat -> 0
    np.testing.assert_allclose(kernels.own_history_z(x), [1 / math.sqrt(2 / 3), 0.0])
    np.testing.assert_allclose(kernels.scaled_level(x), [3 / math.sqrt(14 / 3), 1.0])
    empty = np.full((3, 1), np.nan)
    assert np.isnan(kernels.own_history_z(empty)).all()
    assert np.isnan(kernels.last_valid(empty)).all()


def test_stacked_history_kernels_agree_with_single_fields() -> None:
    rng = np.random.default_rng(1)
    stack = rng.normal(size=(3, 50, 4))
    stack[1, -1, 2] = np.nan
    for kernel in (kernels.last_valid, kernels.own_history_z, kernels.scaled_level):
        together = kernel(stack)
        for i in range(3):
            np.testing.assert_allclose(together[i], kernel(stack[i]))


def test_momentum_is_the_skipped_window_return_and_its_t_stat() -> None:
    prices = np.array([100.0, 101, 103, 102, 106, 108, 107, 110, 111, 115] * 3).reshape(-1, 1)
    prices = prices * np.linspace(1, 1.3, prices.shape[0]).reshape(-1, 1)
    result = kernels.momentum(prices, lookback=25, skip=2)
    assert result is not None
    total, t_stat = result
    start, end = prices[-26, 0], prices[-3, 0]
    assert total[0] == pytest.approx(end / start - 1)
    daily = np.diff(np.log(prices[-26:-2, 0]))
    expected_t = math.log(end / start) / (daily.std() * math.sqrt(23))
    assert t_stat[0] == pytest.approx(min(expected_t, kernels.CLIP))
    assert kernels.momentum(prices[:20], lookback=252, skip=21) is None


def test_realised_volatility_annualises_the_population_std() -> None:
    rng = np.random.default_rng(2)
    r = rng.normal(0, 0.01, size=(100, 3))
    np.testing.assert_allclose(kernels.realised_volatility(r, 63), r[-63:].std(axis=0) *
                               math.sqrt(252))
    assert np.isnan(kernels.realised_volatility(np.zeros((0, 2)), 10)).all()


def test_cross_sectional_z_scores_and_rank_scores() -> None:
    z, method = kernels.cross_sectional(np.array([1.0, 2, 3, 4, 5]))
    assert method == "zscore"
    np.testing.assert_allclose(z, (np.arange(1, 6) - 3) / math.sqrt(2))
    two, method = kernels.cross_sectional(np.array([5.0, -1.0]))
    assert method == "rank"
    np.testing.assert_allclose(two, [ndtri(0.75), ndtri(0.25)])
    ties, _ = kernels.cross_sectional(np.array([1.0, 1.0, 3.0, np.nan]))
    np.testing.assert_allclose(ties[:3], [ndtri(1 / 3), ndtri(1 / 3), ndtri(5 / 6)])
    assert np.isnan(ties[3])
    flat, _ = kernels.cross_sectional(np.full(6, 0.3))
    np.testing.assert_array_equal(flat, np.zeros(6))
    single, _ = kernels.cross_sectional(np.array([np.nan, 2.0]))
    np.testing.assert_array_equal(single, [np.nan, 0.0])


def test_cross_sectional_rows_agree_with_one_row_at_a_time() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(4, 7))
    rows[1, :4] = np.nan  # three valid: ranks
    rows[2] = 1.5  # flat
    together, _ = kernels.cross_sectional(rows)
    for i in range(4):
        np.testing.assert_allclose(together[i], kernels.cross_sectional(rows[i])[0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=5, max_size=9, unique=True))
def test_z_scores_are_centred_and_unit_scaled(values: list[float]) -> None:
    x = np.array(values)
    if np.ptp(x) < 1e-6 * max(1.0, float(np.abs(x).max())):
        return
    z, _ = kernels.cross_sectional(x)
    assert z.mean() == pytest.approx(0.0, abs=1e-9)
    assert z.std() == pytest.approx(1.0, rel=1e-9)
    _assert_order_preserved(x, z)


def _assert_order_preserved(x: np.ndarray, z: np.ndarray) -> None:
    zi, zj = np.meshgrid(z, z, indexing="ij")
    below = x[:, None] < x[None, :]
    assert np.all(zi[below] <= zj[below] + 1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=4, unique=True))
def test_rank_scores_are_symmetric_and_order_preserving(values: list[float]) -> None:
    x = np.array(values)
    z, method = kernels.cross_sectional(x)
    assert method == "rank"
    assert z.sum() == pytest.approx(0.0, abs=1e-9)
    _assert_order_preserved(x, z)
    if np.diff(np.sort(x)).min() > 1e-6:  # clearly distinct values, distinct scores
        assert len(set(z.tolist())) == len(x)


def test_idiosyncratic_volatility_is_the_residual_of_a_regression_on_the_class_mean() -> None:
    rng = np.random.default_rng(4)
    common = rng.normal(0, 0.01, 200)
    r = np.column_stack([common + rng.normal(0, s, 200) for s in (0.001, 0.002, 0.004, 0.02)])
    idio = kernels.idiosyncratic_volatility(r)
    market = r.mean(axis=1)
    for i in range(4):
        beta, alpha = np.polyfit(market, r[:, i], 1)
        residual = r[:, i] - (alpha + beta * market)
        assert idio[i] == pytest.approx(residual.std() * math.sqrt(252))
    assert np.argmax(idio) == 3


def test_cornish_fisher_var_reduces_to_normal_var_and_grows_with_left_skew() -> None:
    rng = np.random.default_rng(5)
    normal = rng.normal(0, 0.01, 20000)
    var = kernels.cornish_fisher_var(normal.reshape(-1, 1))[0]
    assert var == pytest.approx(-(normal.mean() + ndtri(0.01) * normal.std()), rel=0.05)
    crashy = np.where(rng.random(20000) < 0.02, -0.08, 0.002) + rng.normal(0, 0.005, 20000)
    assert skew(crashy) < -1 and kurtosis(crashy) > 3
    scaled = crashy * normal.std() / crashy.std()  # same volatility, fat left tail
    assert kernels.cornish_fisher_var(scaled.reshape(-1, 1))[0] > var * 1.2


def test_log_growth_scores_steady_growth_near_one() -> None:
    series = (100 * np.exp(0.001 * np.arange(200))).reshape(-1, 1)
    result = kernels.log_growth(series, 20)
    assert result is not None
    last, scaled = result
    assert last[0] == pytest.approx(0.02)
    assert scaled[0] == pytest.approx(1.0)
    assert kernels.log_growth(series[:15], 20) is None


# -- scorers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("asset_class", list(SCORERS))
def test_every_scorer_scores_its_class_with_consistent_records(asset_class: str) -> None:
    view = market(seed=11)
    scorer = SCORERS[asset_class]()
    result = scorer.score(view)
    assert result.asset_class == asset_class and result.as_of == str(view.as_of.date())
    assert list(result.scores) == list(view.tickers_in(asset_class))
    assert result.normalisation == ("zscore" if len(result.scores) >= 5 else "rank")
    assert not set(result.factors_used) & set(result.factors_missing)
    for score in result.scores.values():
        assert set(score.exposures) == set(result.factors_used)
        assert sum(score.weights.values()) == pytest.approx(1.0)
        composite = sum(score.weights[f] * e for f, e in score.exposures.items())
        assert score.composite == pytest.approx(composite)
        assert score.composite_score == pytest.approx(kernels.normal_cdf(score.composite))
        assert score.confidence == pytest.approx(abs(2 * score.composite_score - 1))
        assert score.signal == scorer.signal(score.composite)
        assert score.expected_alpha == pytest.approx(
            scorer.settings.information_coefficient * score.volatility * score.composite)
        assert all(abs(e) <= kernels.CLIP for e in score.exposures.values())
    assert result.model_validate_json(result.model_dump_json()) == result


def test_signal_thresholds() -> None:
    scorer = StockFactorScorer()
    assert [scorer.signal(c) for c in (1.2, 1.0, 0.3, 0.0, -0.24, -0.25, -1.0)] == [
        "STRONG_BUY", "STRONG_BUY", "BUY", "HOLD", "HOLD", "SELL", "STRONG_SELL"]


def test_stock_factors_reward_quality_value_small_conservative_and_trend() -> None:
    rng = np.random.default_rng(6)
    n_days, n = 300, len(STOCKS)
    drift = np.zeros(n)
    drift[0], drift[1] = 0.002, -0.002  # SPY trends up, QQQ down
    prices = walk(rng, n_days, n, vol=0.005, drift=drift)
    flat = np.ones((n_days, n))
    roe, bm, ey = 0.1 * flat, 0.4 * flat, 0.05 * flat
    growth, cap = 0.05 * flat, 300 * flat
    roe[:, 0], bm[:, 0], ey[:, 0], growth[:, 0], cap[:, 0] = 0.3, 0.8, 0.09, 0.0, 50
    roe[:, 1], bm[:, 1], ey[:, 1], growth[:, 1], cap[:, 1] = 0.02, 0.1, 0.01, 0.2, 2000
    noise = rng.normal(0, 1e-4, size=(n_days, n))  # break exact ties of the neutral assets
    view = build_view({t: "stocks" for t in STOCKS}, prices, fundamentals={
        "profitability": roe + noise, "book_to_market": bm + noise, "earnings_yield": ey + noise,
        "investment": growth + noise, "market_cap": cap})
    result = StockFactorScorer().score(view)
    best, worst = result.scores["SPY"], result.scores["QQQ"]
    for factor in ("profitability", "value", "size", "investment", "momentum"):
        assert best.exposures[factor] > 0 > worst.exposures[factor], factor
    assert best.signal in ("BUY", "STRONG_BUY") and worst.signal in ("SELL", "STRONG_SELL")
    assert best.composite == max(s.composite for s in result.scores.values())
    assert result.factors["size"].raw["SPY"] == pytest.approx(50)


def test_bond_factors_use_carry_over_the_short_rate_and_spread_history() -> None:
    rng = np.random.default_rng(7)
    n_days, n = 300, len(BONDS)
    prices = walk(rng, n_days, n, vol=0.002)
    ytm = np.tile(np.linspace(0.03, 0.05, n), (n_days, 1))
    spread = np.full((n_days, n), 0.01) + rng.normal(0, 1e-4, (n_days, n))
    spread[-5:, 4] = 0.03  # HYG's spread just widened: cheap
    duration = np.tile(np.linspace(15, 2, n), (n_days, 1))
    rate = np.full(n_days, 0.02)
    view = build_view({t: "bonds" for t in BONDS}, prices, macro={"rate_2y": rate},
                      fundamentals={"yield": ytm, "credit_spread": spread, "duration": duration})
    result = BondFactorScorer().score(view)
    assert result.factors["carry"].source == "yield-rate_2y"
    assert result.factors["carry"].raw["AGG"] == pytest.approx(0.05 - 0.02)
    carry = [result.scores[t].exposures["carry"] for t in BONDS]
    assert carry == sorted(carry)
    assert result.scores["HYG"].exposures["value"] == max(
        s.exposures["value"] for s in result.scores.values())
    low_risk = [result.factors["low_risk"].cross_section[t] for t in BONDS]
    assert low_risk == sorted(low_risk)  # shorter duration ranks higher


def test_commodity_curve_factors_keep_the_sign_of_the_level() -> None:
    rng = np.random.default_rng(8)
    n_days, n = 300, len(COMMODITIES)
    prices = walk(rng, n_days, n)
    roll = np.tile(np.array([0.10, 0.05, -0.05, -0.10, 0.0]), (n_days, 1))
    view = build_view({t: "commodities" for t in COMMODITIES}, prices,
                      fundamentals={"roll_yield": roll + rng.normal(0, 0.01, (n_days, n))})
    result = CommodityFactorScorer().score(view)
    ts = result.factors["term_structure"].time_series
    assert ts["GLD"] > 0 and ts["SLV"] > 0 and ts["USO"] < 0 and ts["DBA"] < 0
    assert "basis" in result.factors_missing


def test_reits_prefer_a_deeper_than_usual_discount_and_a_good_outlook() -> None:
    rng = np.random.default_rng(9)
    n_days, n = 300, len(REITS)
    prices = walk(rng, n_days, n)
    nav = np.full((n_days, n), -0.05) + rng.normal(0, 0.005, (n_days, n))
    nav[-10:, 2] = -0.20  # DLR now trades far below its NAV
    outlook = np.tile(np.array([0.0, 0.0, 0.5, -0.5]), (n_days, 1))
    view = build_view({t: "reits" for t in REITS}, prices,
                      fundamentals={"nav_discount": nav, "sector_outlook": outlook})
    result = REITsFactorScorer().score(view)
    dlr, eqix = result.scores["DLR"], result.scores["EQIX"]
    assert dlr.exposures["nav_discount"] > 0 and dlr.exposures["sector_outlook"] > 0
    assert eqix.exposures["sector_outlook"] < 0
    assert result.factors["sector_outlook"].time_series["DLR"] == pytest.approx(1.0)
    assert "momentum" not in result.factors_used


def test_crypto_rewards_network_growth_and_penalises_crash_risk() -> None:
    rng = np.random.default_rng(10)
    n_days = 300
    calm = rng.normal(0, 0.01, n_days)
    wild = rng.normal(0, 0.05, n_days)
    prices = 100 * np.exp(np.cumsum(np.column_stack([calm, wild]), axis=0))
    t = np.arange(n_days)
    addresses = np.column_stack([100 * np.exp(0.002 * t), 100 * np.exp(-0.001 * t)])
    view = build_view({t: "crypto" for t in CRYPTO}, prices,
                      fundamentals={"active_addresses": addresses, "adoption": addresses})
    result = CryptoFactorScorer().score(view)
    btc, eth = result.scores["BTC-USD"], result.scores["ETH-USD"]
    assert btc.exposures["network_effect"] > 0 > eth.exposures["network_effect"]
    assert btc.exposures["crash_risk"] > eth.exposures["crash_risk"]
    assert result.factors["crash_risk"].raw["ETH-USD"] > result.factors["crash_risk"].raw[
        "BTC-USD"]
    assert btc.composite > eth.composite


def test_without_fundamentals_scorers_fall_back_to_price_factors_and_say_so() -> None:
    view = market(seed=12, with_fundamentals=False)
    stocks = StockFactorScorer().score(view)
    assert stocks.factors_used == ("size", "momentum")
    assert stocks.factors["size"].source == "dollar_volume (proxy for market_cap)"
    assert set(stocks.factors_missing) == {"profitability", "value", "investment"}
    assert "not in the data" in stocks.factors_missing["value"]
    bonds = BondFactorScorer().score(view)
    assert bonds.factors_used == ("low_risk", "momentum")
    assert bonds.factors["low_risk"].source == "volatility (proxy for duration)"
    reits = REITsFactorScorer().score(view)
    assert reits.factors["momentum"].source == "price (fallback)"
    crypto = CryptoFactorScorer().score(view)
    assert crypto.factors["network_effect"].source.startswith("dollar_volume (proxy")
    assert "adoption" in crypto.factors_missing
    assert CommodityFactorScorer().score(view).factors_used == ("momentum",)


def test_a_short_view_still_scores_and_reports_what_it_lacks() -> None:
    view = market(seed=13, n_days=15)
    for scorer_class in SCORERS.values():
        result = scorer_class().score(view)
        assert all(math.isfinite(s.composite) for s in result.scores.values())
    stocks = StockFactorScorer().score(view)
    assert "needs more than" in stocks.factors_missing["momentum"]


def test_scores_ignore_everything_after_the_decision_date() -> None:
    full = market(seed=14, n_days=320)
    cut = 280
    prices = full.prices.copy()
    prices[cut + 1:] *= 3.0  # a different future
    fundamentals = {k: full.fundamental(k).copy() for k in full.fundamental_fields}
    for v in fundamentals.values():
        v[cut + 1:] = -v[cut + 1:]
    tickers = {a.ticker: a.asset_class for a in full.assets}
    changed = build_view(tickers, prices, fundamentals=fundamentals, volumes=full.volumes,
                         macro={k: full.macro(k) for k in full.macro_series})
    for scorer_class in SCORERS.values():
        a = scorer_class().score(_head(full, cut + 1))
        b = scorer_class().score(_head(changed, cut + 1))
        assert a == b


def _head(view: MarketView, n: int) -> MarketView:
    return MarketView(as_of=view.dates[n - 1], assets=view.assets, dates=view.dates[:n],
                      prices=view.prices[:n], volumes=view.volumes[:n],
                      fundamentals={k: view.fundamental(k)[:n] for k in view.fundamental_fields},
                      macro={k: view.macro(k)[:n] for k in view.macro_series})


def test_momentum_scores_do_not_depend_on_the_price_unit() -> None:
    view = market(seed=15, with_fundamentals=False)
    tickers = {a.ticker: a.asset_class for a in view.assets}
    rescaled = build_view(tickers, view.prices * 37.0, volumes=view.volumes / 37.0)
    for scorer_class in (CommodityFactorScorer, BondFactorScorer):
        a, b = scorer_class().score(view), scorer_class().score(rescaled)
        for t in a.scores:
            assert a.scores[t].composite == pytest.approx(b.scores[t].composite)


def test_a_zero_weight_leaves_the_factor_out() -> None:
    settings_ = FactorSettings.from_params({"STOCK_WEIGHT_MOMENTUM": 0.0})
    result = StockFactorScorer(settings_).score(market(seed=16))
    assert "momentum" not in result.factors_used
    assert result.factors_missing["momentum"] == "weight is 0"


def test_scorers_refuse_assets_of_another_class() -> None:
    with pytest.raises(ContractError, match="scores stocks only"):
        StockFactorScorer().score(market(seed=17), ["SPY", "TLT"])


def test_a_class_absent_from_the_view_gives_an_empty_answer() -> None:
    view = build_view({"SPY": "stocks"}, np.full((30, 1), 100.0))
    result = CryptoFactorScorer().score(view)
    assert result.scores == {} and "no assets" in result.factors_missing["adoption"]


# -- screener ---------------------------------------------------------------------------------

def test_screener_scores_follow_the_spec_scales() -> None:
    screener = FactorScreener()
    value = screener.compute_value_score(np.array([0.05, -0.01, np.nan]),
                                         np.array([1 / 3, 0.5, np.nan]))
    # PE 20 -> 0.5, PB 3 -> 0.5: (0.4 * 0.5 + 0.3 * 0.5) / 0.7 = 0.5
    assert value[0] == pytest.approx(0.5)
    # negative earnings -> 0 on that term; PB 2 -> 0.6
    assert value[1] == pytest.approx(0.3 * 0.6 / 0.7)
    assert np.isnan(value[2])
    np.testing.assert_allclose(screener.compute_quality_score(np.array([0.1, 0.4, -0.1])),
                               [0.5, 1.0, 0.0])
    prices = np.vstack([np.full((10, 2), 100.0), np.full((243, 2), [120.0, 70.0])])
    np.testing.assert_allclose(screener.compute_momentum_score(prices), [0.7, 0.2])
    np.testing.assert_allclose(screener.compute_momentum_score(prices[:100]), [0.5, 0.5])


def test_screen_ranks_by_weighted_composite_and_sorts_missing_last() -> None:
    view = market(seed=18)
    table = FactorScreener().screen_by_factors(
        view, ["SPY", "QQQ", "AAPL", "TLT"], ["value", "quality", "momentum"],
        {"value": 0.3, "quality": 0.4, "momentum": 0.3}, top_n=3)
    assert len(table) == 3 and list(table.columns) == [
        "asset_class", "value", "quality", "momentum", "composite"]
    assert table["composite"].is_monotonic_decreasing
    row = table.iloc[0]
    expected = (0.3 * row["value"] + 0.4 * row["quality"] + 0.3 * row["momentum"])
    assert row["composite"] == pytest.approx(expected)
    everything = FactorScreener().screen_by_factors(view, ["TLT", "SPY"], ["value", "quality"])
    assert list(everything.index) == ["SPY", "TLT"] and np.isnan(everything.loc["TLT",
                                                                                "composite"])


def test_screen_rejects_unknown_factors_and_bad_weights() -> None:
    view = market(seed=19)
    screener = FactorScreener()
    with pytest.raises(ValueError, match="unknown screen factors"):
        screener.screen_by_factors(view, ["SPY"], ["growth"])
    with pytest.raises(ValueError, match="name only the factors"):
        screener.screen_by_factors(view, ["SPY"], ["value"], {"quality": 1.0})
    with pytest.raises(ValueError, match="sum to 0"):
        screener.screen_by_factors(view, ["SPY"], ["value"], {"value": 0.0})
    with pytest.raises(ContractError):
        screener.screen_by_factors(view, ["NOPE"], ["value"])


def test_fundamental_history_days_sets_the_own_history_window() -> None:
    rng = np.random.default_rng(20)
    n_days = 300
    prices = walk(rng, n_days, len(REITS))
    nav = np.full((n_days, len(REITS)), -0.05) + rng.normal(0, 0.002, (n_days, len(REITS)))
    nav[-60:, 0] -= 0.10  # VNQ's discount deepened 60 days ago and stayed there
    view = build_view({t: "reits" for t in REITS}, prices, fundamentals={"nav_discount": nav})
    long = REITsFactorScorer(FactorSettings.from_params({"FUNDAMENTAL_HISTORY_DAYS": 252}))
    short = REITsFactorScorer(FactorSettings.from_params({"FUNDAMENTAL_HISTORY_DAYS": 21}))
    long_ts = long.score(view).factors["nav_discount"].time_series["VNQ"]
    short_ts = short.score(view).factors["nav_discount"].time_series["VNQ"]
    assert long_ts is not None and short_ts is not None
    assert long_ts > 1.5 and abs(short_ts) < 1.5


@pytest.mark.parametrize("seed", range(10))
def test_ratio_kernel_matches_an_elementwise_reference(seed):
    from strategy.factors.kernels import _ratio

    rng = np.random.default_rng(seed)
    pool = np.array([0.0, 1e-16, -1.0, 2.5, np.nan, np.inf, -np.inf, 1e-300])
    num = np.where(rng.random(40) < 0.5, rng.choice(pool, 40), rng.normal(size=40))
    den = np.where(rng.random(40) < 0.5, rng.choice(pool, 40), rng.normal(size=40))

    def reference(a: float, b: float) -> float:
        if b > 1e-15:
            return a / b
        return 0.0 if np.isfinite(a) and np.isfinite(b) else np.nan

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kernel warns about nothing
        out = _ratio(num, den)
    with np.errstate(divide="ignore", invalid="ignore"):  # inf / inf in the reference
        expected = np.array([reference(a, b) for a, b in zip(num, den, strict=True)])
    np.testing.assert_array_equal(out, expected)
