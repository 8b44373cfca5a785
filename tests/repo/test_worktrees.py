"""The bot's worktrees: created under .git/alphaloop, reusable on resume, never the user's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from alphaloop.repo import GitRepo, Identity, WorktreeError


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_create_worktree_branches_from_base_without_touching_the_checkout(
        repo: GitRepo, bot: Identity) -> None:
    (repo.work_tree / "notes.txt").write_text("user's unsaved edit\n")
    base = repo.rev_parse("main")
    path = repo.create_worktree("alphaloop/c0001-momentum", base)
    assert path == repo.common_dir / "alphaloop" / "worktrees" / "alphaloop" / "c0001-momentum"
    assert git(path, "rev-parse", "HEAD") == base
    assert git(path, "symbolic-ref", "--short", "HEAD") == "alphaloop/c0001-momentum"
    assert (path / "notes.txt").read_text() == "one\ntwo\nthree\n"
    assert (repo.work_tree / "notes.txt").read_text() == "user's unsaved edit\n"
    assert repo.current_branch() == "main"
    # The user's status does not list the bot's worktree as untracked files.
    assert git(repo.work_tree, "status", "--porcelain") == "M notes.txt"
    assert repo.worktree_of("alphaloop/c0001-momentum").path == path


def test_create_worktree_is_idempotent_for_resume(repo: GitRepo, bot: Identity) -> None:
    path = repo.create_worktree("alphaloop/c0002-x", "main")
    (path / "strategy" / "params.py").write_text("LOOKBACK = 1\n")
    sha = repo.commit_all(path, "work in progress", bot)
    (path / "half_done.txt").write_text("not committed yet\n")
    again = repo.create_worktree("alphaloop/c0002-x", "main")
    assert again == path
    assert repo.rev_parse("alphaloop/c0002-x") == sha
    assert (path / "half_done.txt").read_text() == "not committed yet\n"


def test_create_worktree_recovers_a_deleted_folder_and_keeps_the_branch(
        repo: GitRepo, bot: Identity) -> None:
    path = repo.create_worktree("alphaloop/c0003-x", "main")
    (path / "a.txt").write_text("a\n")
    sha = repo.commit_all(path, "a", bot)
    shutil.rmtree(path)
    again = repo.create_worktree("alphaloop/c0003-x", "main")
    assert again == path and (path / "a.txt").read_text() == "a\n"
    assert repo.rev_parse("alphaloop/c0003-x") == sha
    # An existing branch without any worktree is checked out as it is, not reset to base.
    repo.remove_worktree("alphaloop/c0003-x")
    repo.create_worktree("alphaloop/c0003-x", "main")
    assert repo.rev_parse("alphaloop/c0003-x") == sha


def test_a_branch_checked_out_by_the_user_is_refused(repo: GitRepo) -> None:
    with pytest.raises(WorktreeError, match="already checked out"):
        repo.create_worktree("main", "main")
    with pytest.raises(WorktreeError, match="did not create"):
        repo.remove_worktree("main")
    assert repo.current_branch() == "main"


def test_a_foreign_folder_in_the_way_is_refused(repo: GitRepo) -> None:
    path = repo.worktree_path("alphaloop/c0004-x")
    path.mkdir(parents=True)
    (path / "stray.txt").write_text("x\n")
    with pytest.raises(WorktreeError, match="is not a worktree"):
        repo.create_worktree("alphaloop/c0004-x", "main")
    assert not repo.branch_exists("alphaloop/c0004-x")


def test_remove_worktree_protects_uncommitted_work_unless_forced(repo: GitRepo) -> None:
    path = repo.create_worktree("alphaloop/c0005-x", "main")
    (path / "notes.txt").write_text("edited\n")
    with pytest.raises(WorktreeError, match="Commit or"):
        repo.remove_worktree("alphaloop/c0005-x")
    assert path.is_dir()
    repo.remove_worktree("alphaloop/c0005-x", force=True, delete_branch=True)
    assert not path.exists()
    assert not repo.branch_exists("alphaloop/c0005-x")
    assert repo.worktree_of("alphaloop/c0005-x") is None


def test_commit_all_in_a_worktree_records_new_modified_and_deleted_files(
        repo: GitRepo, bot: Identity) -> None:
    path = repo.create_worktree("alphaloop/c0006-x", "main")
    (path / "strategy" / "params.py").write_text("LOOKBACK = 10\n")
    (path / "strategy" / "new.py").write_text("N = 1\n")
    (path / "notes.txt").unlink()
    sha = repo.commit_all(path, "three kinds of change", bot)
    assert repo.changed_files("main", sha) == ["notes.txt", "strategy/new.py",
                                               "strategy/params.py"]
    assert not repo.is_dirty(cwd=path)
    assert repo.rev_parse("main") != sha  # main is untouched until a merge
