"""The options naming which strategy code a command runs, shared so that they read alike.

``alphaloop backtest`` and ``alphaloop check lookahead`` both run the strategy of a
repository: ``--repo`` (any folder in it), ``--rev`` (a commit, default that work tree's
``HEAD``) or ``--worktree-files`` (the work tree's current files), and ``--frequency``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["FrequencyChoice", "RepoOption", "RevOption", "WorktreeFilesOption"]


class FrequencyChoice(StrEnum):
    """How often the strategy is asked for weights."""

    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


RepoOption = Annotated[Path, typer.Option(
    "--repo", help="repository whose strategy runs (any folder in it)")]
RevOption = Annotated[str, typer.Option(
    "--rev", help="commit to run (default: HEAD of that work tree)")]
WorktreeFilesOption = Annotated[bool, typer.Option(
    "--worktree-files", help="run the work tree's current files instead of a commit")]
