"""Which strategy a backtest runs: the one in the repository it is pointed at.

:func:`prepare_checkout` writes ``strategy/`` of a repository into a private folder the
sandbox mounts: by default the tree of a commit (``--rev``, default the work tree's
``HEAD``; in a linked worktree that worktree's ``HEAD``), written exactly as git stores
it (:func:`~alphaloop.repo.materialise_tree`); with ``worktree_files`` the work tree's
current files instead, as ``git add`` would stage them. Either way the result names the
strategy's tree hash, so a backtest says which code it ran - never whichever copy of
``strategy`` happens to be importable.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.repo import GitError, GitRepo, materialise_tree

__all__ = ["STRATEGY_DIR", "StrategyLocation", "StrategySource", "prepare_checkout"]

STRATEGY_DIR = "strategy"


class StrategyLocation(BaseModel):
    """Where to take the strategy from, as ``alphaloop backtest`` is told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repo: Path = Field(default=Path("."), description="a repository or any folder in one")
    rev: str = Field(default="HEAD", min_length=1, description="the commit to run")
    worktree_files: bool = Field(default=False,
                                 description="run the work tree's current files, not a commit")
    unsandboxed: bool = Field(default=False, description="trusted checkout: no sandbox")
    sandbox: str = Field(default="process", description="process (bubblewrap) or docker")


class StrategySource(BaseModel):
    """What a backtest ran: recorded beside its result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repository: str
    rev: str
    commit: str
    tree: str = Field(description="git tree id of strategy/ as run")
    worktree_files: bool = False
    sandboxed: bool = True


def _worktree_tree(repo: GitRepo, into: Path) -> str:
    """Copy the work tree's strategy files (as git would stage them) and hash them."""
    with tempfile.TemporaryDirectory(prefix="alphaloop-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        repo.git("read-tree", "--empty", env=env)
        repo.git("add", "--all", "--", STRATEGY_DIR, env=env)
        listed = repo.git("ls-files", "-z", "--stage", "--", STRATEGY_DIR, env=env)
        for field in listed.nul_fields():
            meta, _, path = field.partition("\t")
            mode = meta.split()[0]
            if mode not in ("100644", "100755"):
                continue  # links and submodules are never copied (nor followed)
            target = into / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo.work_tree / path, target, follow_symlinks=False)
            target.chmod(0o755 if mode == "100755" else 0o644)
        out = repo.git("write-tree", f"--prefix={STRATEGY_DIR}/", env=env)
        return out.text


def prepare_checkout(location: StrategyLocation, into: Path) -> StrategySource:
    """Write the repository's ``strategy/`` into ``into`` (empty) and say what it is."""
    repo = GitRepo.open(location.repo)
    commit = repo.rev_parse(location.rev)
    if location.worktree_files:
        tree = _worktree_tree(repo, into)
    else:
        materialise_tree(repo, commit, into, paths=(STRATEGY_DIR,))
        tree = repo.tree_hash(commit, STRATEGY_DIR)
    if not (into / STRATEGY_DIR / "__init__.py").is_file():
        raise GitError(f"there is no strategy package (strategy/__init__.py) in "
                       f"{repo.work_tree} at {location.rev}; point --repo at a FinSage "
                       f"repository.")
    return StrategySource(repository=str(repo.work_tree), rev=location.rev, commit=commit,
                          tree=tree, worktree_files=location.worktree_files,
                          sandboxed=not location.unsandboxed)
