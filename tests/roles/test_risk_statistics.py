"""Risk's statistics helpers: distinct trials, PBO over distinct configurations, numbers
that never round onto their thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from alphaloop.policy.risk import OverfittingGuards
from alphaloop.roles.risk._format import beside
from alphaloop.roles.risk.overfit import overfitting_findings
from alphaloop.roles.risk.trials import distinct_series, distinct_trials

GUARDS = OverfittingGuards(min_deflated_sharpe_probability=0.95, max_pbo=0.5, pbo_splits=8,
                           min_pbo_trials=4)


@pytest.mark.parametrize(("value", "threshold", "shown"), [
    (0.50003, 0.5, "0.50003"), (0.5, 0.5, "0.5"), (0.123456, 0.5, "0.1235"),
    (0.0500001, 0.05, "0.0500001"), (0.04999999, 0.05, "0.04999999"),
])
def test_a_value_never_prints_as_its_threshold(value: float, threshold: float,
                                                shown: str) -> None:
    assert beside(value, threshold) == shown


def _entry(base: str, head: str, identical: bool = False) -> dict:
    return {"records": {"risk_review": {"base_tree": base, "head_tree": head,
                                        "identical_to_main": identical}}}


def test_distinct_trials_count_trees_against_this_main_once() -> None:
    entries = [_entry("m1", "a"), _entry("m1", "a"), _entry("m1", "b"),
               _entry("m0", "c"), _entry("m1", "d", identical=True), {"records": {}}]
    assert distinct_trials(entries, base_tree="m1", head_tree="e") == 3  # a, b, e
    assert distinct_trials(entries, base_tree="m1", head_tree="a") == 2
    assert distinct_trials([], base_tree="m1", head_tree="x") == 1


def test_identical_series_count_once() -> None:
    a = np.array([0.01, -0.02, 0.0])
    out = distinct_series([a, a.copy(), a + 0.0, np.array([0.01, -0.02, 1e-18]), a[:2]])
    assert len(out) == 3


def test_near_copies_count_once_for_pbo() -> None:
    rng = np.random.default_rng(1)
    main = rng.normal(0.0003, 0.01, 500)
    tweaks = [main + rng.normal(0, 2e-4, 500) for _ in range(5)]  # a tiny tweak each
    other = rng.normal(0.0003, 0.01, 500)
    assert len(distinct_series([main, *tweaks, other])) == 7
    kept = distinct_series([main, *tweaks, other], same_correlation=0.99)
    assert len(kept) == 2 and kept[0] is not None
    result = overfitting_findings(tweaks[0], [0.02] * 7, [main, *tweaks, other],
                                  guards=GUARDS)
    pbo = next(f for f in result.findings if f.check == "overfit.pbo")
    assert result.pbo is None and pbo.severity == 0  # 2 distinct, 4 needed: not used
    assert "near-copies, correlating at least 0.99" in pbo.message


def test_pbo_is_reported_not_used_below_the_distinct_minimum() -> None:
    rng = np.random.default_rng(0)
    main = rng.normal(0.0003, 0.01, 400)
    branch = 0.5 * main + rng.normal(0, 0.005, 400)
    # main three times and the branch twice: two configurations, not five
    result = overfitting_findings(branch, [0.02, 0.03],
                                  [main, main.copy(), branch, main.copy(), branch.copy()],
                                  guards=GUARDS)
    pbo = next(f for f in result.findings if f.check == "overfit.pbo")
    assert result.pbo is None and result.pbo_trials == 2 and pbo.severity == 0
    assert "2 distinct configurations (5 series" in pbo.message
    dsr = next(f for f in result.findings if f.check == "overfit.deflated_sharpe")
    assert dsr.severity == 0 and "evidence only" in dsr.message


def test_pbo_over_enough_distinct_configurations_is_used() -> None:
    rng = np.random.default_rng(1)
    series = [rng.normal(0.0, 0.01, 400) for _ in range(6)]
    result = overfitting_findings(series[0], [0.0] * 6, series, guards=GUARDS)
    assert result.pbo is not None and result.pbo_trials == 6
    pbo = next(f for f in result.findings if f.check == "overfit.pbo")
    assert pbo.severity == (3 if result.pbo > 0.5 else 0)
    assert beside(result.pbo, 0.5) in pbo.message
