"""The GitHub forge, through the real PyGithub client, against a local GitHub.

Each test runs a :class:`~support.github_server.FakeGitHub` on 127.0.0.1 holding a bare
copy of a small project; the forge works on a clone of it, as a GitHub Actions job does.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.github_server import (
    ALICE_TOKEN,
    BOT,
    BOT_TOKEN,
    MALLORY_TOKEN,
    FakeGitHub,
    github_env,
    serve_clone,
)

from alphaloop.forge import Forge, HeadMoved, InvalidTransition, PullRequestNotFound, render_block
from alphaloop.forge.github import GitHubForge
from alphaloop.forge.github_api import RateLimited, RateLimitedCalls
from alphaloop.forge.github_settings import GitHubConfigError, GitHubSettings
from alphaloop.forge.open import open_forge
from alphaloop.forge.review_block import REVIEW_INFO_STRING
from alphaloop.forge.signing import ReviewKeyError
from alphaloop.repo import GitRepo, Identity

QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid")
QA = Identity(name="AlphaLoop QA", email="qa@alphaloop.invalid")
MERGER = Identity(name="AlphaLoop Merge Gate", email="merge-gate@alphaloop.local")


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def hub_and_clone(tmp_path: Path) -> Iterator[tuple[FakeGitHub, GitRepo]]:
    project = tmp_path / "project"
    repo = GitRepo.init(project)
    (project / "strategy").mkdir()
    (project / "strategy" / "tunables.py").write_text("LOOKBACK = 126\n")
    (project / "notes.txt").write_text("notes\n")
    repo.commit_all(project, "initial", QUANT)
    hub, clone = serve_clone(project, tmp_path)
    yield hub, GitRepo.open(clone)
    hub.stop()


@pytest.fixture
def hub(hub_and_clone: tuple[FakeGitHub, GitRepo]) -> FakeGitHub:
    return hub_and_clone[0]


@pytest.fixture
def clone(hub_and_clone: tuple[FakeGitHub, GitRepo]) -> GitRepo:
    return hub_and_clone[1]


@pytest.fixture
def forge(hub: FakeGitHub, clone: GitRepo) -> GitHubForge:
    return open_forge(clone, "github", approvers=("alice",), environ=github_env(hub))


def _branch(clone: GitRepo, name: str, text: str = "LOOKBACK = 150\n") -> str:
    worktree = clone.create_worktree(name, clone.rev_parse("main"))
    (worktree / "strategy" / "tunables.py").write_text(text)
    return clone.commit_all(worktree, f"set lookback ({name})", QUANT)


def _open(forge: GitHubForge, clone: GitRepo, name: str = "alphaloop/c0001-lookback",
          **extra: object) -> int:
    _branch(clone, name)
    body = "**Hypothesis.** a longer lookback\n\n" + render_block({"statement": "longer",
                                                                   "task_id": "T-001"})
    pr = forge.open_pr(title="[c0001] Longer lookback", body=body, head_branch=name,
                       base_branch="main", author_role="quant",
                       labels=("alphaloop", "hypothesis:parameters"), **extra)
    return pr.number


def test_open_pr_pushes_the_branch_and_carries_labels_and_the_hypothesis(
        hub: FakeGitHub, clone: GitRepo, forge: GitHubForge) -> None:
    number = _open(forge, clone)
    pr = forge.get_pr(number)
    assert hub.branch_sha("alphaloop/c0001-lookback") == clone.rev_parse(
        "alphaloop/c0001-lookback")
    assert pr.labels == ("alphaloop", "hypothesis:parameters")
    assert pr.author_role == "quant" and pr.state == "open"
    assert pr.hypothesis == {"statement": "longer", "task_id": "T-001"}
    assert "author-role" not in pr.body
    # the same branch again: the open pull request, not a second one
    again = forge.open_pr(title="x", body="", head_branch="alphaloop/c0001-lookback",
                          base_branch="main", author_role="quant")
    assert again.number == number and len(hub.pulls) == 1
    assert hub.pulls[number].user.login == BOT


def test_a_person_cannot_claim_a_role_by_writing_the_mark(
        hub: FakeGitHub, clone: GitRepo, forge: GitHubForge) -> None:
    person = open_forge(clone, "github", environ=github_env(hub, MALLORY_TOKEN))
    _branch(clone, "mallory/change")
    pr = person.open_pr(title="mine", body="hello", head_branch="mallory/change",
                        base_branch="main", author_role="quant")
    assert forge.get_pr(pr.number).author_role == "human"


def test_reviews_are_posted_signed_with_statuses_and_count_only_on_their_head(
        hub: FakeGitHub, clone: GitRepo, forge: GitHubForge) -> None:
    number = _open(forge, clone)
    head = forge.head_sha(number)
    review = forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve",
                              summary="within limits", findings=[{"check": "risk.x",
                                                                  "message": "fine"}])
    raw = hub.pulls[number].reviews[-1]
    assert raw["id"] == review.id and raw["commit_id"] == head and raw["state"] == "COMMENTED"
    assert f"```{REVIEW_INFO_STRING}" in raw["body"] and "within limits" in raw["body"]
    assert [s["context"] for s in hub.statuses[head]] == ["alphaloop/risk"]
    assert hub.statuses[head][0]["state"] == "success"
    assert [r.reviewer for r in forge.valid_reviews(number)] == ["risk"]
    # QA commits on the branch here: the forge pushes it, and risk's approval is void
    worktree = clone.worktree_path("alphaloop/c0001-lookback")
    (worktree / "tests").mkdir()
    (worktree / "tests" / "test_x.py").write_text("def test_x():\n    assert True\n")
    new = clone.commit_all(worktree, "QA: tests", QA)
    assert forge.head_sha(number) == new == hub.branch_sha("alphaloop/c0001-lookback")
    check = forge.review_check(number)
    assert check.head_sha == new and check.valid == ()
    forge.add_review(number, reviewer="qa", commit_sha=new, verdict="veto", severity=3,
                     summary="fails")
    assert hub.statuses[new][-1]["state"] == "failure"
    assert [r.verdict for r in forge.valid_reviews(number)] == ["veto"]


def test_a_hand_written_review_block_is_ignored(hub: FakeGitHub, clone: GitRepo,
                                                forge: GitHubForge) -> None:
    number = _open(forge, clone)
    head = forge.head_sha(number)
    genuine = forge.add_review(number, reviewer="risk", commit_sha=head, verdict="veto",
                               severity=3, summary="too much risk")
    forged = genuine.model_dump(mode="json", exclude={"id"}) | {"verdict": "approve",
                                                                 "severity": 0}
    body = f"```{REVIEW_INFO_STRING}\n{json.dumps(forged)}\n```\n"
    hub.review_as(MALLORY_TOKEN, number, "COMMENTED", body=body)
    check = forge.review_check(number)
    assert [r.verdict for r in check.valid] == ["veto"]
    assert any("not signed by this bot" in line for line in check.ignored)


def test_human_approval_counts_only_from_an_approver_on_the_head(
        hub: FakeGitHub, clone: GitRepo, forge: GitHubForge) -> None:
    number = _open(forge, clone)
    head = forge.head_sha(number)
    hub.review_as(MALLORY_TOKEN, number, "APPROVED", body="lgtm")
    hub.review_as(ALICE_TOKEN, number, "COMMENTED", body="looking")
    assert forge.valid_reviews(number) == []
    assert any("mallory" in line and "approver" in line
               for line in forge.review_check(number).ignored)
    hub.review_as(ALICE_TOKEN, number, "APPROVED", body="ok by me")
    [approval] = forge.valid_reviews(number)
    assert approval.human and approval.reviewer == "alice" and approval.commit_sha == head
    assert approval.approved_by == "alice" and approval.verdict == "approve"
    # a push after the approval voids it
    worktree = clone.worktree_path("alphaloop/c0001-lookback")
    (worktree / "notes.txt").write_text("one more change\n")
    moved = clone.commit_all(worktree, "one more change", QUANT)
    assert forge.head_sha(number) == moved and forge.valid_reviews(number) == []
    head = moved
    with pytest.raises(Exception, match="on GitHub itself"):
        forge.add_review(number, reviewer="alice", commit_sha=head, verdict="approve",
                         human=True)


def test_merge_squashes_the_reviewed_head_and_follows_the_base(
        hub: FakeGitHub, clone: GitRepo, forge: GitHubForge) -> None:
    number = _open(forge, clone)
    head = forge.head_sha(number)
    old_main = clone.rev_parse("main")
    sha = forge.merge(number, message="Longer lookback\n\nAlphaLoop-Approval: risk",
                      identity=MERGER, expected_head=head,
                      reviewed_tree=clone.tree_hash(head, ""))
    assert hub.branch_sha("main") == sha == clone.rev_parse("main")
    assert _git(Path(clone.work_tree), "rev-parse", f"{sha}^") == old_main
    assert clone.tree_hash(sha, "strategy") == clone.tree_hash(head, "strategy")
    assert "AlphaLoop-Approval: risk" in _git(Path(clone.work_tree), "log", "-1", "--format=%B",
                                              sha)
    pr = forge.get_pr(number)
    assert pr.state == "merged" and pr.merge_sha == sha and pr.merged_head == head
    assert forge.merge(number, message="again", identity=MERGER) == sha  # idempotent
    with pytest.raises(InvalidTransition):
        forge.update_pr(number, title="changed")


def test_merge_refuses_a_head_that_moved(hub: FakeGitHub, clone: GitRepo,
                                         forge: GitHubForge) -> None:
    number = _open(forge, clone)
    head = forge.head_sha(number)
    other = clone.rev_parse("main")
    with pytest.raises(HeadMoved):
        forge.merge(number, message="m", identity=MERGER, expected_head=other)
    assert hub.pulls[number].state == "open" and hub.branch_sha("main") == other
    assert head == hub.branch_sha("alphaloop/c0001-lookback")


def test_close_with_a_reason_and_supersede(hub: FakeGitHub, clone: GitRepo,
                                           forge: GitHubForge) -> None:
    first = _open(forge, clone, "alphaloop/c0001-lookback")
    second = _open(forge, clone, "alphaloop/c0002-lookback")
    assert forge.close_superseded(second) == [first]
    closed = forge.get_pr(first)
    assert closed.state == "closed" and closed.closed_reason == f"superseded by #{second}"
    assert "superseded" in closed.labels and forge.get_pr(second).state == "open"
    assert [pr.number for pr in forge.list_prs(state="closed")] == [first]


def test_lists_read_every_page(hub: FakeGitHub, clone: GitRepo, forge: GitHubForge) -> None:
    number = _open(forge, clone)
    head = forge.head_sha(number)
    for index in range(105):
        hub.review_as(MALLORY_TOKEN, number, "COMMENTED", body=f"note {index}")
    hub.review_as(ALICE_TOKEN, number, "APPROVED", body="last one")
    pages = len([path for method, path in hub.requests
                 if path.startswith(f"/api/v3/repos/acme/strategy/pulls/{number}/reviews")])
    assert [r.reviewer for r in forge.valid_reviews(number)] == ["alice"]
    after = [path for method, path in hub.requests
             if path.startswith(f"/api/v3/repos/acme/strategy/pulls/{number}/reviews")]
    assert len(after) - pages == 2 and "page=2" in after[-1]  # 106 reviews, 100 a page
    assert head


def test_rate_limits_are_waited_out_from_the_reset_header(
        hub: FakeGitHub, clone: GitRepo) -> None:
    waits: list[float] = []
    settings = GitHubSettings.from_env(github_env(hub))
    forge = GitHubForge(clone, settings, calls=RateLimitedCalls(sleep=waits.append))
    hub.inject_rate_limit(status=403, reset_in=30)
    hub.inject_rate_limit(status=429, reset_in=5)
    with pytest.raises(PullRequestNotFound):
        forge.get_pr(7)
    assert len(waits) == 2 and 25 <= waits[0] <= 32 and 1 <= waits[1] <= 7
    hub.inject_rate_limit(status=429, reset_in=3600)
    bounded = GitHubForge(clone, settings, calls=RateLimitedCalls(max_wait=60,
                                                                   sleep=waits.append))
    with pytest.raises(RateLimited, match="resets in"):
        bounded.list_prs()
    assert len(waits) == 2


def test_rate_limit_wait_with_a_real_sleep(hub: FakeGitHub, clone: GitRepo,
                                           forge: GitHubForge) -> None:
    hub.inject_rate_limit(status=429, reset_in=0)
    assert forge.list_prs() == []
    first = [p for _, p in hub.requests if p == "/api/v3/repos/acme/strategy"]
    assert len(first) == 2  # answered 429 once, then waited and asked again


def test_the_token_is_in_no_log_config_or_url(hub: FakeGitHub, clone: GitRepo,
                                              forge: GitHubForge,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    number = _open(forge, clone)
    forge.add_review(number, reviewer="risk", commit_sha=forge.head_sha(number),
                     verdict="approve")
    assert set(hub.git_auth) <= {BOT, ""} and BOT in hub.git_auth  # pushes authenticated
    git_dir = Path(clone.common_dir)
    texts = [caplog.text, repr(forge), repr(forge.remote), repr(forge.settings),
             (git_dir / "config").read_text(), _git(Path(clone.work_tree), "remote", "-v"),
             _git(Path(clone.work_tree), "config", "--list", "--show-origin")]
    texts += [p.read_text(errors="replace") for p in (git_dir / "logs").rglob("*")
              if p.is_file()]
    for text in texts:
        assert BOT_TOKEN not in text and "x-access-token" not in text
    # a refused push names the problem, never the token
    bad = open_forge(clone, "github", environ={**github_env(hub), "GITHUB_TOKEN": "wrong"})
    _branch(clone, "other")
    with pytest.raises(Exception) as refused:
        bad.remote.push(clone, clone.rev_parse("other"), "other")
    assert "wrong" not in str(refused.value) and "GITHUB_TOKEN" in str(refused.value)


def test_revert_lands_through_a_rollback_pull_request(hub: FakeGitHub, clone: GitRepo,
                                                      forge: GitHubForge) -> None:
    number = _open(forge, clone)
    merged = forge.merge(number, message="Longer lookback", identity=MERGER)
    before = clone.tree_hash(f"{merged}^", "")
    sha = forge.revert(merged, base_branch="main", message="Roll back the lookback",
                       identity=Identity(name="AlphaLoop SRE", email="sre@alphaloop.invalid"))
    assert hub.branch_sha("main") == sha == clone.rev_parse("main")
    assert clone.tree_hash(sha, "") == before
    [rollback] = [pr for pr in forge.list_prs() if pr.head_branch.startswith(
        "alphaloop/revert-")]
    assert rollback.head_branch == f"alphaloop/revert-{merged[:12]}"
    assert rollback.state == "merged" and "rollback" in rollback.labels
    assert rollback.author_role == "sre"
    assert f"AlphaLoop-Reverts: {merged}" in _git(Path(clone.work_tree), "log", "-1",
                                                  "--format=%B", sha)
    assert forge.revert(merged, base_branch="main", message="again",
                        identity=MERGER) == sha  # idempotent


def test_it_is_a_forge(forge: GitHubForge) -> None:
    assert isinstance(forge, Forge)


def test_in_actions_the_review_key_must_be_the_secret(hub: FakeGitHub, clone: GitRepo,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)
    forge = open_forge(clone, "github", environ={**github_env(hub), "GITHUB_ACTIONS": "true"})
    number = _open(forge, clone)
    with pytest.raises(ReviewKeyError, match="add the repository secret ALPHALOOP_REVIEW_KEY"):
        forge.add_review(number, reviewer="risk", commit_sha=forge.head_sha(number),
                         verdict="approve")
    assert hub.pulls[number].reviews == []
    monkeypatch.setenv("ALPHALOOP_REVIEW_KEY", "a secret of the repository")
    forge.add_review(number, reviewer="risk", commit_sha=forge.head_sha(number),
                     verdict="approve")
    assert [r.reviewer for r in forge.valid_reviews(number)] == ["risk"]


def test_missing_settings_name_the_variables(clone: GitRepo) -> None:
    with pytest.raises(GitHubConfigError, match="GITHUB_REPOSITORY and GITHUB_TOKEN"):
        open_forge(clone, "github", environ={})
    with pytest.raises(GitHubConfigError, match="owner/name"):
        open_forge(clone, "github", environ={"GITHUB_REPOSITORY": "x", "GITHUB_TOKEN": "t"})
    with pytest.raises(Exception, match="no forge 'gitlab'"):
        open_forge(clone, "gitlab")


def test_a_branch_that_diverged_from_github_is_refused(hub: FakeGitHub, clone: GitRepo,
                                                       forge: GitHubForge,
                                                       tmp_path: Path) -> None:
    number = _open(forge, clone)
    other = tmp_path / "other"
    _git(tmp_path, "clone", "-q", str(hub.bare), str(other))
    _git(other, "switch", "-q", "alphaloop/c0001-lookback")
    (other / "notes.txt").write_text("someone else's commit\n")
    _git(other, "-c", "user.name=B", "-c", "user.email=b@example.com", "commit", "-qam", "b")
    _git(other, "push", "-q", "origin", "alphaloop/c0001-lookback")
    pushed = hub.branch_sha("alphaloop/c0001-lookback")
    # GitHub moved: the clone's branch follows it
    assert forge.head_sha(number) == pushed == clone.rev_parse("alphaloop/c0001-lookback")
    worktree = clone.worktree_path("alphaloop/c0001-lookback")
    (worktree / "notes.txt").write_text("mine\n")
    clone.commit_all(worktree, "mine", QA)
    (other / "notes.txt").write_text("theirs again\n")
    _git(other, "-c", "user.name=B", "-c", "user.email=b@example.com", "commit", "-qam", "c")
    _git(other, "push", "-q", "origin", "alphaloop/c0001-lookback")
    with pytest.raises(HeadMoved, match="have diverged"):
        forge.head_sha(number)
    assert hub.branch_sha("alphaloop/c0001-lookback") != clone.rev_parse(
        "alphaloop/c0001-lookback")
