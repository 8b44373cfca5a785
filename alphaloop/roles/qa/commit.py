"""Committing QA's tests to the pull request's branch, as QA.

The commit is made in the branch's worktree (the one the proposer made, or a new one
for a branch that has none), with QA's identity from ``roles/qa.toml``, and only when
the branch still stands at the commit QA reviewed and every file is one QA may write
(``policies/paths.toml``: ``tests/generated/**``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alphaloop.checks.paths import check_paths
from alphaloop.errors import Failure
from alphaloop.policy import Policies
from alphaloop.repo import GitRepo, Identity, NothingToCommit

__all__ = ["CommitRefused", "commit_tests"]


class CommitRefused(Failure):
    """QA's tests were not committed; the message says why."""


def _worktree(repo: GitRepo, branch: str, head: Path | None) -> Path:
    holder = repo.worktree_of(branch)
    if holder is not None:
        if not holder.path.resolve().is_relative_to((repo.alphaloop_dir / "worktrees").resolve()):
            raise CommitRefused(f"{branch} is checked out in {holder.path}, which AlphaLoop "
                                "did not create; QA does not commit there")
        return holder.path
    if head is not None and head.is_dir():
        return head
    return repo.create_worktree(branch, branch)


def commit_tests(repo: GitRepo, *, branch: str, reviewed: str, files: Mapping[str, str],
                 message: str, identity: Identity, policies: Policies,
                 worktree: Path | None = None) -> str | None:
    """Commit ``files`` (path -> text) on ``branch`` on top of ``reviewed``; the new
    commit, or None when the branch holds them already (a second review of QA's own
    commit). Raises :class:`CommitRefused` when the branch moved or a path is not QA's."""
    blocked = check_paths(list(files), "qa", policies)
    if blocked:
        raise CommitRefused("; ".join(f.message for f in blocked))
    if repo.branch_sha(branch) != reviewed:
        raise CommitRefused(f"the branch {branch} moved past the reviewed commit "
                            f"{reviewed[:10]}")
    tree = _worktree(repo, branch, worktree)
    if repo.git("rev-parse", "HEAD", cwd=tree).text != reviewed or repo.is_dirty(cwd=tree):
        raise CommitRefused(f"the worktree {tree} is not clean at {reviewed[:10]}")
    for path, text in files.items():
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    try:
        return repo.commit_all(tree, message, identity)
    except NothingToCommit:
        return None
