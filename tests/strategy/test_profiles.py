"""The three profiles give visibly different risk on the default synthetic data.

Each profile is backtested through the real harness (``alphaloop.harness.simulate``),
monthly over four years after a year of history, and the realised volatility and maximum
drawdown must be ordered conservative < default < aggressive.
"""

from __future__ import annotations

import pytest

from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from alphaloop.harness import BacktestResult, Window, simulate
from strategy import create_strategy, load_profile

PROFILES = ("conservative", "default", "aggressive")


@pytest.fixture(scope="module")
def results() -> dict[str, BacktestResult]:
    data = SyntheticSource(SyntheticConfig(years=5)).load()
    window = Window(start=data.dates[260].date(), end=data.dates[-1].date(), label="profiles")
    return {name: simulate(create_strategy(name), data, window, frequency="monthly")
            for name in PROFILES}


def test_volatility_and_drawdown_are_ordered_by_profile(results):
    vol = [results[p].metrics.annual_volatility for p in PROFILES]
    drawdown = [results[p].metrics.max_drawdown for p in PROFILES]
    assert vol[0] < vol[1] < vol[2], vol
    assert drawdown[0] < drawdown[1] < drawdown[2], drawdown
    assert vol[2] > 1.3 * vol[0], "the difference is visible, not a rounding"


def test_every_decision_respects_its_profiles_limits(results):
    for name in PROFILES:
        limits = load_profile(name).risk
        for record in results[name].records:
            after = record["risk_report"]["metrics_after"]
            assert after["max_weight"] <= limits.max_single_asset + 1e-9
            assert after["var_95"] <= limits.max_portfolio_var_95 + 1e-9
            classes = {k: v for k, v in record["class_allocation"].items() if k != "cash"}
            assert max(classes.values()) <= limits.max_asset_class + 1e-9


def test_profiles_allocate_differently(results):
    def mean_class(name: str, asset_class: str) -> float:
        records = results[name].records
        return sum(r["class_allocation"].get(asset_class, 0.0) for r in records) / len(records)

    assert mean_class("conservative", "bonds") > mean_class("aggressive", "bonds")
    assert mean_class("aggressive", "stocks") > mean_class("conservative", "stocks")
