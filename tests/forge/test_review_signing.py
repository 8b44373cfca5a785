"""A role's review counts only if the bot signed it for the PR's head commit and tree."""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from alphaloop.cycle.gate import evaluate_gate
from alphaloop.forge import FORGE_BRANCH, LocalForge, ReviewKey, ReviewKeyError, key_file
from alphaloop.policy import load_policies
from alphaloop.repo import DataBranch, GitRepo, Identity, Snapshot

POLICIES = Path(__file__).resolve().parents[2] / "policies"
INTRUDER = Identity(name="Somebody", email="somebody@example.com")
ROLES = ("risk", "qa", "engineer")


@pytest.fixture
def pr(repo: GitRepo, forge: LocalForge, propose: Callable[..., str]) -> tuple[int, str]:
    shutil.copytree(POLICIES, repo.work_tree / "policies")
    repo.commit_all(repo.work_tree, "policies", Identity(name="Q", email="q@x.invalid"))
    head = propose("alphaloop/c0001-x", {"strategy/tunables.py": "MOMENTUM_LOOKBACK_DAYS = 120\n"})
    number = forge.open_pr(title="Shorter momentum", body="", head_branch="alphaloop/c0001-x",
                           base_branch="main", author_role="quant").number
    return number, head


def _plant(repo: GitRepo, number: int, review_id: int, record: dict) -> None:
    """Write a review record on the forge branch by hand, as anyone with push access can."""
    def change(snap: Snapshot) -> tuple[dict[str, bytes], None]:
        path = f"prs/{number:04d}/reviews/{review_id:04d}.json"
        return {path: json.dumps(record).encode()}, None
    DataBranch(repo, FORGE_BRANCH, INTRUDER).update("review", change)


def _forged(number: int, review_id: int, head: str, reviewer: str = "risk") -> dict:
    return {"pr_number": number, "id": review_id, "reviewer": reviewer, "human": False,
            "commit_sha": head, "verdict": "approve", "severity": 0, "summary": "fine",
            "findings": [], "created_at": "2024-01-02T09:30:00Z"}


def test_bot_reviews_are_signed_with_a_private_key(repo: GitRepo, forge: LocalForge, pr,
                                                   review_key_home: Path) -> None:
    number, head = pr
    review = forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    assert review.signature and review.tree_sha == repo.tree_hash(head, "")
    path = key_file()
    assert path.is_relative_to(review_key_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() not in repo.git("log", "-p", FORGE_BRANCH).text
    assert forge.valid_reviews(number) == [review]
    assert forge.review_check(number).ignored == ()


def test_a_hand_written_risk_review_does_not_let_pr_merge_succeed(
        repo: GitRepo, forge: LocalForge, pr, app: typer.Typer) -> None:
    number, head = pr
    for i, role in enumerate(ROLES, start=1):
        _plant(repo, number, i, _forged(number, i, head, role))
    assert [r.reviewer for r in forge.reviews(number)] == list(ROLES)
    decision = evaluate_gate(repo, forge, number, load_policies(repo.work_tree))
    assert not decision.allowed
    assert f"review by risk on #{number} is not signed by this bot" in \
        decision.ignored_reviews[0]
    assert any("no risk review" in reason for reason in decision.reasons)
    repo.git("config", "user.name", "Ada")
    repo.git("config", "user.email", "ada@example.com")
    result = CliRunner().invoke(app, ["pr", "merge", str(number), "--repo",
                                         str(repo.work_tree)], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "not signed by this bot" in result.stderr and "ignored" in result.stderr
    assert "Traceback" not in result.output
    assert forge.get_pr(number).state == "open"
    assert repo.branch_sha("main") != head


def test_edited_and_rebound_reviews_are_ignored(repo: GitRepo, forge: LocalForge, pr,
                                                propose: Callable[..., str]) -> None:
    number, first = pr
    vetoed = forge.add_review(number, reviewer="risk", commit_sha=first, verdict="veto",
                              severity=3, summary="drawdown 31%")
    # flipping the verdict breaks the signature
    _plant(repo, number, 2, {**vetoed.model_dump(mode="json"), "id": 2, "verdict": "approve"})
    # a signature made for the first head, rebound to a new head of the branch
    approved = forge.add_review(number, reviewer="qa", commit_sha=first, verdict="approve")
    second = propose("alphaloop/c0001-x", {"notes.txt": "moved\n"})
    _plant(repo, number, 4, {**approved.model_dump(mode="json"), "id": 4,
                             "commit_sha": second})
    check = forge.review_check(number)
    assert check.head_sha == second and check.valid == ()
    assert len(check.ignored) == 1 and "review by qa" in check.ignored[0]
    assert [r.reviewer for r in forge.valid_reviews(number)] == []


def test_a_review_signed_for_another_tree_is_rejected(repo: GitRepo, forge: LocalForge,
                                                      pr) -> None:
    number, head = pr
    review = forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    key = ReviewKey.load()
    assert key is not None
    other_tree = repo.tree_hash("main", "")
    resigned = review.model_copy(update={"id": 2, "tree_sha": other_tree})
    resigned = resigned.model_copy(update={"signature": key.sign(resigned.payload())})
    _plant(repo, number, 2, resigned.model_dump(mode="json"))
    assert [r.id for r in forge.valid_reviews(number)] == [1]


def test_without_the_key_no_bot_review_counts(repo: GitRepo, forge: LocalForge, pr,
                                              monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    number, head = pr
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    fresh = LocalForge(repo)
    check = fresh.review_check(number)
    assert check.valid == () and "holds no review key" in check.ignored[0]
    assert not (tmp_path / "elsewhere").exists()  # verifying never makes a key
    monkeypatch.setenv("ALPHALOOP_REVIEW_KEY", "another-key-entirely")
    assert LocalForge(repo).valid_reviews(number) == []


def test_a_key_file_others_can_read_is_refused(repo: GitRepo, forge: LocalForge, pr) -> None:
    number, head = pr
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    key_file().chmod(0o644)
    with pytest.raises(ReviewKeyError, match="chmod 600"):
        LocalForge(repo).add_review(number, reviewer="qa", commit_sha=head, verdict="approve")
    check = LocalForge(repo).review_check(number)
    assert check.valid == () and "chmod 600" in check.ignored[0]


def test_human_approvals_record_who_approved(repo: GitRepo, pr, app: typer.Typer) -> None:
    number, head = pr
    repo.git("config", "user.name", "Ada Human")
    repo.git("config", "user.email", "ada@example.com")
    result = CliRunner().invoke(app, ["pr", "approve", str(number), "--repo",
                                         str(repo.work_tree)])
    assert result.exit_code == 0, result.output
    [review] = LocalForge(repo).valid_reviews(number)
    assert review.human and review.signature is None
    assert (review.reviewer, review.approved_by) == ("Ada Human", "Ada Human <ada@example.com>")
    assert review.commit_sha == head
