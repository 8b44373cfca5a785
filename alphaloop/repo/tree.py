"""A commit's tree written to disk exactly as git stores it: the one view every gate reads.

:func:`materialise_tree` is how Risk, QA, the Engineer, the deterministic checks and the
cycle's input snapshot read a commit. It lists the tree (``git ls-tree -r -z``) and reads
each blob (``git cat-file --batch``), writing the bytes as stored. Nothing of the commit
can change what is written: no ``.gitattributes`` rule (``export-subst``,
``export-ignore``, ``eol``, ``filter``), no configured smudge filter, no hook and no
replace ref applies, and the user's checkout and index are never touched. Regular files
keep their executable bit; symbolic links and submodules are listed as skipped, never
created or followed. Paths that could escape the destination (``..``, ``.git``,
absolute) are refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict

from alphaloop.repo.errors import GitError, RefNotFound
from alphaloop.repo.gitrepo import GitRepo

__all__ = ["RAW_OBJECTS_ENV", "MaterialisedTree", "TreeEntry", "list_tree", "materialise_tree"]

#: Read objects as stored: ``refs/replace`` cannot swap a blob or tree under review.
RAW_OBJECTS_ENV = {"GIT_NO_REPLACE_OBJECTS": "1"}

FILE_MODES = {"100644": 0o644, "100755": 0o755}
EntryKind = Literal["file", "symlink", "submodule"]
_KINDS: dict[str, EntryKind] = {"100644": "file", "100755": "file", "120000": "symlink",
                                "160000": "submodule"}
_BATCH_BYTES = 32 * 1024 * 1024  # blobs read per cat-file call, at most (by listed size)


class TreeEntry(BaseModel):
    """One non-directory entry of a tree, with its repository-relative path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    mode: str
    sha: str
    size: int | None = None

    @property
    def kind(self) -> EntryKind:
        kind = _KINDS.get(self.mode)
        if kind is None:
            raise GitError(f"{self.path} has an unknown git mode {self.mode}.")
        return kind


class MaterialisedTree(BaseModel):
    """What :func:`materialise_tree` wrote: the commit, its tree and what it skipped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str
    tree: str
    root: Path
    files: tuple[str, ...]
    skipped: tuple[TreeEntry, ...] = ()


def _safe_path(path: str) -> str:
    parts = PurePosixPath(path).parts
    if (not path or path.startswith("/") or "\\" in path
            or any(p in ("", ".", "..") or p.lower() == ".git" for p in parts)):
        raise GitError(f"the tree holds an unsafe path {path!r}; it will not be written.")
    return path


def list_tree(repo: GitRepo, rev: str, paths: Sequence[str] = ()) -> list[TreeEntry]:
    """Every file, link and submodule of ``rev``'s tree (or under ``paths``), by path."""
    commit = repo.rev_parse(rev)
    out = repo.git("ls-tree", "-r", "-l", "-z", "--full-tree", commit, "--",
                   *[p.strip("/") for p in paths], env=RAW_OBJECTS_ENV)
    entries = []
    for field in out.nul_fields():
        meta, _, path = field.partition("\t")
        mode, _kind, sha, size = meta.split()
        entries.append(TreeEntry(path=path, mode=mode, sha=sha,
                                 size=None if size == "-" else int(size)))
    return sorted(entries, key=lambda e: e.path)


def read_blobs(repo: GitRepo, shas: Sequence[str]) -> dict[str, bytes]:
    """The stored bytes of each blob (``git cat-file --batch``: no filter, no conversion)."""
    if not shas:
        return {}
    unique = list(dict.fromkeys(shas))
    out = repo.git("cat-file", "--batch", input=("\n".join(unique) + "\n").encode(),
                   env=RAW_OBJECTS_ENV).stdout
    blobs: dict[str, bytes] = {}
    at = 0
    for sha in unique:
        end = out.index(b"\n", at)
        header = out[at:end].decode().split()
        if len(header) != 3 or header[1] != "blob":
            raise GitError(f"object {sha[:12]} is not a readable blob ({' '.join(header)}).")
        size = int(header[2])
        blobs[sha] = out[end + 1:end + 1 + size]
        at = end + 1 + size + 1
    return blobs


def _batches(entries: Iterable[TreeEntry]) -> Iterable[list[TreeEntry]]:
    batch: list[TreeEntry] = []
    total = 0
    for entry in entries:
        batch.append(entry)
        total += entry.size or 0
        if total >= _BATCH_BYTES:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def _write(root: Path, path: str, data: bytes, mode: int) -> None:
    target = root.joinpath(*PurePosixPath(path).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(target, mode, follow_symlinks=False)


def materialise_tree(repo: GitRepo, rev: str, destination: Path | str, *,
                     paths: Sequence[str] = ()) -> MaterialisedTree:
    """Write ``rev``'s tree (or the parts under ``paths``) into ``destination``.

    ``destination`` must be empty or missing. Bytes are written as stored, with mode
    0644 or 0755; symbolic links and submodules are skipped (and returned as such).
    :class:`~alphaloop.repo.RefNotFound` if ``rev`` names no commit.
    """
    commit = repo.rev_parse(rev)
    tree = repo.git("rev-parse", "--verify", f"{commit}^{{tree}}", env=RAW_OBJECTS_ENV).text
    root = Path(destination)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise GitError(f"{root} is not empty; a tree is only written into an empty folder.")
    entries = list_tree(repo, commit, paths)
    if paths and not entries:
        raise RefNotFound(f"there is nothing under {', '.join(paths)} at {rev} "
                          f"({commit[:12]}).")
    files = [e for e in entries if e.kind == "file"]
    skipped = tuple(e for e in entries if e.kind != "file")
    for entry in entries:
        _safe_path(entry.path)
    for batch in _batches(files):
        blobs = read_blobs(repo, [e.sha for e in batch])
        for entry in batch:
            _write(root, entry.path, blobs[entry.sha], FILE_MODES[entry.mode])
    return MaterialisedTree(commit=commit, tree=tree, root=root,
                            files=tuple(e.path for e in files), skipped=skipped)
