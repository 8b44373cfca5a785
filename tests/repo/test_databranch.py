"""Files on a branch, written with plumbing: no work tree touched, no write lost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from alphaloop.repo import DataBranch, GitError, GitRepo, Identity, Snapshot

STORE = Identity(name="AlphaLoop store", email="store@alphaloop.invalid")


def put(files: Mapping[str, bytes]):
    def change(_: Snapshot) -> tuple[Mapping[str, bytes], None]:
        return files, None
    return change


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_first_write_creates_an_orphan_branch_and_leaves_the_checkout_alone(
        repo: GitRepo) -> None:
    (repo.work_tree / "notes.txt").write_text("user edit\n")
    git(repo.work_tree, "add", "notes.txt")
    index_before = git(repo.work_tree, "ls-files", "--stage")
    head_before = repo.head_sha()
    store = DataBranch(repo, "alphaloop/records", STORE)
    assert not store.exists() and store.snapshot().paths() == []

    store.update("first", put({"a/1.json": b'{"n": 1}\n', "README.md": b"records\n"}))

    head = store.head()
    assert head is not None
    assert git(repo.work_tree, "rev-list", "--parents", "-n", "1", head) == head  # orphan
    assert git(repo.work_tree, "log", "-1", "--format=%an <%ae>|%s", head) == (
        f"{STORE}|first")
    assert store.snapshot().read("a/1.json") == b'{"n": 1}\n'
    assert repo.head_sha() == head_before
    assert git(repo.work_tree, "ls-files", "--stage") == index_before
    assert git(repo.work_tree, "status", "--porcelain") == "M  notes.txt"


def test_later_writes_keep_earlier_files_and_stack_commits(repo: GitRepo) -> None:
    store = DataBranch(repo, "alphaloop/records", STORE)
    store.update("one", put({"a/1.json": b"1"}))
    first = store.head()
    store.update("two", put({"a/2.json": b"2", "b/x.json": b"x"}))
    store.update("rewrite one", put({"a/1.json": b"one"}))
    snap = store.snapshot()
    assert snap.paths() == ["a/1.json", "a/2.json", "b/x.json"]
    assert snap.paths("a/") == ["a/1.json", "a/2.json"]
    assert snap.read_many(["a/1.json", "a/2.json", "b/x.json"]) == {
        "a/1.json": b"one", "a/2.json": b"2", "b/x.json": b"x"}
    assert "a/1.json" in snap and "a/3.json" not in snap
    log = git(repo.work_tree, "log", "--format=%s", store.ref).splitlines()
    assert log == ["rewrite one", "two", "one"]
    assert repo.is_ancestor(first, store.head())


def test_read_many_handles_binary_and_newlines(repo: GitRepo) -> None:
    store = DataBranch(repo, "alphaloop/records", STORE)
    blobs = {"x/a.bin": b"\x00\n\nline\n", "x/b.bin": b"", "x/c.bin": b"\n" * 5}
    store.update("blobs", put(blobs))
    assert store.snapshot().read_many(sorted(blobs)) == blobs


def test_no_write_means_no_commit_and_the_result_is_returned(repo: GitRepo) -> None:
    store = DataBranch(repo, "alphaloop/records", STORE)
    assert store.update("nothing", lambda snap: ({}, len(snap.paths()))) == 0
    assert not store.exists()


def test_unsafe_paths_are_refused(repo: GitRepo) -> None:
    store = DataBranch(repo, "alphaloop/records", STORE)
    for bad in ("../escape.json", "/abs.json", "a//b.json", "a b.json", "a/./b",
                ".git/config", ""):
        with pytest.raises(GitError, match="refusing to store"):
            store.update("bad", put({bad: b"x"}))
    assert not store.exists()


def test_a_writer_that_loses_the_race_applies_its_change_again(repo: GitRepo) -> None:
    store = DataBranch(repo, "alphaloop/records", STORE)
    store.update("base", put({"n/0001.json": b"0"}))
    rival = DataBranch(repo, "alphaloop/records", STORE)
    calls: list[list[str]] = []

    def next_number(snap: Snapshot) -> tuple[Mapping[str, bytes], str]:
        calls.append(snap.paths())
        if len(calls) == 1:  # another writer publishes between our read and our write
            rival.update("rival", put({"n/0002.json": b"rival"}))
        name = f"n/{len(snap.paths()) + 1:04d}.json"
        return {name: b"mine"}, name

    assert store.update("mine", next_number) == "n/0003.json"
    assert calls == [["n/0001.json"], ["n/0001.json", "n/0002.json"]]
    assert store.snapshot().read_many(["n/0002.json", "n/0003.json"]) == {
        "n/0002.json": b"rival", "n/0003.json": b"mine"}


_WRITER = textwrap.dedent("""
    import sys
    from alphaloop.repo import DataBranch, GitRepo, Identity

    repo = GitRepo.open(sys.argv[1])
    store = DataBranch(repo, "alphaloop/records", Identity(name="w", email="w@x.invalid"),
                       attempts=50)
    for i in range(int(sys.argv[3])):
        def change(snap, i=i):
            return {f"w/{sys.argv[2]}-{i}.json": b"x"}, None
        store.update(f"{sys.argv[2]} {i}", change)
""")


def test_concurrent_writer_processes_lose_nothing(repo: GitRepo) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(repo.work_tree), name, "6"],
                                env=env, stderr=subprocess.PIPE)
               for name in ("left", "right")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
    paths = DataBranch(repo, "alphaloop/records", STORE).snapshot().paths()
    assert paths == sorted(f"w/{name}-{i}.json" for name in ("left", "right") for i in range(6))
    assert len(git(repo.work_tree, "rev-list", "refs/heads/alphaloop/records").split()) == 12
