"""Scratch checkouts the suite runs in: ``strategy/`` and ``tests/generated/`` of a
commit, exactly as git stores them, plus files written over them (a new test file, a
mutant). Nothing else of the repository is there, so the tests can reach no data file
and no module of AlphaLoop beyond the contract the sandbox provides."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from alphaloop.repo import GitRepo, RefNotFound, materialise_tree

__all__ = ["GENERATED_DIR", "copy_checkout", "make_checkout"]

GENERATED_DIR = "tests/generated"


def _write(root: Path, files: Mapping[str, str | None]) -> None:
    for path, text in files.items():
        target = root / path
        if text is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def make_checkout(repo: GitRepo, sha: str, root: Path,
                  files: Mapping[str, str | None] | None = None) -> Path:
    """``strategy/`` and ``tests/generated/`` of ``sha`` in ``root``, then ``files``."""
    shutil.rmtree(root, ignore_errors=True)
    materialise_tree(repo, sha, root / "strategy-part", paths=("strategy",))
    (root / "strategy-part" / "strategy").rename(root / "strategy")
    shutil.rmtree(root / "strategy-part")
    try:
        materialise_tree(repo, sha, root / "tests-part", paths=(GENERATED_DIR,))
        (root / "tests").mkdir()
        (root / "tests-part" / GENERATED_DIR).rename(root / GENERATED_DIR)
    except RefNotFound:
        (root / GENERATED_DIR).mkdir(parents=True)
    shutil.rmtree(root / "tests-part", ignore_errors=True)
    _write(root, files or {})
    return root


def copy_checkout(source: Path, root: Path, files: Mapping[str, str | None]) -> Path:
    """A copy of the checkout ``source`` at ``root`` with ``files`` written over it."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("__pycache__", "pytest.ini"))
    _write(root, files)
    return root
