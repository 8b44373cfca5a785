"""Inputs a human may get wrong stop the cycle before it writes anything, with an error
naming the file and the key: limits that are no limits, unknown roles, a task.md that
is not UTF-8."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git, make_repo

from alphaloop.cycle import CycleError
from alphaloop.cycle.run import run_cycles
from alphaloop.policy import PolicyError, load_policies
from alphaloop.policy.merge import ROLE_NAMES as MERGE_ROLES
from alphaloop.roles.charter import ROLE_NAMES

PROJECT = Path(__file__).resolve().parents[2]

BAD = [
    ("risk.toml", "max_gross = 1.0", "max_gross = 2.0", "weights.max_gross",
     "asks for leverage"),
    ("merge.toml", "max_parameter_change = 0.20", "max_parameter_change = inf",
     "human_approval.max_parameter_change", "finite number"),
    ("merge.toml", "max_exposure = 0.80", "max_exposure = nan",
     "human_approval.max_exposure", "finite number"),
    ("merge.toml", 'required_approvals = ["risk", "qa", "engineer"]',
     'required_approvals = ["risk", "cfo"]',
     "required_approvals", "'cfo' is not a role"),
    ("risk.toml", "reward_lambda = 5.0", "reward_lambda = inf", "process.reward_lambda",
     "finite number"),
]


@pytest.mark.parametrize(("name", "old", "new", "key", "problem"), BAD,
                         ids=[b[2].split(" =")[0] + "=" + b[2].split("= ")[1] for b in BAD])
def test_a_policy_that_is_no_limit_is_refused(tmp_path: Path, name: str, old: str, new: str,
                                              key: str, problem: str) -> None:
    shutil.copytree(PROJECT / "policies", tmp_path / "policies")
    path = tmp_path / "policies" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    assert f"policies/{name}: {key}: " in str(info.value)
    assert problem in str(info.value)


def test_shorts_allow_a_gross_above_one() -> None:
    from alphaloop.policy.risk import WeightRules

    assert WeightRules(allow_short=True, max_gross=2.0).max_gross == 2.0


def test_the_merge_policy_knows_the_same_roles_as_the_charters() -> None:
    assert MERGE_ROLES == ROLE_NAMES


def test_a_task_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    (repo / "task.md").write_bytes("# Backlog\n\n## T-001: caf\u00e9\n".encode("latin-1"))
    git(repo, "commit", "-q", "-am", "task.md in Latin-1")
    before = git(repo, "rev-parse", "main")
    with pytest.raises(CycleError, match=r"task\.md on main is not UTF-8 text") as info:
        run_cycles(repo, OPTIONS)
    assert "save it as UTF-8" in str(info.value)
    assert git(repo, "rev-parse", "main") == before
    assert not (repo / ".git" / "alphaloop" / "runs").exists() or not any(
        (repo / ".git" / "alphaloop" / "runs").iterdir())
