"""The change under review, read from git: its files, its size and the lines it adds.

Every check of the Engineer reads the same :class:`Change`: the files that differ between
the base and the head commit (with their modes, as the gates read them), lines added
and deleted per file, and, for each Python file the head holds, the line numbers of
the head that the change added or rewrote (``git diff -U0``). Findings are reported on
those lines, so the code a change leaves alone is not held against it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from alphaloop.checks import ChangedFile, changed_files
from alphaloop.repo import DiffStat, GitRepo

__all__ = ["Change", "added_lines", "read_change"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


class Change(BaseModel):
    """What differs between ``base`` and ``head``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: str
    head: str
    files: tuple[ChangedFile, ...]
    stat: DiffStat
    added_lines: dict[str, frozenset[int]]
    """Python file of the head -> the head's line numbers the change added or rewrote."""

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    @property
    def python_files(self) -> list[str]:
        """Regular Python files the head holds that the change added or modified."""
        return [f.path for f in self.files
                if f.is_python and not f.deleted and f.odd_mode() is None]

    @property
    def modified_python(self) -> list[str]:
        """The Python files that existed at the base too (their findings there count)."""
        return [f.path for f in self.files
                if f.is_python and f.status in ("M", "T") and f.odd_mode() is None]

    def is_new(self, path: str) -> bool:
        return any(f.path == path and f.status == "A" for f in self.files)

    def touches(self, path: str, line: int | None) -> bool:
        """Whether ``line`` of ``path`` at the head is one the change added (the whole
        file when ``line`` is None)."""
        lines = self.added_lines.get(path, frozenset())
        return bool(lines) if line is None else line in lines


def added_lines(repo: GitRepo, base: str, head: str, path: str) -> frozenset[int]:
    """Line numbers of ``path`` at ``head`` that ``git diff -U0 base head`` adds."""
    out = repo.git("diff", "-U0", "--no-renames", "--no-ext-diff", "--no-color", base, head,
                   "--", path)
    lines: set[int] = set()
    for text in out.text.splitlines():
        match = _HUNK.match(text)
        if match:
            start = int(match["start"])
            count = 1 if match["count"] is None else int(match["count"])
            lines.update(range(start, start + count))
    return frozenset(lines)


def read_change(repo: GitRepo, base_sha: str, head_sha: str) -> Change:
    """The change ``base_sha..head_sha`` as the Engineer reviews it."""
    base, head = repo.rev_parse(base_sha), repo.rev_parse(head_sha)
    files = tuple(changed_files(repo, base, head))
    python = [f.path for f in files if f.is_python and not f.deleted and f.odd_mode() is None]
    return Change(base=base, head=head, files=files, stat=repo.diff_stat(base, head),
                  added_lines={path: added_lines(repo, base, head, path) for path in python})
