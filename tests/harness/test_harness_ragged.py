"""The harness on ragged panels: listing, delisting and weights on unlisted assets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo, Decision, WeightError
from alphaloop.data.panel import MarketData
from alphaloop.harness import Window, simulate

NAN = np.nan


def _panel() -> MarketData:
    """A listed all along; B ends on day 2 (of 0-4); C is listed from day 2."""
    dates = pd.bdate_range("2024-01-01", periods=5)
    prices = np.array([
        [100.0, 10.0, NAN],
        [110.0, 12.0, NAN],
        [121.0, 15.0, 50.0],
        [110.0, NAN, 55.0],
        [99.0, NAN, 44.0],
    ])
    assets = (AssetInfo(ticker="A", asset_class="stocks"),
              AssetInfo(ticker="B", asset_class="stocks"),
              AssetInfo(ticker="C", asset_class="crypto"))
    return MarketData(dates=dates, assets=assets, prices=prices,
                      volumes=np.ones(prices.shape), source="ragged")


class Fixed:
    """The same weights on every decision (only those assets listed that day)."""

    name = "fixed"

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights

    def decide(self, view, portfolio) -> Decision:
        return Decision(weights={t: w for t, w in self.weights.items()
                                 if np.isfinite(view.prices[-1, view.column(t)])})


class Greedy:
    """Puts weight on every ticker, listed or not."""

    name = "greedy"

    def decide(self, view, portfolio) -> Decision:
        return Decision(weights=dict.fromkeys(view.tickers, 0.3))


def _window(data: MarketData) -> Window:
    return Window(start=data.dates[0].date(), end=data.dates[-1].date(), label="t")


def test_a_holding_whose_series_ends_is_liquidated_at_its_last_price() -> None:
    data = _panel()
    result = simulate(Fixed({"A": 0.5, "B": 0.5}), data, _window(data), frequency="daily",
                      costs=_no_costs(), initial_capital=1000.0)
    # day 0: 5 units of A (500 / 100), 50 units of B (500 / 10), no cash
    # day 1: 5*110 + 50*12 = 1150, rebalanced 50/50 -> A 575/110 units, B 575/12 units
    # day 2: A 575/110*121 = 632.5, B 575/12*15 = 718.75 -> 1351.25, rebalanced 50/50
    # day 3: B has no price: it was sold at day 2's 15 -> 675.625 cash; A 675.625/121*110
    a_units = 675.625 / 121.0
    expected = [1000.0, 1150.0, 1351.25, a_units * 110 + 675.625, 0.0]
    # day 3's decision puts A back to 0.5 of the value; day 4 values the new holding
    value_3 = expected[3]
    expected[4] = (0.5 * value_3 / 110.0) * 99.0 + 0.5 * value_3
    assert np.allclose(result.values, expected, rtol=0, atol=1e-9)
    assert np.all(np.isfinite(result.values)) and np.all(np.isfinite(result.weights))
    assert result.weights[3, 1] == 0.0 and result.weights[4, 1] == 0.0


def test_liquidation_within_a_holding_period() -> None:
    data = _panel()
    result = simulate(Fixed({"A": 0.5, "B": 0.5}), data, _window(data),
                      frequency="monthly", costs=_no_costs(), initial_capital=1000.0)
    # one decision on day 0: 5 units of A, 50 of B; B sold at 15 after day 2 (750 cash)
    assert np.allclose(result.values, [1000.0, 1150.0, 1355.0, 550.0 + 750.0, 495.0 + 750.0])
    assert np.allclose(result.weights[3], [550.0 / 1300.0, 0.0, 0.0])
    assert result.metrics.max_drawdown == pytest.approx(1 - 1245.0 / 1355.0)


def test_a_weight_on_an_unlisted_asset_is_a_weight_error() -> None:
    data = _panel()
    with pytest.raises(WeightError) as info:
        simulate(Greedy(), data, _window(data), frequency="daily", costs=_no_costs())
    message = str(info.value)
    assert info.value.asset == "C" and "2024-01-01" in message
    assert "listed from 2024-01-03 to 2024-01-05" in message


def test_an_asset_enters_when_listed() -> None:
    data = _panel()
    result = simulate(Fixed({"A": 0.4, "C": 0.4}), data, _window(data), frequency="daily",
                      costs=_no_costs(), initial_capital=1000.0)
    assert result.decision_log.targets[0].tolist() == [0.4, 0.0, 0.0]
    assert result.decision_log.targets[2].tolist() == [0.4, 0.0, 0.4]


def _no_costs():
    from alphaloop.harness import Costs
    return Costs(commission=0.0, slippage=0.0)
