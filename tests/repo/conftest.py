"""Fixtures for the git layer's tests: real repositories in temporary folders.

Every test runs with an empty global git config that sets ``user.useConfigOnly``, so git
refuses any commit whose identity was not given explicitly: the bot's commits must pass
their identity, never rely on the machine's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.git_env import isolated_git_config  # noqa: F401 - autouse fixture

from alphaloop.repo import GitRepo, Identity

BOT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid")
INITIAL_FILES = {
    "README.md": "# demo\n",
    "strategy/params.py": "LOOKBACK = 126\nTHRESHOLD = 0.5\n",
    "strategy/engine.py": "def run():\n    return 1\n",
    "notes.txt": "one\ntwo\nthree\n",
}

def _make_repo(path: Path) -> GitRepo:
    """A repository on ``main`` with one commit holding a README, strategy code and notes."""
    repo = GitRepo.init(path)
    for name, text in INITIAL_FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    repo.commit_all(path, "initial", BOT)
    return repo


@pytest.fixture
def bot() -> Identity:
    """The identity the bot's commits are made with in these tests."""
    return BOT


@pytest.fixture
def make_repo() -> Callable[[Path], GitRepo]:
    """Build a fresh repository (see ``_make_repo``) at a given path."""
    return _make_repo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return _make_repo(tmp_path / "repo")
