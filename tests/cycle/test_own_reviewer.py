"""A reviewer of one's own joins the cycle with one module and one line of policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, engine_patch, git, make_repo, patch_hypothesis

from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo

STYLE_REVIEWER = "support.toy_reviewer:PrintReviewer"


def _add_reviewer(repo: Path, entry: str) -> None:
    """The one line of configuration: the reviewer joins ``required_approvals``."""
    policy = repo / "policies" / "merge.toml"
    text = policy.read_text()
    assert 'required_approvals = ["risk"]' in text
    policy.write_text(text.replace('required_approvals = ["risk"]',
                                   f'required_approvals = ["risk", "{entry}"]'))
    git(repo, "commit", "-qam", "Add a reviewer")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "project")
    _add_reviewer(repo, STYLE_REVIEWER)
    return repo


def _cash_patch(repo: Path, comment: str = "") -> str:
    return engine_patch(repo, {"* (1.0 - tunables.CASH_BUFFER)":
                               f"* (1.0 - tunables.CASH_BUFFER) * 0.75{comment}"})


def test_own_reviewer_approves_and_both_approvals_merge(repo: Path) -> None:
    source = patch_hypothesis("more-cash", _cash_patch(repo), "Hold a quarter more cash")
    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.MERGED, summary.message
    forge = LocalForge(GitRepo.open(repo))
    [pr] = forge.list_prs()
    assert {(r.reviewer, r.verdict) for r in forge.reviews(pr.number)} == {
        ("risk", "approve"), ("style", "approve")}
    merge_message = git(repo, "log", "-1", "--format=%B", pr.merge_sha)
    assert "Style: no print call added" in merge_message and "Risk: " in merge_message
    [entry] = Ledger(repo).entries()
    assert entry.records["style_review"]["verdict"] == "approve"
    assert "style_review" in summary.timings


def test_own_reviewer_veto_stops_a_change_risk_approved(repo: Path) -> None:
    source = patch_hypothesis("more-cash", _cash_patch(repo, "  # print(weights)"),
                              "Hold a quarter more cash")
    before = git(repo, "rev-parse", "main")
    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED, summary.message
    assert "style" in summary.message and "1 print left in the strategy's code" in summary.message
    forge = LocalForge(GitRepo.open(repo))
    pr = forge.get_pr(summary.pr_number)
    assert pr.state == "closed" and "vetoed" in pr.labels
    assert "vetoed by Style: 1 print left" in (pr.closed_reason or "")
    [entry] = Ledger(repo).entries()
    assert entry.records["risk_review"]["verdict"] == "approve"
    assert entry.records["style_review"]["findings"][0]["message"].startswith("console output:")
    walkthrough = (repo / "walkthrough.md").read_text()
    assert "| style    |" in walkthrough and "Findings of style:" in walkthrough
    assert "1 print left in the strategy's code" in walkthrough
    # main gained only the PM's report commit; the strategy is unchanged.
    assert git(repo, "diff", before, "main", "--", "strategy") == ""


def test_unknown_reviewer_is_refused_before_anything_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    _add_reviewer(repo, "support.toy_reviewer:NoSuchReviewer")
    with pytest.raises(CycleError, match="has no class 'NoSuchReviewer'"):
        run_cycles(repo, OPTIONS)
    assert Ledger(repo).entries() == []
    assert LocalForge(GitRepo.open(repo)).list_prs() == []


def test_a_reviewer_that_crashes_stops_the_cycle_with_an_explanation(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    _add_reviewer(repo, "support.toy_reviewer:BrokenReviewer")
    before = git(repo, "rev-parse", "main")
    source = patch_hypothesis("more-cash", _cash_patch(repo), "Hold more cash")
    with pytest.raises(CycleError) as info:
        run_cycles(repo, OPTIONS, hypothesis_source=source)
    message = str(info.value)
    assert "stopped in broken_review" in message
    assert "the Broken reviewer (support.toy_reviewer.BrokenReviewer) crashed" in message
    assert "KeyError: 'no such finding'" in message and "--resume" in message
    assert git(repo, "rev-parse", "main") == before  # nothing merged unreviewed
    [pr] = LocalForge(GitRepo.open(repo)).list_prs()
    assert pr.state == "open"
