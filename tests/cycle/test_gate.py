"""The merge gate: approvals of the exact head commit, human rules, protected paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import git

from alphaloop.cycle.gate import evaluate_gate, merge_through_gate, tunable_changes
from alphaloop.forge import LocalForge
from alphaloop.policy import load_policies
from alphaloop.repo import GitRepo, Identity

QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.local")


@pytest.fixture()
def setup(cycle_repo: Path):
    repo = GitRepo.open(cycle_repo)
    return repo, LocalForge(repo), load_policies(cycle_repo)


def _branch(repo: GitRepo, name: str, edits: dict[str, tuple[str, str]]) -> str:
    worktree = repo.create_worktree(name, repo.branch_sha("main"))
    for path, (old, new) in edits.items():
        target = worktree / path
        text = target.read_text() if target.exists() else ""
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(old, new) if old else new)
    return repo.commit_all(worktree, f"change on {name}", QUANT)


def _open(forge: LocalForge, branch: str) -> int:
    return forge.open_pr(title=f"PR {branch}", body="", head_branch=branch,
                         base_branch="main", author_role="quant").number


def test_small_move_with_risk_approval_may_merge(setup) -> None:
    repo, forge, policies = setup
    head = _branch(repo, "alphaloop/a", {"strategy/tunables.py": ("CASH_BUFFER = 0.10",
                                                                   "CASH_BUFFER = 0.11")})
    number = _open(forge, "alphaloop/a")
    decision = evaluate_gate(repo, forge, number, policies)
    assert not decision.allowed and "no risk review" in decision.reasons[0]
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    decision = evaluate_gate(repo, forge, number, policies)
    assert decision.allowed and not decision.needs_human
    assert tunable_changes(repo, repo.branch_sha("main"), head) == {
        "CASH_BUFFER": (0.10, 0.11)}


def test_approval_is_void_when_the_branch_moves(setup) -> None:
    repo, forge, policies = setup
    head = _branch(repo, "alphaloop/b", {"strategy/tunables.py": ("CASH_BUFFER = 0.10",
                                                                   "CASH_BUFFER = 0.11")})
    number = _open(forge, "alphaloop/b")
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    worktree = repo.worktree_path("alphaloop/b")
    (worktree / "strategy" / "tunables.py").write_text(
        (worktree / "strategy" / "tunables.py").read_text() + "# moved\n")
    repo.commit_all(worktree, "move the branch", QUANT)
    decision = evaluate_gate(repo, forge, number, policies)
    assert not decision.allowed
    assert any("no risk review of the head commit" in r for r in decision.reasons)


def test_large_move_needs_a_human(setup) -> None:
    repo, forge, policies = setup
    head = _branch(repo, "alphaloop/c", {"strategy/tunables.py": ("CASH_BUFFER = 0.10",
                                                                   "CASH_BUFFER = 0.20")})
    number = _open(forge, "alphaloop/c")
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    decision = evaluate_gate(repo, forge, number, policies)
    assert not decision.allowed and decision.needs_human
    assert "CASH_BUFFER" in decision.human_reasons[0] and "100%" in decision.human_reasons[0]
    # a human writing under a role's name does not count as that role
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="veto", human=True)
    forge.add_review(number, reviewer="Test Human", commit_sha=head, verdict="approve",
                     human=True)
    decision = evaluate_gate(repo, forge, number, policies)
    assert decision.allowed and decision.human_approved


def test_protected_paths_are_never_merged(setup) -> None:
    repo, forge, policies = setup
    head = _branch(repo, "alphaloop/d", {"policies/risk.toml": ("max_single_asset = 0.15",
                                                                 "max_single_asset = 0.40")})
    number = _open(forge, "alphaloop/d")
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    forge.add_review(number, reviewer="Test Human", commit_sha=head, verdict="approve",
                     human=True)
    decision = evaluate_gate(repo, forge, number, policies)
    assert not decision.allowed
    assert any("protected" in r and "policies/risk.toml" in r for r in decision.reasons)


def test_closed_pr_cannot_merge(setup, cycle_repo: Path) -> None:
    repo, forge, policies = setup
    head = _branch(repo, "alphaloop/e", {"strategy/tunables.py": ("CASH_BUFFER = 0.10",
                                                                   "CASH_BUFFER = 0.11")})
    number = _open(forge, "alphaloop/e")
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    forge.update_pr(number, state="closed", closed_reason="not needed")
    assert "closed" in evaluate_gate(repo, forge, number, policies).reasons[0]
    assert git(cycle_repo, "rev-parse", "main") != head


def test_the_merge_commit_names_its_authors_and_the_approvals_it_rests_on(setup) -> None:
    repo, forge, policies = setup
    _branch(repo, "alphaloop/e", {"strategy/tunables.py": ("CASH_BUFFER = 0.10",
                                                            "CASH_BUFFER = 0.20")})
    # A second author adds to the branch (as QA commits its generated tests).
    worktree = repo.worktree_path("alphaloop/e")
    (worktree / "tests" / "generated").mkdir(parents=True)
    (worktree / "tests" / "generated" / "test_cash.py").write_text("def test_x(): pass\n")
    qa = Identity(name="AlphaLoop QA", email="qa@alphaloop.local")
    head = repo.commit_all(worktree, "tests for the change", qa)
    number = _open(forge, "alphaloop/e")
    risk = forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    human = forge.add_review(number, reviewer="Test Human", commit_sha=head,
                             verdict="approve", human=True)
    gate = Identity(**policies.merge.committer.model_dump())
    result = merge_through_gate(repo, forge, number, policies, message="Raise the buffer",
                                identity=gate)
    assert result.merge_sha is not None
    assert [(a.role, a.review_id, a.human) for a in result.decision.approvals] == [
        ("risk", risk.id, False), ("Test Human", human.id, True)]
    who = git(repo.work_tree, "log", "-1", "--format=%an <%ae>|%cn <%ce>", result.merge_sha)
    assert who == ("AlphaLoop Quant <quant@alphaloop.local>|"
                   "AlphaLoop Merge Gate <merge-gate@alphaloop.local>")
    trailers = git(repo.work_tree, "log", "-1", "--format=%(trailers:only)",
                   result.merge_sha).splitlines()
    assert "Co-authored-by: AlphaLoop QA <qa@alphaloop.local>" in trailers
    assert f"AlphaLoop-Approval: risk, review {risk.id}, commit {head}" in trailers
    assert f"AlphaLoop-Approval: human Test Human, review {human.id}, commit {head}" \
        in trailers
    assert f"AlphaLoop-PR: {number}" in trailers  # the forge's own trailers join the block


def test_a_reviewer_may_ask_for_a_human(setup) -> None:
    repo, forge, policies = setup
    head = _branch(repo, "alphaloop/f", {"strategy/tunables.py": ("CASH_BUFFER = 0.10",
                                                                   "CASH_BUFFER = 0.11")})
    number = _open(forge, "alphaloop/f")
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve",
                     findings=[{"check": "dependencies", "needs_human": True,
                                "message": "adds the requirement 'requests'"}])
    decision = evaluate_gate(repo, forge, number, policies)
    assert not decision.allowed and decision.needs_human
    assert decision.human_reasons == ["risk: adds the requirement 'requests'"]
    forge.add_review(number, reviewer="Test Human", commit_sha=head, verdict="approve",
                     human=True)
    assert evaluate_gate(repo, forge, number, policies).allowed
