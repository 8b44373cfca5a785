"""Errors raised by the git layer.

One tree, so callers can catch the family or one member::

    GitError                    anything the git layer refuses or git reports
    ├── CommandFailed           a git command exited with an unexpected status
    ├── NotARepository          the path is not inside a git work tree
    ├── BareRepository          the repository has no work tree
    ├── DetachedHead            a branch is needed but HEAD is detached
    ├── RefNotFound             a branch, ref or path does not exist
    ├── RefMoved                compare-and-swap lost: the ref is not where it was expected
    ├── NotFastForward          the new commit does not descend from the old one
    ├── NothingToCommit         a commit was asked for but nothing changed
    ├── EmptyMerge              a merge would bring no change
    ├── MergeConflict           a merge conflicts; ``paths`` lists the files
    ├── LocalChangesOverlap     uncommitted changes in a checkout stop a fast-forward
    ├── TreeMismatch            a merge would land something other than what was reviewed
    └── WorktreeError           a worktree cannot be created or removed

Every message names the problem and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alphaloop.errors import Failure

__all__ = [
    "BareRepository",
    "CommandFailed",
    "DetachedHead",
    "EmptyMerge",
    "GitError",
    "LocalChangesOverlap",
    "MergeConflict",
    "NotARepository",
    "NotFastForward",
    "NothingToCommit",
    "RefMoved",
    "RefNotFound",
    "TreeMismatch",
    "WorktreeError",
]


class GitError(Failure):
    """Something the git layer refused to do, or a failure git reported."""


class CommandFailed(GitError):
    """A git command exited with a status the caller did not expect."""

    def __init__(self, args: Sequence[str], status: int, stderr: str) -> None:
        self.args_list = list(args)
        self.status = status
        self.stderr = stderr.strip()
        detail = self.stderr or "(no message on stderr)"
        super().__init__(f"git {' '.join(self.args_list)} failed with status {status}: {detail}")


class NotARepository(GitError):
    """The path is not inside a git work tree."""


class BareRepository(GitError):
    """The repository is bare: AlphaLoop needs a work tree to stand in."""


class DetachedHead(GitError):
    """A branch is needed but HEAD points at a commit, not a branch."""


class RefNotFound(GitError):
    """A branch, ref, commit or path does not exist."""


class RefMoved(GitError):
    """A compare-and-swap update lost: the ref is no longer at the expected commit."""


class NotFastForward(GitError):
    """The new commit does not descend from the branch's current commit."""


class NothingToCommit(GitError):
    """A commit was requested but the worktree holds no change."""


class EmptyMerge(GitError):
    """Merging would not change the target branch."""


class MergeConflict(GitError):
    """A merge cannot be made without a human: ``paths`` lists the conflicting files."""

    def __init__(self, source: str, target: str, paths: Sequence[str]) -> None:
        self.source = source
        self.target = target
        self.paths = list(paths)
        listed = ", ".join(self.paths) if self.paths else "(git named no file)"
        super().__init__(
            f"merging {source} into {target} conflicts in: {listed}. Nothing was changed; "
            f"rebase {source} onto {target} and resolve the conflicts, then merge again."
        )


class LocalChangesOverlap(GitError):
    """Uncommitted changes in the checkout of a branch would be overwritten by advancing it.

    Nothing was changed: the branch and the files are as they were.
    """

    def __init__(self, branch: str, worktree: Path, files: Sequence[str],
                 retry_hint: str) -> None:
        self.branch = branch
        self.worktree = worktree
        self.files = list(files)
        listed = "\n".join(f"  {name}" for name in self.files) or "  (git named no file)"
        super().__init__(
            f"cannot advance branch {branch!r}: your uncommitted changes in {worktree} "
            f"would be overwritten by the merged change:\n{listed}\n"
            f"Nothing was changed. Commit or stash these changes (git stash), then "
            f"{retry_hint}."
        )


class TreeMismatch(GitError):
    """A merge would land a tree other than the reviewed one; nothing was changed."""

    def __init__(self, head: str, paths: Sequence[str], why: str) -> None:
        self.head = head
        self.paths = list(paths)
        shown = ", ".join(self.paths[:10]) + (" ..." if len(self.paths) > 10 else "")
        super().__init__(
            f"refusing to merge {head[:12]}: {why}; these paths differ from what was "
            f"reviewed: {shown}. Nothing was changed; rebase the branch onto its base and "
            f"have it reviewed again.")


class WorktreeError(GitError):
    """A worktree cannot be created, reused or removed."""
