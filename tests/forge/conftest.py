"""Fixtures for the forge's tests: a real repository and a LocalForge over it.

As in the git layer's tests, the global git config is replaced by one that sets
``user.useConfigOnly`` and no identity, so every commit must name its identity. The bot's
review key lives in a temporary config folder (``$XDG_CONFIG_HOME``), never the user's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from support.git_env import isolated_git_config  # noqa: F401 - autouse fixture

from alphaloop.cli.pr import register
from alphaloop.forge import LocalForge
from alphaloop.repo import GitRepo, Identity

QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid")
MERGER = Identity(name="AlphaLoop", email="bot@alphaloop.invalid")


@pytest.fixture(autouse=True)
def review_key_home(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config folder for the bot's review key (created on first signature)."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)
    return home


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A repository on ``main`` holding a small strategy package and notes."""
    root = tmp_path / "repo"
    repo = GitRepo.init(root)
    (root / "strategy").mkdir()
    (root / "strategy" / "tunables.py").write_text("MOMENTUM_LOOKBACK_DAYS = 126\n")
    (root / "notes.txt").write_text("notes\n")
    repo.commit_all(root, "initial", QUANT)
    return repo


class Clock:
    """A clock that ticks one minute per reading, so timestamps are distinct and known."""

    def __init__(self) -> None:
        self.now = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def forge(repo: GitRepo) -> LocalForge:
    return LocalForge(repo, clock=Clock())


@pytest.fixture
def propose(repo: GitRepo) -> Iterator[Callable[..., str]]:
    """Commit files on a branch (in the bot's worktree) and return the new head."""
    def commit(branch: str, files: dict[str, str], message: str = "change") -> str:
        path = repo.create_worktree(branch, "main")
        for name, text in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_text(text)
        return repo.commit_all(path, message, QUANT)
    yield commit


@pytest.fixture
def merger() -> Identity:
    return MERGER


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The alphaloop command line (only its pr group here)."""

    register(app)
    return app
