"""materialise_tree writes a commit's tree exactly as stored, whatever its attributes say."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from alphaloop.repo import GitError, GitRepo, Identity, RefNotFound, list_tree, materialise_tree

HOSTILE_LINE = '_G = "$Format:%x22#$"; import socket as s\n'


def _commit(repo: GitRepo, files: dict[str, bytes], bot: Identity) -> str:
    for name, data in files.items():
        path = repo.work_tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return repo.commit_all(repo.work_tree, "change", bot)


def test_bytes_are_written_as_stored_despite_export_attributes(repo: GitRepo, bot: Identity,
                                                               tmp_path: Path) -> None:
    head = _commit(repo, {
        "strategy/.gitattributes": b"engine.py export-subst\nparams.py export-ignore\n",
        "strategy/engine.py": HOSTILE_LINE.encode(),
    }, bot)
    archived = repo.git("archive", "--format=tar", head, "strategy/engine.py").stdout
    assert b'"$Format' not in archived  # git archive rewrites the line ...
    out = materialise_tree(repo, head, tmp_path / "tree")
    assert (tmp_path / "tree/strategy/engine.py").read_text() == HOSTILE_LINE  # ... we do not
    assert (tmp_path / "tree/strategy/params.py").is_file()  # export-ignore has no effect
    assert out.commit == head and out.tree == repo.tree_hash(head, "")
    assert set(out.files) == {e.path for e in list_tree(repo, head)}


def test_smudge_filters_and_eol_rules_do_not_apply(repo: GitRepo, bot: Identity,
                                                   tmp_path: Path) -> None:
    repo.git("config", "filter.evil.smudge", "sed s/SAFE/EVIL/")
    repo.git("config", "filter.evil.clean", "cat")
    head = _commit(repo, {
        ".gitattributes": b"*.py filter=evil\n*.txt eol=crlf\n",
        "strategy/engine.py": b"VALUE = 'SAFE'\n",
        "notes.txt": b"one\ntwo\n",
    }, bot)
    out = tmp_path / "tree"
    materialise_tree(repo, head, out)
    assert (out / "strategy/engine.py").read_bytes() == b"VALUE = 'SAFE'\n"
    assert (out / "notes.txt").read_bytes() == b"one\ntwo\n"
    checkout = tmp_path / "checkout"
    repo.git("worktree", "add", "--quiet", "--detach", str(checkout), head)
    assert b"EVIL" in (checkout / "strategy/engine.py").read_bytes()  # git itself would
    assert b"\r\n" in (checkout / "notes.txt").read_bytes()


def test_modes_are_kept_and_links_never_created(repo: GitRepo, bot: Identity,
                                                tmp_path: Path) -> None:
    run = repo.work_tree / "strategy/run.sh"
    run.write_text("#!/bin/sh\n")
    run.chmod(0o755)
    os.symlink("/etc/passwd", repo.work_tree / "strategy/link.txt")
    head = repo.commit_all(repo.work_tree, "modes", bot)
    out = materialise_tree(repo, head, tmp_path / "tree")
    assert stat.S_IMODE((tmp_path / "tree/strategy/run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "tree/strategy/engine.py").stat().st_mode) == 0o644
    assert not os.path.lexists(tmp_path / "tree/strategy/link.txt")
    assert [(e.path, e.kind) for e in out.skipped] == [("strategy/link.txt", "symlink")]


def test_a_part_of_the_tree_and_refusals(repo: GitRepo, tmp_path: Path) -> None:
    out = materialise_tree(repo, "HEAD", tmp_path / "part", paths=("strategy",))
    assert sorted(out.files) == ["strategy/engine.py", "strategy/params.py"]
    assert not (tmp_path / "part/README.md").exists()
    with pytest.raises(RefNotFound):
        materialise_tree(repo, "HEAD", tmp_path / "none", paths=("nothing",))
    with pytest.raises(RefNotFound):
        materialise_tree(repo, "no-such-rev", tmp_path / "bad")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy/file").write_text("x")
    with pytest.raises(GitError, match="not empty"):
        materialise_tree(repo, "HEAD", tmp_path / "busy")


def test_replace_refs_cannot_swap_a_blob(repo: GitRepo, tmp_path: Path) -> None:
    original = repo.git("rev-parse", "HEAD:strategy/engine.py").text
    other = repo.git("hash-object", "-w", "--stdin", input=b"import socket\n").text
    repo.git("replace", original, other)
    out = tmp_path / "tree"
    materialise_tree(repo, "HEAD", out)
    assert (out / "strategy/engine.py").read_text() == "def run():\n    return 1\n"
