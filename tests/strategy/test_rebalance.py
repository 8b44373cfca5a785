"""The rebalance threshold: holdings are kept when no weight (cash included) would move by
more than it, and traded whenever they break a hard limit or hold an excluded asset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo, MarketView
from strategy.risk import RiskLimits, estimate_risk_model, screen_universe
from strategy.risk.rebalance import check_rebalance, largest_move


def _view() -> MarketView:
    rng = np.random.default_rng(21)
    classes = ("stocks", "bonds", "commodities", "reits")
    assets = [AssetInfo(ticker=f"{c[:3].upper()}{i}", asset_class=c)  # type: ignore[arg-type]
              for c in classes for i in range(3)]
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (260, len(assets))), axis=0))
    dates = pd.bdate_range("2020-01-01", periods=260)
    return MarketView(as_of=dates[-1], assets=assets, dates=dates, prices=prices,
                      volumes=np.full(prices.shape, 1e6))


VIEW = _view()
LIMITS = RiskLimits(max_portfolio_var_95=1.0)
MODEL = estimate_risk_model(VIEW, screen_universe(VIEW, window=252).tradable, window=252)
TARGET = {t: 0.06 for t in VIEW.tickers[:12]}


def test_largest_move_counts_assets_and_cash() -> None:
    assert largest_move({"A": 0.5, "B": 0.2}, {"A": 0.49, "B": 0.2}) == pytest.approx(0.01)
    assert largest_move({"A": 0.1}, {"B": 0.1}) == pytest.approx(0.1)
    spread = {f"T{i}": 0.01 for i in range(20)}
    assert largest_move(spread, {}) == pytest.approx(0.2), "cash moves from 1.0 to 0.8"


def test_small_moves_keep_the_holdings() -> None:
    held = {t: w + (0.01 if i % 2 else -0.01) for i, (t, w) in enumerate(TARGET.items())}
    kept = check_rebalance(TARGET, held, 0.02, MODEL, LIMITS)
    assert not kept.trade and kept.largest_move == pytest.approx(0.01)
    assert "holdings kept" in kept.reason
    assert check_rebalance(TARGET, held, 0.005, MODEL, LIMITS).trade
    assert check_rebalance(TARGET, held, 0.0, MODEL, LIMITS).trade, "no threshold: trade"


def test_holdings_that_break_a_limit_are_traded_whatever_the_move() -> None:
    tight = RiskLimits(max_portfolio_var_95=1.0, max_single_asset=0.065)
    held = dict(TARGET, **{VIEW.tickers[0]: 0.07})
    check = check_rebalance(TARGET, held, 0.02, MODEL, tight)
    assert check.trade and "hard limit" in check.reason
    stale = dict(TARGET, GONE=0.01)
    assert "excluded" in check_rebalance(TARGET, stale, 0.02, MODEL, LIMITS).reason
