"""LocalForge over real repositories: PRs and reviews in git, merges that keep user work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from alphaloop.forge import (
    FORGE_BRANCH,
    Forge,
    ForgeCorrupt,
    HeadMoved,
    InvalidTransition,
    LocalForge,
    NoForge,
    PullRequestNotFound,
    render_block,
)
from alphaloop.repo import (
    DataBranch,
    GitRepo,
    Identity,
    LocalChangesOverlap,
    MergeConflict,
    RefNotFound,
)

Propose = Callable[..., str]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def open_quant_pr(forge: LocalForge, branch: str = "alphaloop/c0001-momentum") -> int:
    body = "Shorter momentum window.\n\n" + render_block({"statement": "126 -> 63 days"})
    return forge.open_pr(title="Shorter momentum", body=body, head_branch=branch,
                         base_branch="main", author_role="quant", labels=["quant"]).number


def test_local_forge_implements_the_protocol(forge: LocalForge) -> None:
    assert isinstance(forge, Forge)


def test_open_pr_numbers_sequentially_and_stores_records_in_git_only(
        repo: GitRepo, forge: LocalForge, propose: Propose) -> None:
    (repo.work_tree / "notes.txt").write_text("user's unsaved notes\n")
    head_before = repo.head_sha()
    assert not forge.exists() and forge.list_prs() == []
    with pytest.raises(NoForge, match="alphaloop cycle"):
        forge.require()
    propose("alphaloop/c0001-momentum", {"strategy/tunables.py": "MOMENTUM_LOOKBACK_DAYS = 63\n"})
    propose("alphaloop/c0002-value", {"strategy/value.py": "V = 1\n"})

    first = open_quant_pr(forge)
    second = forge.open_pr(title="Value tilt", body="", head_branch="alphaloop/c0002-value",
                           base_branch="main", author_role="quant")

    assert (first, second.number) == (1, 2)
    forge.require()
    pr = forge.get_pr(1)
    assert pr.hypothesis == {"statement": "126 -> 63 days"}
    assert (pr.state, pr.labels, pr.author_role) == ("open", ("quant",), "quant")
    assert pr.created_at.tzinfo is not None and pr.created_at < second.created_at
    stored = git(repo.work_tree, "ls-tree", "-r", "--name-only", FORGE_BRANCH).splitlines()
    assert stored == ["README.md", "prs/0001/pr.json", "prs/0002/pr.json"]
    assert git(repo.work_tree, "rev-list", "--max-parents=0", FORGE_BRANCH) == git(
        repo.work_tree, "rev-list", "--reverse", FORGE_BRANCH).splitlines()[0]  # orphan root
    assert repo.head_sha() == head_before
    assert git(repo.work_tree, "status", "--porcelain") == "M notes.txt"


def test_opening_again_for_the_same_branch_returns_the_open_pr(
        repo: GitRepo, forge: LocalForge, propose: Propose) -> None:
    propose("alphaloop/c0001-momentum", {"notes.txt": "x\n"})
    first = open_quant_pr(forge)
    commits = repo.branch_sha(FORGE_BRANCH)
    assert open_quant_pr(forge) == first
    assert repo.branch_sha(FORGE_BRANCH) == commits  # nothing written
    forge.update_pr(first, state="closed", closed_reason="superseded")
    assert open_quant_pr(forge) == first + 1


def test_unknown_numbers_and_branches_are_named(forge: LocalForge, propose: Propose) -> None:
    with pytest.raises(PullRequestNotFound, match="#7"):
        forge.get_pr(7)
    with pytest.raises(RefNotFound, match="no-such-branch"):
        forge.open_pr(title="t", body="", head_branch="no-such-branch", base_branch="main",
                      author_role="quant")
    propose("topic", {"notes.txt": "x\n"})
    open_quant_pr(forge, "topic")
    with pytest.raises(PullRequestNotFound, match="alphaloop pr list"):
        forge.reviews(2)


def test_update_close_and_reopen(forge: LocalForge, propose: Propose) -> None:
    propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    pr = forge.update_pr(number, title="Better title", labels=["quant", "needs-human", "quant"])
    assert (pr.title, pr.labels) == ("Better title", ("quant", "needs-human"))
    assert pr.updated_at > pr.created_at
    closed = forge.update_pr(number, state="closed", closed_reason="vetoed by risk")
    assert (closed.state, closed.closed_reason) == ("closed", "vetoed by risk")
    assert closed.closed_at is not None
    assert [p.number for p in forge.list_prs(state="closed")] == [number]
    assert forge.list_prs(state="open") == []
    reopened = forge.update_pr(number, state="open")
    assert (reopened.state, reopened.closed_at, reopened.closed_reason) == ("open", None, None)
    with pytest.raises(InvalidTransition, match="alphaloop pr merge"):
        forge.update_pr(number, state="merged")


def test_reviews_are_bound_to_a_commit_and_void_when_the_branch_moves(
        repo: GitRepo, forge: LocalForge, propose: Propose) -> None:
    first_head = propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    risk = forge.add_review(number, reviewer="risk", commit_sha=first_head, verdict="approve",
                            summary="limits respected", findings=[{"check": "var", "ok": True}])
    forge.add_review(number, reviewer="qa", commit_sha=first_head[:10], verdict="approve")
    assert risk.id == 1 and risk.findings == ({"check": "var", "ok": True},)
    assert forge.head_sha(number) == first_head
    assert [r.reviewer for r in forge.valid_reviews(number)] == ["risk", "qa"]
    assert forge.valid_reviews(number)[1].commit_sha == first_head  # short sha resolved

    second_head = propose("topic", {"notes.txt": "y\n"}, "follow-up")
    assert forge.head_sha(forge.get_pr(number)) == second_head
    assert forge.valid_reviews(number) == []
    assert len(forge.reviews(number)) == 2
    forge.add_review(number, reviewer="risk", commit_sha=second_head, verdict="veto",
                     severity=3, summary="VaR over limit")
    assert [(r.reviewer, r.verdict) for r in forge.valid_reviews(number)] == [("risk", "veto")]
    with pytest.raises(ValidationError):
        forge.add_review(number, reviewer="risk", commit_sha=second_head, verdict="veto",
                         severity=4)
    with pytest.raises(RefNotFound):
        forge.add_review(number, reviewer="qa", commit_sha="f" * 40, verdict="approve")
    forge.update_pr(number, state="closed")
    with pytest.raises(InvalidTransition, match="only open"):
        forge.add_review(number, reviewer="qa", commit_sha=second_head, verdict="approve")


def test_merge_squashes_into_base_and_is_idempotent(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    head = propose("topic", {"strategy/tunables.py": "MOMENTUM_LOOKBACK_DAYS = 63\n"})
    number = open_quant_pr(forge, "topic")
    old_main = repo.rev_parse("main")
    sha = forge.merge(number, message="Shorter momentum (#1)", identity=merger,
                      expected_head=head)
    assert repo.rev_parse("main") == sha
    assert git(repo.work_tree, "log", "-1", "--format=%P|%an|%B", sha) == (
        f"{old_main}|{merger.name}|Shorter momentum (#1)\n\n"
        f"AlphaLoop-PR: {number}\nAlphaLoop-Head: {head}")
    pr = forge.get_pr(number)
    assert (pr.state, pr.merge_sha, pr.merged_head) == ("merged", sha, head)
    assert forge.merge(number, message="again", identity=merger) == sha
    assert repo.rev_parse("main") == sha
    assert forge.head_sha(pr) == head
    with pytest.raises(InvalidTransition, match="merged"):
        forge.update_pr(number, title="late edit")


def test_merge_refuses_a_moved_head_and_a_closed_pr(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    checked = propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    propose("topic", {"notes.txt": "sneaky\n"}, "after review")
    main = repo.rev_parse("main")
    with pytest.raises(HeadMoved, match="reviews must be redone"):
        forge.merge(number, message="m", identity=merger, expected_head=checked)
    forge.update_pr(number, state="closed")
    with pytest.raises(InvalidTransition, match="reopen"):
        forge.merge(number, message="m", identity=merger)
    assert repo.rev_parse("main") == main


def test_merge_stops_on_overlapping_user_changes_then_succeeds_once_committed(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    propose("topic", {"notes.txt": "from the bot\n"})
    number = open_quant_pr(forge, "topic")
    (repo.work_tree / "notes.txt").write_text("the user's own edit\n")
    main = repo.rev_parse("main")
    with pytest.raises(LocalChangesOverlap) as caught:
        forge.merge(number, message="m", identity=merger)
    assert caught.value.files == ["notes.txt"]
    assert f"alphaloop pr merge {number}" in str(caught.value)
    assert repo.rev_parse("main") == main
    assert (repo.work_tree / "notes.txt").read_text() == "the user's own edit\n"
    assert forge.get_pr(number).state == "open"
    git(repo.work_tree, "stash", "--quiet")
    sha = forge.merge(number, message="m", identity=merger)
    assert (repo.work_tree / "notes.txt").read_text() == "from the bot\n"
    assert forge.get_pr(number).merge_sha == sha


def test_merge_conflict_leaves_the_pr_open(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    propose("left", {"notes.txt": "left\n"})
    propose("right", {"notes.txt": "right\n"})
    left = open_quant_pr(forge, "left")
    right = open_quant_pr(forge, "right")
    forge.merge(left, message="left", identity=merger)
    with pytest.raises(MergeConflict) as caught:
        forge.merge(right, message="right", identity=merger)
    assert caught.value.paths == ["notes.txt"]
    assert forge.get_pr(right).state == "open"


def test_merge_resumes_after_a_crash_between_merging_and_recording(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    head = propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    # The state a crash leaves: main holds the squash commit, the PR is still open.
    landed = repo.squash_merge("topic", "main", f"m\n\nAlphaLoop-PR: {number}\n"
                               f"AlphaLoop-Head: {head}\n", merger)
    propose("topic", {"notes.txt": "later\n"}, "pushed after the merge")
    assert forge.merge(number, message="m", identity=merger) == landed
    pr = forge.get_pr(number)
    assert (pr.state, pr.merge_sha, pr.merged_head) == ("merged", landed, head)
    assert repo.rev_parse("main") == landed


def test_a_hand_edited_record_is_reported_not_used(repo: GitRepo, forge: LocalForge,
                                                   propose: Propose) -> None:
    propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    store = DataBranch(repo, FORGE_BRANCH, Identity(name="someone", email="s@x.invalid"))
    store.update("hand edit", lambda snap: ({"prs/0001/pr.json": snap.read(
        "prs/0001/pr.json").replace(b'"open"', b'"approved"')}, None))
    with pytest.raises(ForgeCorrupt, match=r"prs/0001/pr\.json"):
        forge.get_pr(number)
    with pytest.raises(ForgeCorrupt, match=r"prs/0001/pr\.json"):
        forge.list_prs()


def test_records_travel_with_the_branch_to_a_clone(repo: GitRepo, forge: LocalForge,
                                                   propose: Propose, tmp_path: Path) -> None:
    head = propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(repo.work_tree), str(clone))
    git(clone, "fetch", "--quiet", "origin", f"{FORGE_BRANCH}:{FORGE_BRANCH}", "topic:topic")
    copy = LocalForge(GitRepo.open(clone))
    assert copy.get_pr(number) == forge.get_pr(number)
    assert copy.valid_reviews(number) == forge.valid_reviews(number)


_OPENER = textwrap.dedent("""
    import sys
    from alphaloop.forge import LocalForge
    from alphaloop.repo import GitRepo

    forge = LocalForge(GitRepo.open(sys.argv[1]))
    for branch in sys.argv[2:]:
        forge.open_pr(title=branch, body="", head_branch=branch, base_branch="main",
                      author_role="quant")
