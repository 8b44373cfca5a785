"""Path ownership: each role changes only its paths; nobody the protected ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaloop.checks import ChangedFile, check_file_modes, check_paths
from alphaloop.policy import Policies, PolicyError


@pytest.mark.parametrize(("role", "path"), [
    ("quant", "strategy/tunables.py"), ("quant", "strategy/experts/stock.py"),
    ("qa", "tests/generated/test_momentum.py"), ("engineer", "tests/checks/test_a.py"),
    ("engineer", "strategy/config.py"), ("sre", "deploy/service.toml"),
    ("pm", "task.md"), ("pm", "walkthrough.md"), ("pm", "ledger/c0001.json"),
    ("pm", "reports/equity.png"),
])
def test_owned_paths_pass(policies: Policies, role: str, path: str) -> None:
    assert check_paths([path], role, policies) == []


@pytest.mark.parametrize(("role", "path", "rule"), [
    ("quant", "alphaloop/harness/simulate.py", "not-owned"),
    ("quant", "strategy/__main__.py", "not-owned"),
    ("quant", "strategy/__init__.py", "not-owned"),
    ("quant", "tests/generated/test_x.py", "not-owned"),
    ("quant", "pyproject.toml", "not-owned"),
    ("qa", "tests/checks/test_paths_check.py", "not-owned"),
    ("qa", "strategy/tunables.py", "not-owned"),
    ("risk", "strategy/tunables.py", "not-owned"),
    ("engineer", "strategy/__main__.py", "not-owned"),
    ("engineer", "strategy/__init__.py", "not-owned"),
    ("sre", "alphaloop/deploy/canary.py", "not-owned"),
    ("pm", "strategy/tunables.py", "not-owned"),
    ("quant", "policies/risk.toml", "protected"),
    ("pm", "roles/pm.toml", "protected"),
    ("sre", ".github/workflows/deploy.yml", "protected"),
    ("quant", "../outside.py", "invalid-path"),
])
def test_foreign_and_protected_paths_block(policies: Policies, role: str, path: str,
                                           rule: str) -> None:
    [finding] = check_paths([path], role, policies)
    assert finding.severity == 3
    assert finding.check == "paths"
    assert finding.evidence["rule"] == rule
    assert finding.path == path


def test_messages_say_what_to_do(policies: Policies) -> None:
    [denied] = check_paths(["strategy/__main__.py"], "quant", policies)
    assert "excluded from the quant role's paths by strategy/__main__.py" in denied.message
    [outside] = check_paths(["README.md"], "qa", policies)
    assert "outside the qa role's paths (tests/generated/**)" in outside.message
    [protected] = check_paths(["policies/risk.toml"], "quant", policies)
    assert "a human maintainer must make this change" in protected.message


def test_unknown_role_is_an_error_not_a_pass(policies: Policies) -> None:
    with pytest.raises(PolicyError, match="no rules for role 'trader'"):
        check_paths(["strategy/a.py"], "trader", policies)


segment = st.text(alphabet="abcxyz_-.0123", min_size=1, max_size=6).filter(
    lambda s: s not in (".", ".."))
roles = st.sampled_from(["quant", "risk", "qa", "engineer", "sre", "pm"])


@given(roles, st.sampled_from(["policies", "roles", ".github"]),
       st.lists(segment, min_size=1, max_size=4))
def test_protected_paths_block_for_every_role(policies: Policies, role: str, top: str,
                                              rest: list[str]) -> None:
    path = "/".join([top, *rest])
    [finding] = check_paths([path], role, policies)
    assert finding.evidence["rule"] == "protected"


@given(st.lists(segment, min_size=1, max_size=4))
def test_quant_owns_everything_in_strategy_but_the_runner(policies: Policies,
                                                          rest: list[str]) -> None:
    path = "/".join(["strategy", *rest])
    blocked = check_paths([path], "quant", policies)
    assert bool(blocked) is (path == "strategy/__main__.py")


def test_links_and_submodules_block() -> None:
    files = [
        ChangedFile(path="strategy/a.py", status="A", old_mode="000000", new_mode="100644"),
        ChangedFile(path="strategy/run.sh", status="M", old_mode="100644", new_mode="100755"),
        ChangedFile(path="strategy/link.py", status="A", old_mode="000000", new_mode="120000"),
        ChangedFile(path="strategy/vendor", status="A", old_mode="000000", new_mode="160000"),
        ChangedFile(path="strategy/old.py", status="D", old_mode="120000", new_mode="000000"),
    ]
    findings = check_file_modes(files)
    assert [(f.path, f.evidence["mode"]) for f in findings] == [
        ("strategy/link.py", "120000"), ("strategy/vendor", "160000")]
    assert "symbolic link" in findings[0].message
