"""Fixtures for the deterministic checks: the repository's policies, a source checker,
and real git repositories in temporary folders seeded with this repository's policies
and lint configuration."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from alphaloop.checks import Finding, check_strategy_source
from alphaloop.policy import Policies, load_policies
from alphaloop.repo import GitRepo, Identity

REPO_ROOT = Path(__file__).resolve().parents[2]
QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.local")

Check = Callable[..., list[Finding]]


@pytest.fixture(scope="session")
def policies() -> Policies:
    return load_policies(REPO_ROOT)


@pytest.fixture
def check(policies: Policies) -> Check:
    """``check(source, path="strategy/example.py")``: AST-policy findings of dedented code."""

    def run(source: str, path: str = "strategy/example.py") -> list[Finding]:
        return check_strategy_source(textwrap.dedent(source), path, policies)

    return run


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


BASE_FILES = {
    "strategy/__init__.py": '"""A tiny strategy."""\n',
    "strategy/tunables.py": "LOOKBACK_DAYS = 126  # momentum window\n",
    "strategy/engine.py": '''\
        """Equal weights over the universe."""

        from __future__ import annotations

        import numpy as np

        from alphaloop.contract import MarketView
        from strategy.tunables import LOOKBACK_DAYS


        def decide(view: MarketView) -> dict[str, float]:
            """Equal weights, capped at the single-asset limit."""
            n = len(view.tickers)
            weight = float(np.minimum(1.0 / n, 0.15))
            return dict.fromkeys(view.tickers[-LOOKBACK_DAYS:], weight)
        ''',
    "tests/generated/test_engine.py": "def test_truth() -> None:\n    assert 1 + 1 == 2\n",
    "task.md": "# Backlog\n",
}


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """A repository on ``main`` holding policies, pyproject and a tiny strategy."""
    root = tmp_path / "repo"
    repo = GitRepo.init(root)
    shutil.copytree(REPO_ROOT / "policies", root / "policies")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    write(root, BASE_FILES)
    repo.commit_all(root, "initial", QUANT)
    return repo


@pytest.fixture
def commit(git_repo: GitRepo) -> Callable[..., str]:
    """``commit(files, delete=(), message=...)``: write and commit on main; the new sha."""

    def run(files: dict[str, str], *, delete: tuple[str, ...] = (),
            message: str = "change") -> str:
        write(git_repo.work_tree, files)
        for name in delete:
            (git_repo.work_tree / name).unlink()
        return git_repo.commit_all(git_repo.work_tree, message, QUANT)

    return run
