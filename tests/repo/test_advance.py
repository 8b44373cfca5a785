"""Advancing the branch the user has checked out never loses their uncommitted work."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from alphaloop.repo import (
    GitRepo,
    Identity,
    LocalChangesOverlap,
    NotFastForward,
    RefMoved,
)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def snapshot(repo: GitRepo) -> dict[str, object]:
    """Everything a user could lose: HEAD, index, and every file in the work tree."""
    files = {
        str(path.relative_to(repo.work_tree)): path.read_bytes()
        for path in sorted(repo.work_tree.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo.work_tree).parts
    }
    return {
        "main": repo.rev_parse("main"),
        "index": git(repo.work_tree, "ls-files", "--stage"),
        "status": git(repo.work_tree, "status", "--porcelain"),
        "files": files,
    }


def propose(repo: GitRepo, bot: Identity, files: dict[str, str], branch: str = "topic") -> str:
    path = repo.create_worktree(branch, "main")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return repo.commit_all(path, f"change {sorted(files)}", bot)


def make_user_changes(root: Path) -> None:
    """A modified tracked file, a staged new file, a staged edit and an untracked file."""
    (root / "README.md").write_text("# demo\nmy unsaved notes\n")
    (root / "staged_new.txt").write_text("staged\n")
    (root / "strategy" / "engine.py").write_text("def run():\n    return 2\n")
    git(root, "add", "staged_new.txt", "strategy/engine.py")
    (root / "scratch.py").write_text("print('untracked')\n")


def test_advance_keeps_every_non_overlapping_local_change(repo: GitRepo, bot: Identity) -> None:
    propose(repo, bot, {"strategy/params.py": "LOOKBACK = 60\nTHRESHOLD = 0.5\n",
                        "strategy/new_signal.py": "SIGNAL = 1\n"})
    make_user_changes(repo.work_tree)
    staged_before = git(repo.work_tree, "diff", "--cached")
    unstaged_before = git(repo.work_tree, "diff")

    sha = repo.squash_merge("topic", "main", "Merge topic", bot)

    root = repo.work_tree
    assert repo.rev_parse("main") == sha == repo.head_sha()
    assert (root / "strategy" / "params.py").read_text() == "LOOKBACK = 60\nTHRESHOLD = 0.5\n"
    assert (root / "strategy" / "new_signal.py").read_text() == "SIGNAL = 1\n"
    assert (root / "README.md").read_text() == "# demo\nmy unsaved notes\n"
    assert (root / "scratch.py").read_text() == "print('untracked')\n"
    assert (root / "staged_new.txt").read_text() == "staged\n"
    assert git(root, "diff", "--cached") == staged_before
    assert git(root, "diff") == unstaged_before
    assert git(root, "status", "--porcelain").splitlines() == [
        " M README.md", "A  staged_new.txt", "M  strategy/engine.py", "?? scratch.py"]


@pytest.mark.parametrize("case", ["modified", "staged", "untracked"])
def test_overlap_stops_with_a_message_and_changes_nothing(repo: GitRepo, bot: Identity,
                                                          case: str) -> None:
    propose(repo, bot, {"notes.txt": "merged\n", "strategy/added.py": "NEW = 1\n"})
    make_user_changes(repo.work_tree)
    if case == "modified":
        (repo.work_tree / "notes.txt").write_text("mine\n")
        expected = ["notes.txt"]
    elif case == "staged":
        (repo.work_tree / "notes.txt").write_text("mine, staged\n")
        git(repo.work_tree, "add", "notes.txt")
        expected = ["notes.txt"]
    else:
        (repo.work_tree / "strategy" / "added.py").write_text("MINE = 1\n")
        expected = ["strategy/added.py"]
    before = snapshot(repo)

    with pytest.raises(LocalChangesOverlap) as caught:
        repo.squash_merge("topic", "main", "Merge topic", bot,
                          retry_hint="run `alphaloop pr merge 3` again")

    assert caught.value.files == expected
    assert caught.value.branch == "main" and caught.value.worktree == repo.work_tree
    message = str(caught.value)
    assert expected[0] in message
    assert "Commit or stash" in message and "alphaloop pr merge 3" in message
    assert snapshot(repo) == before


def test_branch_not_checked_out_moves_by_compare_and_swap(repo: GitRepo, bot: Identity) -> None:
    git(repo.work_tree, "switch", "--quiet", "-c", "elsewhere")
    propose(repo, bot, {"notes.txt": "x\n"})
    old = repo.rev_parse("main")
    (repo.work_tree / "notes.txt").write_text("user edit on another branch\n")
    sha = repo.squash_merge("topic", "main", "Merge", bot)
    assert repo.rev_parse("main") == sha
    assert repo.rev_parse("HEAD") == old  # the user's branch did not move
    assert (repo.work_tree / "notes.txt").read_text() == "user edit on another branch\n"


def test_advance_is_idempotent_and_refuses_stale_or_sideways_moves(repo: GitRepo,
                                                                    bot: Identity) -> None:
    old = repo.rev_parse("main")
    new = propose(repo, bot, {"notes.txt": "x\n"})
    assert repo.advance_branch("main", new, old) == "worktree"
    assert repo.advance_branch("main", new, old) == "unchanged"
    other = propose(repo, bot, {"README.md": "# other\n"}, branch="other")
    with pytest.raises(RefMoved, match="moved meanwhile"):
        repo.advance_branch("main", other, old)
    sideways = repo.create_worktree("sideways", old)
    (sideways / "x.txt").write_text("x\n")
    side = repo.commit_all(sideways, "side", bot)
    with pytest.raises(NotFastForward):
        repo.advance_branch("main", side, new)
    assert repo.rev_parse("main") == new


def test_advance_in_a_linked_worktree_that_holds_the_branch(repo: GitRepo,
                                                            bot: Identity) -> None:
    git(repo.work_tree, "switch", "--quiet", "--detach")
    holder = repo.work_tree.parent / "second-checkout"
    git(repo.work_tree, "worktree", "add", "--quiet", str(holder), "main")
    (holder / "README.md").write_text("# edited in the second checkout\n")
    propose(repo, bot, {"notes.txt": "x\n"})
    repo.squash_merge("topic", "main", "Merge", bot)
    assert (holder / "notes.txt").read_text() == "x\n"
    assert (holder / "README.md").read_text() == "# edited in the second checkout\n"


_NAMES = ["README.md", "notes.txt", "strategy/params.py", "strategy/engine.py", "new_a.txt",
          "strategy/new_b.py"]
_local_change = st.tuples(st.sampled_from(_NAMES), st.sampled_from(["edit", "stage"]))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incoming=st.sets(st.sampled_from(_NAMES), min_size=1, max_size=3),
       local=st.lists(_local_change, max_size=3, unique_by=lambda change: change[0]))
def test_every_advance_keeps_local_work_or_changes_nothing(
        make_repo: Callable[[Path], GitRepo], bot: Identity,
        incoming: set[str], local: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        repo = make_repo(Path(scratch) / "repo")
        propose(repo, bot, {name: f"incoming {name}\n" for name in incoming})
        for name, how in local:
            path = repo.work_tree / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"local {name}\n")
            if how == "stage":
                git(repo.work_tree, "add", name)
        before = snapshot(repo)
        local_names = {name for name, _ in local}
        try:
            repo.squash_merge("topic", "main", "Merge", bot)
        except LocalChangesOverlap as overlap:
            event("local changes overlap: nothing changed")
            assert snapshot(repo) == before
            assert set(overlap.files) <= local_names & incoming
            assert overlap.files
            return
        event("advanced, local changes kept")
        assert not local_names & incoming
        for name in local_names:
            assert (repo.work_tree / name).read_text() == f"local {name}\n"
        for name in incoming:
            assert (repo.work_tree / name).read_text() == f"incoming {name}\n"
        staged = {name for name, how in local if how == "stage"}
        assert set(git(repo.work_tree, "diff", "--cached", "--name-only").split()) == staged
        assert repo.rev_parse("main") != before["main"]
