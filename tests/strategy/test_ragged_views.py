"""The engine on ragged views: newcomers wait for their history, nothing sees NaN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo, MarketView, PortfolioState
from alphaloop.data import FileSource
from strategy.engine import FinSageStrategy
from strategy.risk import estimate_risk_model, screen_universe

FIXTURE = (Path(__file__).parents[1] / "fixtures" / "real-multiasset"
           / "real_multiasset_2015_2020.csv")


def _view(listed_from: int, n_days: int = 40) -> MarketView:
    dates = pd.bdate_range("2024-01-01", periods=n_days)
    rng = np.random.default_rng(3)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n_days, 2)), axis=0))
    prices[:listed_from, 1] = np.nan
    return MarketView(as_of=dates[-1], dates=dates, prices=prices,
                      assets=[AssetInfo(ticker="OLD", asset_class="stocks"),
                              AssetInfo(ticker="NEW", asset_class="stocks")])


def test_a_newcomer_enters_once_listed_for_its_history() -> None:
    for listed_from, days in ((25, 15), (20, 20)):
        waiting = screen_universe(_view(listed_from=listed_from), window=20, min_history=5)
        assert waiting.tradable == ("OLD",)
        assert waiting.excluded["NEW"] == (f"listed for {days} days, fewer than the 21 its "
                                           "windows need")
    entered = screen_universe(_view(listed_from=19), window=20, min_history=5)
    assert entered.tradable == ("OLD", "NEW")
    model = estimate_risk_model(_view(listed_from=19), entered.tradable, window=20)
    assert np.isfinite(model.covariance).all() and model.returns.shape == (20, 2)


@pytest.mark.slow
def test_the_engine_decides_on_a_ragged_real_panel() -> None:
    data = FileSource(FIXTURE).load()
    strategy = FinSageStrategy()
    eth = data.tickers.index("ETH-USD")
    entry = int(data.first_listed[eth])
    for position in (entry + 10, entry + strategy.settings.window + 5):
        view = data.view(position, strategy.lookback)
        portfolio = PortfolioState(as_of=view.as_of, weights={}, cash=1.0, value=1.0,
                                   peak_value=1.0)
        decision = strategy.decide(view, portfolio)
        assert all(np.isfinite(w) and w >= 0 for w in decision.weights.values())
        held = decision.weights.get("ETH-USD", 0.0)
        if position < entry + strategy.settings.window:
            assert held == 0.0
            assert "ETH-USD" in decision.record["excluded_assets"]
        else:
            assert "ETH-USD" not in decision.record["excluded_assets"]
