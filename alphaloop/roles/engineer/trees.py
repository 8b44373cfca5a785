"""The two commits of a change written to disk for ruff, under the base's configuration.

Both trees are written exactly as git stores them (:func:`~alphaloop.repo.materialise_tree`:
no attributes, filters or hooks; the repository and its worktrees are only read). The
head's tree gets the base's ruff configuration (``pyproject.toml``, ``ruff.toml``,
``.ruff.toml`` at the root): a change is judged by the rules it is proposed under, so
relaxing a rule in the same change does not silence it (and a change to
``pyproject.toml`` needs a human anyway).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from alphaloop.repo import GitRepo, RefNotFound, materialise_tree

__all__ = ["CONFIG_FILES", "Trees", "review_trees"]

#: Where ruff reads a repository's configuration from (the root only: see
#: :func:`alphaloop.checks.tools.ruff_config_args`).
CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml")


class Trees(BaseModel):
    """Where the head and the base of the change were written."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    head: Path
    base: Path


def _base_config(repo: GitRepo, base: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for name in CONFIG_FILES:
        try:
            found[name] = repo.read_file(base, name)
        except RefNotFound:
            continue
    return found


def _use_config(root: Path, config: dict[str, bytes]) -> None:
    for name in CONFIG_FILES:
        target = root / name
        if name in config:
            target.write_bytes(config[name])
        elif target.exists():
            target.unlink()


@contextmanager
def review_trees(repo: GitRepo, base: str, head: str) -> Iterator[Trees]:
    """The head and base trees in a temporary folder, removed on exit."""
    config = _base_config(repo, base)
    with tempfile.TemporaryDirectory(prefix="alphaloop-engineer-") as tmp:
        trees = Trees(head=Path(tmp) / "head", base=Path(tmp) / "base")
        for root, rev in ((trees.head, head), (trees.base, base)):
            materialise_tree(repo, rev, root)
            _use_config(root, config)
        yield trees
