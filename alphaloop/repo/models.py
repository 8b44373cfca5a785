"""Typed results returned by :class:`~alphaloop.repo.GitRepo`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["AdvanceMode", "DiffStat", "FileChange", "WorktreeInfo"]

AdvanceMode = Literal["worktree", "ref", "unchanged"]
"""How a branch was advanced: fast-forward in the worktree that has it checked out,
compare-and-swap of the ref (not checked out anywhere), or not at all (already there)."""


class FileChange(BaseModel):
    """Lines added and deleted in one file between two commits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    added: int
    deleted: int
    binary: bool = False


class DiffStat(BaseModel):
    """The size of the change between two commits (renames shown as delete + add)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: str
    head: str
    files: tuple[FileChange, ...]

    @property
    def insertions(self) -> int:
        return sum(change.added for change in self.files)

    @property
    def deletions(self) -> int:
        return sum(change.deleted for change in self.files)

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.files]


class WorktreeInfo(BaseModel):
    """One entry of ``git worktree list``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    head: str | None = None
    branch: str | None = None
    bare: bool = False
    detached: bool = False
    prunable: bool = False
