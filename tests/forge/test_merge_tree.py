"""A merge lands exactly the reviewed tree, or nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alphaloop.forge import LocalForge
from alphaloop.repo import GitRepo, Identity, TreeMismatch

BRANCH = "alphaloop/c0001-x"


def _open(forge: LocalForge) -> int:
    return forge.open_pr(title="change", body="", head_branch=BRANCH, base_branch="main",
                         author_role="quant").number


def test_the_merged_strategy_is_the_reviewed_one(repo: GitRepo, forge: LocalForge,
                                                 propose: Callable[..., str],
                                                 merger: Identity) -> None:
    head = propose(BRANCH, {"strategy/tunables.py": "MOMENTUM_LOOKBACK_DAYS = 120\n",
                            "strategy/new.py": "X = 1\n"})
    number = _open(forge)
    repo.git("-c", "user.name=U", "-c", "user.email=u@x", "commit", "--quiet",
             "--allow-empty", "-m", "unrelated")
    (repo.work_tree / "notes.txt").write_text("edited on main\n")
    main_before = repo.commit_all(repo.work_tree, "main moves outside strategy/", merger)
    sha = forge.merge(number, message="merge", identity=merger, expected_head=head,
                      reviewed_tree=repo.tree_hash(head, ""))
    assert repo.tree_hash(sha, "strategy") == repo.tree_hash(head, "strategy")
    assert repo.read_file(sha, "notes.txt") == b"edited on main\n"
    # the commit's diff against its parent is the reviewed diff
    landed = repo.git("diff-tree", "-r", "--name-status", main_before, sha).lines()
    reviewed = repo.git("diff-tree", "-r", "--name-status", f"{head}~1", head).lines()
    assert landed == reviewed


def test_a_base_that_changed_the_strategy_since_review_is_refused(
        repo: GitRepo, forge: LocalForge, propose: Callable[..., str],
        merger: Identity) -> None:
    head = propose(BRANCH, {"strategy/new.py": "X = 1\n"})
    number = _open(forge)
    (repo.work_tree / "strategy/tunables.py").write_text("MOMENTUM_LOOKBACK_DAYS = 10\n")
    main_before = repo.commit_all(repo.work_tree, "main edits the strategy", merger)
    with pytest.raises(TreeMismatch, match=r"strategy/tunables\.py"):
        forge.merge(number, message="merge", identity=merger, expected_head=head)
    assert repo.branch_sha("main") == main_before
    assert forge.get_pr(number).state == "open"


def test_a_merge_that_would_land_another_tree_is_refused(
        repo: GitRepo, forge: LocalForge, propose: Callable[..., str], merger: Identity,
        monkeypatch: pytest.MonkeyPatch) -> None:
    head = propose(BRANCH, {"strategy/tunables.py": "MOMENTUM_LOOKBACK_DAYS = 120\n"})
    number = _open(forge)
    evil = propose("alphaloop/other", {"strategy/tunables.py": "import socket\n"})
    real = repo.merge_tree

    def tampered(base: str, commit: str) -> tuple[int, list[str]]:
        return real(base, evil)  # what a hostile merge driver could produce

    monkeypatch.setattr(repo, "merge_tree", tampered)
    before = repo.branch_sha("main")
    with pytest.raises(TreeMismatch, match=r"strategy/tunables\.py") as refused:
        forge.merge(number, message="merge", identity=merger, expected_head=head)
    assert "Nothing was changed" in str(refused.value)
    assert repo.branch_sha("main") == before and forge.get_pr(number).state == "open"


def test_a_head_whose_tree_is_not_the_reviewed_one_is_refused(
        repo: GitRepo, forge: LocalForge, propose: Callable[..., str],
        merger: Identity) -> None:
    head = propose(BRANCH, {"strategy/tunables.py": "MOMENTUM_LOOKBACK_DAYS = 120\n"})
    number = _open(forge)
    with pytest.raises(TreeMismatch, match="not the reviewed tree"):
        forge.merge(number, message="merge", identity=merger, expected_head=head,
                    reviewed_tree=repo.tree_hash("main", ""))
    assert forge.get_pr(number).state == "open"
