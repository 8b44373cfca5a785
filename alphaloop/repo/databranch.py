"""A branch used as a small file store, written with plumbing only.

Records such as pull requests and reviews live on an orphan branch so that ``git push``
and ``git fetch`` carry them along with the code. Writes never touch any work tree or the
user's index: blobs are hashed into the object store, the new tree is built in a
temporary index, committed with ``commit-tree`` and published with a compare-and-swap
``update-ref``. Two writers racing on the branch cannot lose each other's records: the
loser re-reads the branch and applies its change again.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

from alphaloop.repo.errors import GitError, RefMoved
from alphaloop.repo.gitrepo import GitRepo
from alphaloop.repo.identity import Identity

__all__ = ["DataBranch", "Snapshot"]

T = TypeVar("T")

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


def _is_safe_path(path: str) -> bool:
    """Relative, no empty, hidden, '.' or '..' segments, only plain characters."""
    return all(_SAFE_SEGMENT.match(segment) for segment in path.split("/"))


class Snapshot:
    """The files of a data branch at one commit (read lazily, in one batch when asked)."""

    def __init__(self, repo: GitRepo, commit: str | None) -> None:
        self.repo = repo
        self.commit = commit
        self._blobs: dict[str, str] = {}
        if commit is not None:
            out = repo.git("ls-tree", "-r", "-z", "--full-tree", commit)
            for field in out.nul_fields():
                meta, _, path = field.partition("\t")
                self._blobs[path] = meta.split()[2]

    def paths(self, prefix: str = "") -> list[str]:
        """Stored paths starting with ``prefix``, sorted."""
        return sorted(path for path in self._blobs if path.startswith(prefix))

    def __contains__(self, path: object) -> bool:
        return path in self._blobs

    def read(self, path: str) -> bytes:
        """The contents of one file; KeyError if it is not stored."""
        return self.repo.git("cat-file", "blob", self._blobs[path]).stdout

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """The contents of several files, read with one ``git cat-file --batch``."""
        if not paths:
            return {}
        oids = [self._blobs[path] for path in paths]
        out = self.repo.git("cat-file", "--batch", input="".join(f"{o}\n" for o in oids).encode())
        data = out.stdout
        contents: dict[str, bytes] = {}
        position = 0
        for path in paths:
            header_end = data.index(b"\n", position)
            _oid, _kind, size = data[position:header_end].split()
            start = header_end + 1
            contents[path] = data[start:start + int(size)]
            position = start + int(size) + 1
        return contents


class DataBranch:
    """Files kept on ``refs/heads/<branch>``, changed only through :meth:`update`."""

    def __init__(self, repo: GitRepo, branch: str, identity: Identity, *,
                 attempts: int = 8) -> None:
        self.repo = repo
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self.identity = identity
        self.attempts = attempts

    def head(self) -> str | None:
        """The branch's commit, or None before the first write."""
        return self.repo.branch_sha(self.branch)

    def exists(self) -> bool:
        return self.head() is not None

    def snapshot(self) -> Snapshot:
        """The files as they are now."""
        return Snapshot(self.repo, self.head())

    def update(self, message: str | Callable[[T], str],
               change: Callable[[Snapshot], tuple[Mapping[str, bytes], T]]) -> T:
        """Apply ``change`` to the current files and publish the result as one commit.

        ``change`` receives a :class:`Snapshot` and returns (files to write, result). It
        may be called again on a fresh snapshot if another writer moved the branch, so it
        must only read the snapshot. No write, no commit. ``message`` is the commit
        message, or a function of the result that makes it. Returns ``change``'s result.
        """
        attempt = retry(retry=retry_if_exception_type(RefMoved),
                        stop=stop_after_attempt(self.attempts), wait=wait_random(0.0, 0.05),
                        reraise=True)(self._update_once)
        return attempt(message, change)

    def _update_once(self, message: str | Callable[[T], str],
                     change: Callable[[Snapshot], tuple[Mapping[str, bytes], T]]) -> T:
        snapshot = self.snapshot()
        writes, result = change(snapshot)
        if not writes:
            return result
        text = message if isinstance(message, str) else message(result)
        for path in writes:
            if not _is_safe_path(path):
                raise GitError(f"refusing to store {path!r} on {self.branch}: paths are "
                               f"relative, made of letters, digits, '.', '_', '-' and '/', "
                               f"and no segment starts with '.'.")
        tree = self._write_tree(snapshot.commit, writes)
        parents = [snapshot.commit] if snapshot.commit else []
        commit = self.repo.commit_tree(tree, parents, text, self.identity)
        self.repo.update_ref(self.ref, commit, expected_old=snapshot.commit,
                             message=f"alphaloop: {text.splitlines()[0]}")
        return result

    def _write_tree(self, parent: str | None, writes: Mapping[str, bytes]) -> str:
        with tempfile.TemporaryDirectory(prefix="alphaloop-index-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if parent is None:
                self.repo.git("read-tree", "--empty", env=env)
            else:
                self.repo.git("read-tree", parent, env=env)
            entries: list[str] = []
            for path, content in writes.items():
                blob = self.repo.git("hash-object", "-w", "--stdin", input=content).text
                entries += ["--cacheinfo", f"100644,{blob},{path}"]
            self.repo.git("update-index", "--add", *entries, env=env)
            return self.repo.git("write-tree", env=env).text
