"""GitRepo against real repositories: opening, refs, trees, diffs, commits, merges."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from alphaloop.repo import (
    BareRepository,
    CommandFailed,
    DetachedHead,
    EmptyMerge,
    GitRepo,
    Identity,
    MergeConflict,
    NotARepository,
    NothingToCommit,
    RefMoved,
    RefNotFound,
)

BOT = Identity(name="AlphaLoop Engineer", email="engineer@alphaloop.invalid")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def feature(repo: GitRepo, branch: str, files: dict[str, str], message: str = "change") -> str:
    path = repo.create_worktree(branch, "main")
    write(path, files)
    return repo.commit_all(path, message, BOT)


def test_open_finds_the_root_from_a_subfolder(repo: GitRepo) -> None:
    opened = GitRepo.open(repo.work_tree / "strategy")
    assert opened.work_tree == repo.work_tree
    assert opened.common_dir == repo.work_tree / ".git"
    assert opened.alphaloop_dir == repo.work_tree / ".git" / "alphaloop"


def test_open_rejects_a_plain_folder_and_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(NotARepository, match="not inside a git repository"):
        GitRepo.open(tmp_path)
    with pytest.raises(NotARepository, match="does not exist"):
        GitRepo.open(tmp_path / "nowhere")


def test_open_rejects_a_bare_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", "--bare", str(tmp_path / "bare.git")], check=True)
    with pytest.raises(BareRepository, match="clone it"):
        GitRepo.open(tmp_path / "bare.git")


def test_detached_head_is_reported_when_a_branch_is_needed(repo: GitRepo) -> None:
    assert repo.current_branch() == "main"
    git(repo.work_tree, "checkout", "--quiet", "--detach", "HEAD")
    with pytest.raises(DetachedHead, match="git switch"):
        repo.current_branch()
    assert repo.head_sha() == repo.rev_parse("main")


def test_unknown_revision_is_ref_not_found(repo: GitRepo) -> None:
    with pytest.raises(RefNotFound, match="no-such-branch"):
        repo.rev_parse("no-such-branch")
    assert repo.branch_sha("no-such-branch") is None
    assert not repo.branch_exists("no-such-branch")


def test_tree_hash_follows_the_strategy_folder_only(repo: GitRepo) -> None:
    before = repo.tree_hash("main")
    feature(repo, "docs-only", {"README.md": "# other\n"})
    assert repo.tree_hash("docs-only") == before
    assert repo.tree_hash("docs-only", "") != repo.tree_hash("main", "")
    feature(repo, "strategy-change", {"strategy/params.py": "LOOKBACK = 60\n"})
    assert repo.tree_hash("strategy-change") != before
    with pytest.raises(RefNotFound, match="no 'missing'"):
        repo.tree_hash("main", "missing")


def test_is_dirty_sees_modified_and_untracked_files(repo: GitRepo) -> None:
    assert not repo.is_dirty()
    (repo.work_tree / "scratch.txt").write_text("x\n")
    assert repo.is_dirty()
    assert not repo.is_dirty(untracked=False)
    (repo.work_tree / "notes.txt").write_text("changed\n")
    assert repo.is_dirty(untracked=False)


def test_changed_files_and_diff_stat_count_exactly(repo: GitRepo) -> None:
    head = feature(repo, "edit", {
        "notes.txt": "one\nTWO\nthree\nfour\n",  # 1 line replaced, 1 added
        "strategy/new.py": "A = 1\nB = 2\n",
    })
    (repo.worktree_path("edit") / "README.md").unlink()
    head = repo.commit_all(repo.worktree_path("edit"), "drop readme", BOT)
    assert repo.changed_files("main", head) == ["README.md", "notes.txt", "strategy/new.py"]
    stat = repo.diff_stat("main", head)
    by_path = {change.path: (change.added, change.deleted) for change in stat.files}
    assert by_path == {"README.md": (0, 1), "notes.txt": (2, 1), "strategy/new.py": (2, 0)}
    assert (stat.insertions, stat.deletions) == (4, 2)
    assert stat.base == repo.rev_parse("main") and stat.head == head


def test_commit_all_uses_the_given_identity_without_any_global_one(repo: GitRepo) -> None:
    # The autouse fixture sets user.useConfigOnly with no name: plain `git commit` fails.
    (repo.work_tree / "notes.txt").write_text("edited\n")
    with pytest.raises(subprocess.CalledProcessError):
        git(repo.work_tree, "commit", "-am", "by hand")
    sha = repo.commit_all(repo.work_tree, "by the bot", BOT)
    assert git(repo.work_tree, "log", "-1", "--format=%an|%ae|%cn|%ce|%s", sha) == (
        f"{BOT.name}|{BOT.email}|{BOT.name}|{BOT.email}|by the bot")
    with pytest.raises(NothingToCommit, match="clean"):
        repo.commit_all(repo.work_tree, "again", BOT)


def test_squash_merge_makes_one_commit_on_top_of_the_target(repo: GitRepo) -> None:
    old_main = repo.rev_parse("main")
    feature(repo, "topic", {"strategy/params.py": "LOOKBACK = 60\nTHRESHOLD = 0.5\n"}, "a")
    path = repo.worktree_path("topic")
    write(path, {"strategy/extra.py": "X = 1\n"})
    repo.commit_all(path, "b", BOT)
    sha = repo.squash_merge("topic", "main", "Squash topic", BOT)
    assert repo.rev_parse("main") == sha
    assert git(repo.work_tree, "rev-list", "--parents", "-n", "1", sha).split() == [sha, old_main]
    assert repo.read_file("main", "strategy/extra.py") == b"X = 1\n"
    assert repo.tree_hash("main") == repo.tree_hash("topic")
    assert (repo.work_tree / "strategy" / "extra.py").read_text() == "X = 1\n"
    with pytest.raises(EmptyMerge):
        repo.squash_merge("topic", "main", "again", BOT)


def test_squash_merge_conflict_lists_paths_and_changes_nothing(repo: GitRepo) -> None:
    feature(repo, "left", {"notes.txt": "left\n", "README.md": "# left\n"})
    repo.squash_merge("left", "main", "left", BOT)
    main_before = repo.rev_parse("main")
    right = repo.create_worktree("right", repo.rev_parse("main~1"))
    write(right, {"notes.txt": "right\n", "strategy/ok.py": "Y = 2\n"})
    repo.commit_all(right, "right", BOT)
    with pytest.raises(MergeConflict) as caught:
        repo.squash_merge("right", "main", "right", BOT)
    assert caught.value.paths == ["notes.txt"]
    assert "notes.txt" in str(caught.value) and "rebase" in str(caught.value)
    assert repo.rev_parse("main") == main_before
    assert not repo.is_dirty()


def test_find_commit_with_trailer_searches_first_parent_history(repo: GitRepo) -> None:
    feature(repo, "t", {"notes.txt": "x\n"})
    sha = repo.squash_merge("t", "main", "Merge t\n\nAlphaLoop-PR: 7\n", BOT)
    assert repo.find_commit_with_trailer("main", "AlphaLoop-PR", "7") == sha
    assert repo.find_commit_with_trailer("main", "AlphaLoop-PR", "70") is None


def test_update_ref_is_compare_and_swap(repo: GitRepo) -> None:
    first = repo.rev_parse("main")
    repo.update_ref("refs/heads/pointer", first, expected_old=None, message="create")
    with pytest.raises(RefMoved, match="moved"):
        repo.update_ref("refs/heads/pointer", first, expected_old=None, message="again")
    sha = feature(repo, "other", {"notes.txt": "y\n"})
    with pytest.raises(RefMoved):
        repo.update_ref("refs/heads/pointer", sha, expected_old=sha, message="wrong old")
    repo.update_ref("refs/heads/pointer", sha, expected_old=first, message="right old")
    assert repo.branch_sha("pointer") == sha


def test_git_failures_carry_gits_message(repo: GitRepo) -> None:
    with pytest.raises(CommandFailed) as caught:
        repo.git("cat-file", "-p", "0" * 40)
    assert caught.value.status != 0 and caught.value.stderr


def test_init_creates_the_requested_branch(
        tmp_path: Path, make_repo: Callable[[Path], GitRepo]) -> None:
    repo = make_repo(tmp_path / "fresh")
    assert repo.current_branch() == "main"
    assert repo.config_get("user.name") is None
