"""When a human must approve as well as the bot's roles."""

from __future__ import annotations

from alphaloop.policy import Policies


def test_nothing_unusual_needs_no_human(policies: Policies) -> None:
    reasons = policies.merge.human_approval_reasons(
        changed_paths=["strategy/tunables.py", "tests/generated/test_t.py"],
        parameter_changes={"MOMENTUM_LOOKBACK_DAYS": (252, 280), "FACTOR_WEIGHT": (0.4, 0.44)},
        exposures={"stocks": 0.5})
    assert reasons == []


def test_each_rule_gives_a_reason(policies: Policies) -> None:
    reasons = policies.merge.human_approval_reasons(
        changed_paths=["strategy/a.py", "alphaloop/harness/simulate.py"],
        parameter_changes={"MOMENTUM_LOOKBACK_DAYS": (252, 126), "RISK_AVERSION": (2.5, 2.9),
                           "PORTFOLIO_OPTIMIZER": ("risk_parity", "hrp"),
                           "HEDGE_SKEW_TRIGGER": (0.0, 0.1)},
        exposures={"stocks": 0.85, "crypto": 0.1, "broken": float("nan")})
    text = "\n".join(reasons)
    assert "alphaloop/harness/simulate.py is outside" in text
    assert "strategy/a.py" not in text
    assert "MOMENTUM_LOOKBACK_DAYS moved from 252 to 126 (50%)" in text
    assert "RISK_AVERSION" not in text  # 16% is within 20%
    assert "PORTFOLIO_OPTIMIZER" in text  # a different choice always counts
    assert "HEDGE_SKEW_TRIGGER" in text  # moved away from zero
    assert "exposure stocks = 0.85" in text
    assert "crypto" not in text
    assert "broken" in text  # an exposure that could not be computed is not "fine"
    assert len(reasons) == 6


def test_boundary_is_strict(policies: Policies) -> None:
    reasons = policies.merge.human_approval_reasons(
        parameter_changes={"X": (1.0, 1.2)}, exposures={"gross": 0.8})
    assert reasons == []


def test_exposure_counts_only_when_the_change_raises_it(policies: Policies) -> None:
    rules = policies.merge
    same = rules.human_approval_reasons(exposures={"gross": 0.95780000001},
                                        base_exposures={"gross": 0.9578})
    assert same == []  # the same holdings through another path: float noise, no human
    raised = rules.human_approval_reasons(exposures={"gross": 0.9583},
                                          base_exposures={"gross": 0.9578})
    assert raised == ["exposure gross = 0.9583 (main 0.9578) is above 0.8"]
    lowered = rules.human_approval_reasons(exposures={"gross": 0.85},
                                           base_exposures={"gross": 0.9})
    assert lowered == []
