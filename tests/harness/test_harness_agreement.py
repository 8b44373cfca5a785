"""The vectorised harness agrees with an independent per-day loop to 1e-10."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphaloop.harness import Costs, Window, simulate

TOL = 1e-10


def _check(result, expected) -> None:
    np.testing.assert_allclose(result.values, expected["values"], rtol=TOL, atol=0)
    np.testing.assert_allclose(result.returns, expected["returns"], rtol=0, atol=TOL)
    np.testing.assert_allclose(result.weights, expected["weights"], rtol=0, atol=TOL)
    np.testing.assert_allclose(result.turnover, expected["turnover"], rtol=0, atol=TOL)


@pytest.mark.parametrize("frequency", ["daily", "weekly", "monthly"])
@pytest.mark.parametrize("threshold", [0.0, 0.05])
@pytest.mark.parametrize("costs", [Costs(), Costs(commission=0.0, slippage=0.0),
                                   Costs(commission=0.004, slippage=0.002)])
def test_random_weights_match_the_per_day_loop(hb: ModuleType, frequency: str, threshold: float,
                                               costs: Costs) -> None:
    data = hb.make_data(260, 6, seed=11)
    window = Window(start=data.dates[40].date(), end=data.dates[230].date(), label="w")
    strategy = hb.RandomWeights(seed=5, blend=0.3)
    result = simulate(strategy, data, window, frequency=frequency, costs=costs,
                      rebalance_threshold=threshold, initial_capital=250_000.0)

    expected = hb.reference_backtest(
        data, 40, 230, lambda day, drifted: strategy.target(data.dates[day], drifted),
        frequency=frequency, rate=costs.rate, threshold=threshold, capital=250_000.0)
    _check(result, expected)
    assert len(result.decision_log) == len(expected["states"])
    if threshold > 0 and frequency == "daily":
        assert 0 < len(result.trades) < len(result.decision_log)  # some trades were skipped


def test_the_strategy_sees_the_reference_portfolio_state(hb: ModuleType) -> None:
    data = hb.make_data(200, 4, seed=2)
    window = Window(start=data.dates[10].date(), end=data.dates[190].date())
    seen = []

    class Spy(hb.RandomWeights):
        def decide(self, view, portfolio):
            seen.append(portfolio)
            return super().decide(view, portfolio)

    strategy = Spy(seed=9)
    simulate(strategy, data, window, frequency="weekly", rebalance_threshold=0.02)
    expected = hb.reference_backtest(
        data, 10, 190, lambda day, drifted: strategy.target(data.dates[day], drifted),
        frequency="weekly", rate=Costs().rate, threshold=0.02, capital=1_000_000.0)
    assert len(seen) == len(expected["states"])
    for state, (value, peak, drifted) in zip(seen, expected["states"], strict=True):
        assert state.value == pytest.approx(value, rel=TOL)
        assert state.peak_value == pytest.approx(peak, rel=TOL)
        got = np.array([state.weights[t] for t in data.tickers])
        np.testing.assert_allclose(got, drifted, atol=TOL)
        assert state.cash == pytest.approx(1.0 - drifted.sum(), abs=TOL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_assets=st.integers(1, 5),
    n_days=st.integers(25, 90),
    frequency=st.sampled_from(["daily", "weekly", "monthly"]),
    threshold=st.sampled_from([0.0, 0.01, 0.1]),
    rate=st.floats(0.0, 0.01),
)
def test_agreement_holds_for_any_small_market(hb: ModuleType, seed: int, n_assets: int, n_days: int,
                                              frequency: str, threshold: float,
                                              rate: float) -> None:
    data = hb.make_data(n_days, n_assets, seed=seed)
    window = Window(start=data.dates[0].date(), end=data.dates[-1].date())
    strategy = hb.RandomWeights(seed=seed, blend=0.0, lookback=3)
    result = simulate(strategy, data, window, frequency=frequency,
                      costs=Costs(commission=rate, slippage=0.0), rebalance_threshold=threshold)
    expected = hb.reference_backtest(
        data, 0, n_days - 1,
        lambda day, drifted: hb.random_target(seed, data.dates[day], n_assets),
        frequency=frequency, rate=rate, threshold=threshold, capital=1_000_000.0)
    _check(result, expected)


def test_fixed_weights_without_costs_earn_the_weighted_returns(hb: ModuleType) -> None:
    data = hb.make_data(120, 3, seed=4)
    weights = np.array([0.5, 0.3, 0.2])
    fixed = dict(zip(data.tickers, weights.tolist(), strict=True))
    window = Window(start=data.dates[0].date(), end=data.dates[-1].date())
    result = simulate(lambda_strategy(fixed), data, window, frequency="daily",
                      costs=Costs(commission=0.0, slippage=0.0))
    asset_returns = data.prices[1:] / data.prices[:-1] - 1.0
    np.testing.assert_allclose(result.returns[1:], asset_returns @ weights, atol=1e-13)
    assert result.returns[0] == 0.0


def lambda_strategy(weights):
    class Fixed:
        lookback = 1

        def decide(self, view, portfolio):
            return weights

    return Fixed()


def test_the_first_trade_pays_costs_on_the_invested_notional(hb: ModuleType) -> None:
    data = hb.make_data(60, 2, seed=1)
    window = Window(start=data.dates[0].date(), end=data.dates[-1].date())
    result = simulate(lambda_strategy({"T0": 0.6, "T1": 0.2}), data, window)
    assert result.returns[0] == pytest.approx(-0.0015 * 0.8, rel=1e-12)
    assert result.costs[0] == pytest.approx(0.0015 * 0.8, rel=1e-12)
    trade = result.trades[0]
    assert trade.cost_amount == pytest.approx(1_000_000 * 0.0015 * 0.8)
    assert trade.turnover == pytest.approx(0.8)


def test_cash_earns_nothing(hb: ModuleType) -> None:
    data = hb.make_data(80, 3, seed=8)
    window = Window(start=data.dates[0].date(), end=data.dates[-1].date())
    result = simulate(lambda_strategy({}), data, window, frequency="weekly")
    assert np.all(result.values == 1_000_000.0)
    assert np.all(result.returns == 0.0)
    assert np.all(result.weights == 0.0)
    assert result.trades and all(t.cost == 0.0 for t in result.trades)
