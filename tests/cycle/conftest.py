"""Fixtures for whole-cycle tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import make_repo


@pytest.fixture()
def cycle_repo(tmp_path: Path) -> Path:
    """A fresh AlphaLoop project in a real git repository (see support.cycle_repos)."""
    return make_repo(tmp_path / "project")
