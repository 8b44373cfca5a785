"""The repository's policy files load and hold the values the seeds prescribe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alphaloop.contract import WeightPolicy
from alphaloop.harness.metrics import max_drawdown, reward, sharpe_ratio
from alphaloop.policy import Policies, PolicyError, load_policies


def test_hard_and_soft_limits_are_the_spec_defaults(policies: Policies) -> None:
    hard = policies.risk.hard_limits
    assert (hard.max_single_asset, hard.max_asset_class) == (0.15, 0.50)
    assert (hard.max_drawdown_trigger, hard.max_portfolio_var_95) == (0.15, 0.03)
    soft = policies.risk.soft_limits
    assert (soft.target_volatility, soft.max_correlation_cluster,
            soft.min_diversification_ratio) == (0.12, 0.60, 1.2)


def test_guards_process_and_compliance(policies: Policies) -> None:
    guards = policies.risk.overfitting
    assert guards.min_deflated_sharpe_probability == 0.95
    assert guards.max_pbo == 0.5
    assert guards.min_pbo_trials >= 2
    assert policies.risk.process.deadlock_vetoes == 3
    assert policies.risk.process.reward_lambda == 5.0
    assert isinstance(policies.risk.compliance.blocklist, tuple)


def test_reward_is_sharpe_minus_the_policys_lambda_times_drawdown(policies: Policies) -> None:
    returns = np.random.default_rng(0).normal(0.0005, 0.01, 250)
    lam = policies.risk.process.reward_lambda
    assert reward(returns, lam) == pytest.approx(sharpe_ratio(returns)
                                                 - 5.0 * max_drawdown(returns))


def test_weight_policy_feeds_the_contract(policies: Policies) -> None:
    weight_policy = policies.risk.weight_policy()
    assert isinstance(weight_policy, WeightPolicy)
    assert weight_policy.allow_short is False
    assert weight_policy.max_gross == 1.0


def test_stress_limits_cover_every_scenario(policies: Policies) -> None:
    from alphaloop.data.crises import CRISIS_WINDOWS
    from alphaloop.data.stress import STRESS_SCENARIOS

    assert set(policies.risk.stress.scenarios) == set(STRESS_SCENARIOS) | set(CRISIS_WINDOWS)


def test_stress_limits_fall_back_to_the_default(policies: Policies) -> None:
    stress = policies.risk.stress
    assert stress.limit_for("synthetic_rates_shock") == \
        stress.scenarios["synthetic_rates_shock"] == 0.15
    assert stress.limit_for("no_such_scenario") == stress.default_max_drawdown


@pytest.mark.parametrize(("kind", "warn", "restrict", "value", "grade"), [
    ("max", 0.1, 0.2, 0.05, 0), ("max", 0.1, 0.2, 0.1, 0), ("max", 0.1, 0.2, 0.15, 1),
    ("max", 0.1, 0.2, 0.25, 2), ("min", 10, 6, 12, 0), ("min", 10, 6, 8, 1),
    ("min", 10, 6, 5, 2), ("max", 0.1, 0.2, float("nan"), 2),
])
def test_threshold_grades(kind: str, warn: float, restrict: float, value: float,
                          grade: int) -> None:
    from alphaloop.policy import Threshold

    assert Threshold(kind=kind, warn=warn, restrict=restrict).grade(value) == grade


def test_import_allowlist_holds_the_agreed_modules(policies: Policies) -> None:
    imports = policies.imports
    for module in ("numpy", "scipy.optimize", "pandas", "pydantic", "math", "statistics",
                   "dataclasses", "enum", "typing", "collections.abc", "functools",
                   "itertools", "abc", "__future__", "operator", "copy", "logging",
                   "alphaloop.contract", "strategy.optimizers", "json"):
        assert imports.refusal(module) is None, module
    for module in ("os", "sys", "subprocess", "socket", "shutil", "pathlib", "io",
                   "requests", "urllib.request", "http.client", "ctypes", "multiprocessing",
                   "threading", "signal", "importlib", "alphaloop", "alphaloop.harness",
                   "alphaloop.data", "scipy.io", "pandas.io.parquet", "numpyx",
                   "strategy.__main__"):
        assert imports.refusal(module) is not None, module
    assert imports.restricted_names("json") == ("JSONDecodeError", "dumps", "loads")


def test_runner_reaches_alphaloop_through_its_entry_point_only(policies: Policies) -> None:
    imports = policies.imports
    assert imports.runner.path == "strategy/__main__.py"
    assert imports.refusal("alphaloop.backtest.entry", runner=True) is None
    assert imports.refusal("alphaloop.harness", runner=True) is not None
    assert imports.refusal("alphaloop.data.panel", runner=True) is not None
    assert imports.refusal("os", runner=True) is not None


def test_path_ownership(policies: Policies) -> None:
    paths = policies.paths
    assert paths.may_write("quant", "strategy/tunables.py")
    assert not paths.may_write("quant", "strategy/__main__.py")
    assert not paths.may_write("quant", "alphaloop/harness/simulate.py")
    assert paths.may_write("qa", "tests/generated/test_x.py")
    assert not paths.may_write("qa", "tests/checks/test_x.py")
    assert paths.may_write("pm", "task.md") and paths.may_write("pm", "ledger/c0001.json")
    assert not paths.may_write("pm", "tasks.md")
    assert paths.may_write("sre", "deploy/canary.toml")
    assert paths.may_write("engineer", "tests/checks/test_x.py")
    assert paths.role("engineer").formatting_only
    for role in paths.roles:
        for protected in ("policies/risk.toml", "roles/quant.toml", ".github/CODEOWNERS"):
            assert not paths.may_write(role, protected)
    with pytest.raises(PolicyError, match="no rules for role 'cro'"):
        paths.role("cro")


def test_merge_policy(policies: Policies) -> None:
    merge = policies.merge
    assert merge.method == "squash"
    assert merge.required_approvals[0] == "risk"
    assert set(merge.required_approvals) <= {"risk", "qa", "engineer"}
    assert merge.human_approval.max_parameter_change == 0.20
    assert merge.human_approval.max_exposure == 0.80


def test_improvement_tests_state_confidence_effects_and_margins(policies: Policies) -> None:
    tests = policies.risk.improvement
    assert 0.5 <= tests.confidence < 1 and 0.5 <= tests.holdout_confidence < 1
    assert tests.min_effect["reward"] > 0 and tests.margin["reward"] > 0
    assert set(tests.min_effect) == set(tests.margin)


@pytest.mark.parametrize(("section", "value", "needle"), [
    ("min_effect", {"reward": 0.05}, "lacks"),
    ("margin", {**dict.fromkeys(("reward", "sharpe", "calmar", "max_drawdown",
                                 "annual_return", "annual_volatility", "turnover"), 0.1),
                "max_drawdown": 2.0}, "outside [0, 1]"),
])
def test_improvement_thresholds_are_validated(policies: Policies, section: str,
                                               value: dict[str, float], needle: str) -> None:
    from pydantic import ValidationError

    from alphaloop.policy import ImprovementTests
    raw = policies.risk.improvement.model_dump()
    raw[section] = value
    with pytest.raises(ValidationError, match=needle.replace("[", r"\[")):
        ImprovementTests.model_validate(raw)


def test_the_search_policy_is_optional(policy_copy: Path) -> None:
    with_file = load_policies(policy_copy)
    assert with_file.search.objective == "reward" and with_file.search.budget == 0
    assert "policies/search.toml" in with_file.file_digests
    (policy_copy / "policies" / "search.toml").unlink()
    without = load_policies(policy_copy)
    assert without.search == with_file.search  # the shipped file states the defaults
    assert "policies/search.toml" not in without.file_digests
    assert without.digest != with_file.digest


def test_a_wrong_search_policy_names_the_file_and_key(policy_copy: Path) -> None:
    search = policy_copy / "policies" / "search.toml"
    search.write_text(search.read_text().replace('objective = "reward"',
                                                 'objective = "profit"'))
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_copy)
    assert "policies/search.toml" in str(caught.value) and "objective" in str(caught.value)
