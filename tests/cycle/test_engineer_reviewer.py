"""The Engineer joins the cycle as a built-in reviewer with one line of policy.

``policies/merge.toml`` of the project does not list it yet; these repositories do
(``required_approvals = ["risk", "engineer"]``), as a team would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, engine_patch, git, make_repo, patch_hypothesis

from alphaloop.cycle.gate import evaluate_gate
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.policy import load_policies
from alphaloop.records import EngineerReviewRecord, Outcome, record_model
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles import forge_verdict
from alphaloop.roles.engineer import Engineer

CASH = "* (1.0 - tunables.CASH_BUFFER)"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "project")
    policy = repo / "policies" / "merge.toml"
    text = policy.read_text()
    assert 'required_approvals = ["risk"]' in text
    policy.write_text(text.replace('required_approvals = ["risk"]',
                                   'required_approvals = ["risk", "engineer"]'))
    git(repo, "commit", "-qam", "The Engineer reviews every pull request")
    return repo


def test_a_clean_change_merges_on_the_engineers_approval(repo: Path) -> None:
    source = patch_hypothesis("more-cash", engine_patch(repo, {CASH: f"{CASH} * 0.75"}),
                              "Hold a quarter more cash")
    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.MERGED, summary.message
    forge = LocalForge(GitRepo.open(repo))
    [pr] = forge.list_prs()
    assert {(r.reviewer, r.verdict) for r in forge.reviews(pr.number)} == {
        ("risk", "approve"), ("engineer", "approve")}
    assert "Engineer: approved: 1 file, +1 -1 lines, no finding" in git(
        repo, "log", "-1", "--format=%B", pr.merge_sha)
    [entry] = Ledger(repo).entries()
    stored = record_model("engineer_review").model_validate(entry.records["engineer_review"])
    assert isinstance(stored, EngineerReviewRecord)
    assert stored.decision == "approve" and stored.author_role == "quant"
    assert "scope" in stored.checks_run and "engineer_review" in summary.timings


def test_a_badly_formatted_change_is_sent_back_by_the_engineer(repo: Path) -> None:
    source = patch_hypothesis("more-cash", engine_patch(repo, {CASH: f"{CASH}*0.75"}),
                              "Hold a quarter more cash")
    before = git(repo, "rev-parse", "main")
    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED, summary.message
    assert "engineer request changes on" in summary.message
    assert "changes requested: 1 finding (1 format)" in summary.message
    forge = LocalForge(GitRepo.open(repo))
    pr = forge.get_pr(summary.pr_number)
    assert pr.state == "closed"
    assert "vetoed by Engineer: changes requested: 1 finding" in (pr.closed_reason or "")
    [review] = [r for r in forge.reviews(pr.number) if r.reviewer == "engineer"]
    assert (review.verdict, review.severity) == ("request_changes", 2)
    line = next(n for n, text in enumerate(
        git(repo, "show", f"{review.commit_sha}:strategy/engine.py").splitlines(), 1)
        if "*0.75" in text)
    assert f"- `strategy/engine.py:{line}` — format — ruff format would rewrite" in review.summary
    [finding] = review.findings
    assert (finding["path"], finding["line"], finding["rule"]) == ("strategy/engine.py",
                                                                   line, "format")
    [entry] = Ledger(repo).entries()
    assert entry.records["risk_review"]["verdict"] == "approve"
    assert entry.records["engineer_review"]["decision"] == "request_changes"
    assert git(repo, "diff", before, "main", "--", "strategy") == ""


def test_a_dependency_change_waits_for_a_human_then_may_merge(repo: Path) -> None:
    """The Engineer approves the code of a dependency change and says a human decides;
    the gate waits for that human (the file is outside the paths the bot merges alone)."""
    git_repo = GitRepo.open(repo)
    forge = LocalForge(git_repo)
    worktree = git_repo.create_worktree("deps", git_repo.branch_sha("main"))
    pyproject = worktree / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        '  "typer>=0.12",\n', '  "typer>=0.12",\n  "leftpad>=1.0",\n'))
    head = git_repo.commit_all(worktree, "Depend on leftpad", Identity(
        name="Test Human", email="human@example.com"))
    number = forge.open_pr(title="Depend on leftpad", body="", head_branch="deps",
                           base_branch="main", author_role="human").number
    record = Engineer(git_repo, forge, load_policies(repo)).review(
        git_repo.branch_sha("main"), head, pr_number=number)
    assert (record.decision, forge_verdict(record)) == ("needs_human", "approve")
    assert "scope" not in record.checks_run  # a person's branch: no role's paths to hold
    forge.add_review(number, reviewer="engineer", commit_sha=head,
                     verdict=forge_verdict(record), severity=record.severity,
                     summary=record.summary, findings=record.findings)
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    policies = load_policies(repo)
    decision = evaluate_gate(git_repo, forge, number, policies, required=["risk", "engineer"])
    assert not decision.allowed and decision.needs_human
    assert any("pyproject.toml" in reason for reason in decision.human_reasons)
    forge.add_review(number, reviewer="Test Human", commit_sha=head, verdict="approve",
                     human=True)
    assert evaluate_gate(git_repo, forge, number, policies,
                         required=["risk", "engineer"]).allowed
