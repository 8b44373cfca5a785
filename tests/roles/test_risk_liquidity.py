"""Risk's liquidity check: days to liquidate, or "not assessed" when volume is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphaloop.checks.findings import Severity
from alphaloop.contract import AssetInfo, Decision
from alphaloop.data.panel import MarketData
from alphaloop.harness import Costs, Window, simulate
from alphaloop.policy import load_policies
from alphaloop.roles.risk.portfolio import one_liquidity_warning, portfolio_findings

PROJECT = Path(__file__).parents[2]


class Half:
    name = "half"

    def decide(self, view, portfolio) -> Decision:
        return Decision(weights={"A": 0.5, "B": 0.5})


def _data(volumes: np.ndarray) -> MarketData:
    n = volumes.shape[0]
    rng = np.random.default_rng(5)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, 2)), axis=0))
    return MarketData(dates=pd.bdate_range("2024-01-01", periods=n),
                      assets=(AssetInfo(ticker="A", asset_class="stocks"),
                              AssetInfo(ticker="B", asset_class="bonds")),
                      prices=prices, volumes=volumes, source="test")


def _liquidity(volumes: np.ndarray) -> list:
    data = _data(volumes)
    window = Window(start=data.dates[0].date(), end=data.dates[-1].date())
    result = simulate(Half(), data, window, frequency="monthly", costs=Costs())
    policy = load_policies(PROJECT).risk
    return [f for f in portfolio_findings(result, data, policy, label="in-sample")
            if f.check == "risk.liquidity"]


@pytest.mark.parametrize("volumes", [
    np.full((60, 2), np.nan),  # a file without volume
    np.column_stack([np.full(60, 1e9), np.full(60, np.nan)]),  # none for one asset
    np.column_stack([np.full(60, 1e9), np.zeros(60)]),  # no trade in the window
])
def test_missing_volume_is_one_warning_never_a_veto(volumes) -> None:
    findings = _liquidity(volumes)
    assert len(findings) == 1
    [finding] = findings
    assert finding.severity == Severity.WARN
    assert "liquidity not assessed" in finding.message
    assert "inf" not in finding.message


def test_zero_volume_days_count_as_days_without_trades() -> None:
    volumes = np.full((60, 2), 1e9)
    volumes[-5:, 1] = 0.0  # a few days without trades: the average falls, stays finite
    volumes[-3:, 0] = np.nan  # unknown days are left out of the average
    assert _liquidity(volumes) == []
    thin = np.full((60, 2), 10.0)
    thin[-2:, 1] = 0.0
    [finding] = _liquidity(thin)
    assert finding.severity == Severity.RESTRICT and "days to liquidate" in finding.message
    assert np.isfinite(finding.evidence["value"])


def test_a_review_says_not_assessed_once_for_all_its_windows() -> None:
    data = _data(np.column_stack([np.full(60, 1e9), np.full(60, np.nan)]))
    policy = load_policies(PROJECT).risk
    findings = []
    for label, (start, end) in {"in-sample": (0, 39), "holdout": (40, 59)}.items():
        window = Window(start=data.dates[start].date(), end=data.dates[end].date())
        result = simulate(Half(), data, window, frequency="monthly", costs=Costs())
        findings += portfolio_findings(result, data, policy, label=label)
    others = [f for f in findings if "not_assessed" not in (f.evidence or {})]
    merged = one_liquidity_warning(findings)
    [warning] = [f for f in merged if "not_assessed" in (f.evidence or {})]
    assert warning.severity == Severity.WARN
    assert warning.evidence["not_assessed"] == ["B"]
    assert warning.evidence["windows"] == ["in-sample", "holdout"]
    assert "(in-sample, holdout): the data has no volume for B" in warning.message
    assert [f for f in merged if f is not warning] == others