""")


def test_concurrent_openers_never_share_a_number(repo: GitRepo, forge: LocalForge,
                                                 propose: Propose) -> None:
    branches = [f"b{i}" for i in range(6)]
    for branch in branches:
        propose(branch, {"notes.txt": f"{branch}\n"})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", _OPENER, str(repo.work_tree), *group],
                              env=env, stderr=subprocess.PIPE)
             for group in (branches[:3], branches[3:])]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    prs = forge.list_prs()
    assert [pr.number for pr in prs] == [1, 2, 3, 4, 5, 6]
    assert sorted(pr.head_branch for pr in prs) == branches


def test_trailers_already_in_the_message_are_set_once(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    head = propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    message = (f"Shorter momentum\n\nRisk: fine\n\nAlphaLoop-Cycle: c0001\n"
               f"AlphaLoop-PR: {number}\nAlphaLoop-Head: {'0' * 40}\n")
    sha = forge.merge(number, message=message, identity=merger)
    trailers = git(repo.work_tree, "log", "-1", "--format=%(trailers:only)", sha)
    assert trailers.splitlines() == ["AlphaLoop-Cycle: c0001", f"AlphaLoop-PR: {number}",
                                     f"AlphaLoop-Head: {head}"]


def test_a_merge_left_by_an_older_forge_with_the_same_number_is_not_taken_for_this_one(
        repo: GitRepo, forge: LocalForge, propose: Propose, merger: Identity) -> None:
    old_head = propose("old", {"README.md": "# old\n"})
    stale = repo.squash_merge("old", "main", f"old\n\nAlphaLoop-PR: 1\nAlphaLoop-Head: "
                              f"{old_head}\n", merger)
    propose("topic", {"notes.txt": "x\n"})
    number = open_quant_pr(forge, "topic")
    assert number == 1
    sha = forge.merge(number, message="new", identity=merger)
    assert sha != stale and repo.rev_parse("main") == sha
    assert repo.read_file("main", "notes.txt") == b"x\n"
