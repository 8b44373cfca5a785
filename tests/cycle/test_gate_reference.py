"""The human filter measures what the change does: moves against the last value a human
approved, exposures the backtests decided, raised above the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import git

from alphaloop.cycle.approved import approved_tunables
from alphaloop.cycle.gate import evaluate_gate
from alphaloop.forge import LocalForge
from alphaloop.policy import load_policies
from alphaloop.repo import GitRepo, Identity

QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.local")
ENGINEER = Identity(name="AlphaLoop Engineer", email="engineer@alphaloop.local")


@pytest.fixture()
def setup(cycle_repo: Path):
    repo = GitRepo.open(cycle_repo)
    return repo, LocalForge(repo), load_policies(cycle_repo)


def _propose(repo: GitRepo, forge: LocalForge, name: str, old: str, new: str) -> tuple[int, str]:
    """A PR moving one line of the tunables, approved by Risk with measured exposures."""
    worktree = repo.create_worktree(name, repo.branch_sha("main"))
    target = worktree / "strategy" / "tunables.py"
    assert old in target.read_text()
    target.write_text(target.read_text().replace(old, new))
    head = repo.commit_all(worktree, f"set {new}", QUANT)
    number = forge.open_pr(title=name, body="", head_branch=name, base_branch="main",
                           author_role="quant").number
    return number, head


def _approve(forge: LocalForge, number: int, head: str,
             exposures: dict[str, dict[str, float]] | None = None) -> None:
    findings = [{"check": "risk.exposures", "severity": 0, "message": "peaks",
                 "evidence": exposures or {"branch": {"gross": 0.7}, "main": {"gross": 0.7}}}]
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve",
                     findings=findings)


def _merge(repo: GitRepo, forge: LocalForge, number: int, head: str) -> None:
    forge.merge(number, message=f"automatic merge of #{number}", identity=ENGINEER,
                expected_head=head)
    repo.remove_worktree(forge.get_pr(number).head_branch)


def test_small_automatic_steps_cannot_add_up_past_the_limit(setup) -> None:
    repo, forge, policies = setup
    # step 1: 0.5 -> 0.425 (15% from main and from the baseline): merges alone
    number, head = _propose(repo, forge, "alphaloop/s1", "MOMENTUM_TILT = 0.5",
                            "MOMENTUM_TILT = 0.425")
    _approve(forge, number, head)
    decision = evaluate_gate(repo, forge, number, policies)
    assert decision.allowed and not decision.needs_human, decision.reasons
    _merge(repo, forge, number, head)
    # the automatic merge does not move the reference: it is still the baseline, 0.5
    _, approved = approved_tunables(repo, forge, repo.branch_sha("main"))
    assert approved["MOMENTUM_TILT"] == 0.5
    # step 2: 0.425 -> 0.361 is 15% from main but 27.8% from 0.5: a human must approve
    number, head = _propose(repo, forge, "alphaloop/s2", "MOMENTUM_TILT = 0.425",
                            "MOMENTUM_TILT = 0.361")
    _approve(forge, number, head)
    decision = evaluate_gate(repo, forge, number, policies)
    assert not decision.allowed and decision.needs_human
    [reason] = decision.human_reasons
    assert "MOMENTUM_TILT" in reason and "28% from 0.5" in reason
    assert "the last value a human approved" in reason
    # once a human approves that step, its value is the new reference
    forge.add_review(number, reviewer="Test Human", commit_sha=head, verdict="approve",
                     human=True)
    assert evaluate_gate(repo, forge, number, policies).allowed
    _merge(repo, forge, number, head)
    _, approved = approved_tunables(repo, forge, repo.branch_sha("main"))
    assert approved["MOMENTUM_TILT"] == 0.361
    number, head = _propose(repo, forge, "alphaloop/s3", "MOMENTUM_TILT = 0.361",
                            "MOMENTUM_TILT = 0.307")
    _approve(forge, number, head)
    assert evaluate_gate(repo, forge, number, policies).allowed


def test_a_human_commit_sets_the_reference(setup, cycle_repo: Path) -> None:
    repo, forge, _ = setup
    path = cycle_repo / "strategy" / "tunables.py"
    path.write_text(path.read_text().replace("MOMENTUM_TILT = 0.5", "MOMENTUM_TILT = 0.4"))
    git(cycle_repo, "commit", "-qam", "a human retunes the tilt")
    sha, approved = approved_tunables(repo, forge, repo.branch_sha("main"))
    assert sha == repo.branch_sha("main") and approved["MOMENTUM_TILT"] == 0.4


@pytest.mark.parametrize(("main_gross", "needs_human"), [(0.95, False), (0.85, True)])
def test_exposure_rule_fires_when_the_change_raises_it_above_the_limit(
        setup, main_gross: float, needs_human: bool) -> None:
    repo, forge, policies = setup
    number, head = _propose(repo, forge, "alphaloop/e", "CASH_BUFFER = 0.10",
                            "CASH_BUFFER = 0.11")
    _approve(forge, number, head, {"branch": {"gross": 0.9, "class:equity": 0.4},
                                   "main": {"gross": main_gross, "class:equity": 0.4}})
    decision = evaluate_gate(repo, forge, number, policies)
    assert decision.needs_human == needs_human
    if needs_human:
        assert decision.human_reasons == ["exposure gross = 0.9 (main 0.85) is above 0.8"]
