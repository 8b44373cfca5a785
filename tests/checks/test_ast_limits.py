"""The literal-limit rule: code may not declare a limit above the policy's hard limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaloop.checks import Finding, check_strategy_source
from alphaloop.checks.ast_limits import LimitMatcher
from alphaloop.policy import Policies

from .conftest import Check


def limits(findings: list[Finding]) -> list[tuple[int | None, str, float, int]]:
    return [(f.line, f.evidence["policy_key"], f.evidence["value"], int(f.severity))
            for f in findings if f.check == "ast.limits"]


@pytest.mark.parametrize(("code", "key", "value"), [
    ("MAX_SINGLE_ASSET = 0.2", "max_single_asset", 0.2),
    ("max_single_asset = 0.2", "max_single_asset", 0.2),
    ("AGGRESSIVE_MAX_SINGLE_ASSET = 0.25", "max_single_asset", 0.25),
    ("self.max_asset_class = 0.6", "max_asset_class", 0.6),
    ("config['max_drawdown_trigger'] = 0.3", "max_drawdown_trigger", 0.3),
    ("max_portfolio_var_95: float = 0.05", "max_portfolio_var_95", 0.05),
    ("max_portfolio_var_95 = -0.05", "max_portfolio_var_95", -0.05),
    ("max_single_asset: float = Field(default=0.3, gt=0)", "max_single_asset", 0.3),
    ("max_single_asset: float = Field(0.3)", "max_single_asset", 0.3),
    ("limits = RiskConfig(max_single_asset=0.2)", "max_single_asset", 0.2),
    ("limits = {'max_asset_class': 0.55}", "max_asset_class", 0.55),
    ("cap = settings.get('max_single_weight', 0.2)", "max_single_asset", 0.2),
    ("def size(w, max_position=0.5): ...", "max_single_asset", 0.5),
    ("def size(w, *, max_asset_class=0.9): ...", "max_asset_class", 0.9),
    ("MAX_SINGLE_ASSET = 0.1 * 3", "max_single_asset", pytest.approx(0.3)),
    ("MAX_SINGLE_ASSET, OTHER = 0.3, 1", "max_single_asset", 0.3),
    ("spec = _float('MAX_SINGLE_ASSET', 0.05, 0.25, 'cap per asset')", "max_single_asset",
     0.25),
    ("spec = ParameterSpec(name='MAX_ASSET_CLASS', kind='float', low=0.3, high=0.7)",
     "max_asset_class", 0.7),
])
def test_limits_above_policy_block(check: Check, code: str, key: str, value: float) -> None:
    findings = check(code + "\n")
    assert limits(findings) == [(1, key, value, 3)]
    assert "policies/risk.toml" in findings[0].message


@pytest.mark.parametrize("code", [
    "MAX_SINGLE_ASSET = 0.15",
    "MAX_SINGLE_ASSET = 0.1",
    "max_asset_class = 0.5",
    "max_portfolio_var_95 = -0.03",
    "max_single_asset: float = Field(default=0.15, gt=0, le=1)",
    "limits = RiskConfig(max_single_asset=limit_from_policy)",
    "MAX_SINGLE_ASSET_COUNT = 20",
    "max_single_assets = 3",
    "single_asset = 0.9",
    "max_weight = 0.3",
    "alert = RiskAlert(code='drawdown_trigger', severity=3)",
    "spec = _float('MAX_SINGLE_ASSET', 0.05, 0.15, 'cap per asset')",
    "MAX_SINGLE_ASSET = True",
    "HEDGE_VAR_TRIGGER = 0.02",
])
def test_limits_within_policy_pass(check: Check, code: str) -> None:
    assert limits(check(code + "\n")) == []


def test_accepted_exception_warns_only_for_its_exact_file_name_and_value(
        check: Check) -> None:
    code = 'risk = {"max_single_asset": 0.20, "max_asset_class": 0.60}\n'
    accepted = check(code, "strategy/config.py")
    assert limits(accepted) == [(1, "max_single_asset", 0.2, 1), (1, "max_asset_class", 0.6, 1)]
    assert "accepted exception" in accepted[0].message
    # another value, or another file, is still blocked
    assert limits(check('risk = {"max_single_asset": 0.25}\n', "strategy/config.py")) == [
        (1, "max_single_asset", 0.25, 3)]
    assert limits(check(code, "strategy/profiles.py")) == [
        (1, "max_single_asset", 0.2, 3), (1, "max_asset_class", 0.6, 3)]


def test_tunables_declared_above_policy(check: Check) -> None:
    findings = check('''\
        """Tunables."""
        MOMENTUM_LOOKBACK_DAYS = 252  # not a limit
        MAX_SINGLE_ASSET = 0.18  # above the policy's 0.15
        DRAWDOWN_TRIGGER = 0.10  # stricter than policy: fine
        MAX_VAR_95 = 0.04
        ''', "strategy/tunables.py")
    assert limits(findings) == [(3, "max_single_asset", 0.18, 3),
                                (5, "max_portfolio_var_95", 0.04, 3)]
    assert findings[0].evidence["snippet"] == "MAX_SINGLE_ASSET = 0.18  # above the policy's 0.15"


def test_matcher_prefers_the_most_specific_name(policies: Policies) -> None:
    matcher = LimitMatcher(policies.risk)
    assert matcher.match("MAX_ASSET_CLASS_WEIGHT") == ("max_asset_class", 0.5)
    assert matcher.match("profile_max_asset_weight") == ("max_single_asset", 0.15)
    assert matcher.match("max_asset") is None


@given(st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, allow_infinity=False),
       st.sampled_from(["MAX_SINGLE_ASSET", "max_asset_class", "max_portfolio_var_95",
                        "strategy_max_drawdown_trigger"]))
def test_flagged_exactly_when_the_magnitude_exceeds_the_limit(
        policies: Policies, value: float, name: str) -> None:
    limit = LimitMatcher(policies.risk).match(name)
    assert limit is not None
    findings = check_strategy_source(f"{name} = {value!r}\n", "strategy/tunables.py", policies)
    flagged = [f for f in findings if f.check == "ast.limits"]
    assert bool(flagged) is (abs(value) > limit[1] + 1e-12)
    assert all(f.severity == 3 for f in flagged)
