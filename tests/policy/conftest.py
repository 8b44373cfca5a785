"""Fixtures for the policy and charter tests: the repository's own files, and copies of
them in a temporary folder that a test may break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from alphaloop.policy import Policies, load_policies

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def policies() -> Policies:
    return load_policies(REPO_ROOT)


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A repository root holding a copy of ``policies/`` and ``roles/``."""
    shutil.copytree(REPO_ROOT / "policies", tmp_path / "policies")
    shutil.copytree(REPO_ROOT / "roles", tmp_path / "roles")
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace ``old`` (which must occur) with ``new`` in a text file."""
    return _edit
