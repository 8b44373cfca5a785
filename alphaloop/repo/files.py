"""Committing files onto a branch without a work tree: the bot's bookkeeping commits.

The PM's report (ledger entry, ``walkthrough.md``, ``task.md``) and the SRE's deployment
events land on the base branch this way: blobs written with ``git hash-object``, a
private index built from the branch tip, one commit, then the branch advanced as a
fast-forward that keeps the user's uncommitted work (:meth:`GitRepo.advance_branch`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from alphaloop.repo.gitrepo import GitRepo
from alphaloop.repo.identity import Identity

__all__ = ["commit_files"]


def commit_files(repo: GitRepo, branch: str, tip: str, files: Mapping[str, bytes],
                 message: str, identity: Identity, *, retry_hint: str) -> str:
    """Commit ``files`` on top of ``tip`` as ``identity`` and advance ``branch`` to it
    (ff-only, keeping the user's uncommitted work); return the commit."""
    with tempfile.TemporaryDirectory(prefix="alphaloop-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        repo.git("read-tree", tip, env=env)
        entries: list[str] = []
        for path, content in sorted(files.items()):
            blob = repo.git("hash-object", "-w", "--stdin", input=content).text
            entries += ["--cacheinfo", f"100644,{blob},{path}"]
        repo.git("update-index", "--add", *entries, env=env)
        tree = repo.git("write-tree", env=env).text
    commit = repo.commit_tree(tree, [tip], message, identity)
    repo.advance_branch(branch, commit, tip, retry_hint=retry_hint)
    return commit
