"""The drawdown limit holds through a constructed crash: the trusted harness accounts for a
strategy that asks the risk controller to make an equal-weight portfolio safe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo, MarketView, PortfolioState
from alphaloop.data.panel import MarketData
from alphaloop.harness import Window, simulate
from strategy.risk import ControllerSettings, RiskController, RiskLimits

CLASSES = ("stocks", "stocks", "bonds", "commodities", "reits")
CALM_DAYS, CRASH_DAYS, RECOVERY_DAYS = 300, 60, 160


def crash_market(seed: int = 3) -> MarketData:
    """Calm growth, then every asset falls by about half over 60 days, then recovers."""
    rng = np.random.default_rng(seed)
    n = CALM_DAYS + CRASH_DAYS + RECOVERY_DAYS
    drift = np.concatenate([np.full(CALM_DAYS, 0.0004), np.full(CRASH_DAYS, -0.011),
                            np.full(RECOVERY_DAYS, 0.004)])
    noise = rng.normal(0.0, 0.004, size=(n, len(CLASSES)))
    prices = 100 * np.exp(np.cumsum(drift[:, None] + noise, axis=0))
    assets = tuple(AssetInfo(ticker=f"A{i}", asset_class=c)  # type: ignore[arg-type]
                   for i, c in enumerate(CLASSES))
    return MarketData(dates=pd.bdate_range("2015-01-01", periods=n), assets=assets,
                      prices=prices, volumes=np.full(prices.shape, 1e6), source="crash")


class ControlledEqualWeight:
    """Equal weight across the universe, passed through the risk controller."""

    name = "controlled-equal-weight"
    lookback = 260

    def __init__(self, derisk_factor: float) -> None:
        limits = RiskLimits(max_single_asset=0.25, max_asset_class=0.5,
                            max_portfolio_var_95=1.0, target_volatility=5.0)
        self.controller = RiskController(
            limits, ControllerSettings(derisk_factor=derisk_factor, cooldown_days=10))

    def decide(self, view: MarketView, portfolio: PortfolioState) -> dict[str, float]:
        proposed = {t: 0.95 / len(view.tickers) for t in view.tickers}
        return self.controller.review(proposed, view, portfolio).weights


def run(derisk_factor: float):
    data = crash_market()
    window = Window(start=data.dates[260].date(), end=data.dates[-1].date())
    result = simulate(ControlledEqualWeight(derisk_factor), data, window, frequency="daily")
    return data, result


def market_drawdown(data: MarketData) -> float:
    index = data.prices[260:].mean(axis=1)
    return float(1 - (index / np.maximum.accumulate(index)).min())


def test_full_derisking_keeps_the_drawdown_near_the_trigger():
    data, result = run(derisk_factor=0.0)
    assert market_drawdown(data) > 0.45, "the constructed crash halves the market"
    worst_day = float(-np.min(np.asarray(result.returns)))
    # the trigger, plus the day on which it is crossed, plus trading costs
    assert 0.15 <= result.metrics.max_drawdown <= 0.15 + worst_day + 0.005
    final = np.asarray(result.weights)[-1].sum()
    assert final > 0.9, "re-entered once the market recovered"


@pytest.mark.parametrize("kept", [0.25, 0.5])
def test_partial_derisking_loses_only_the_kept_share_of_the_rest_of_the_crash(kept: float):
    data, result = run(derisk_factor=kept)
    bound = 0.15 + kept * market_drawdown(data) + 0.03
    assert 0.15 <= result.metrics.max_drawdown <= bound
    _, full = run(derisk_factor=0.0)
    assert result.metrics.max_drawdown > full.metrics.max_drawdown
