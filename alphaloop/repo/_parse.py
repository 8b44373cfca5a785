"""Parsers for git's machine-readable output."""

from __future__ import annotations

import re
from pathlib import Path

from alphaloop.repo.models import FileChange, WorktreeInfo

__all__ = [
    "commits_with_trailer",
    "overlapping_files",
    "parse_merge_tree",
    "parse_numstat",
    "parse_worktrees",
]


def parse_worktrees(fields: list[str]) -> list[WorktreeInfo]:
    """Parse ``git worktree list --porcelain -z`` split on NUL."""
    worktrees: list[WorktreeInfo] = []
    current: dict[str, object] = {}
    for field in [*fields, ""]:
        if field == "":
            if current:
                worktrees.append(WorktreeInfo.model_validate(current))
            current = {}
            continue
        key, _, value = field.partition(" ")
        if key == "worktree":
            current["path"] = Path(value)
        elif key == "HEAD":
            current["head"] = value
        elif key == "branch":
            current["branch"] = value.removeprefix("refs/heads/")
        elif key in ("bare", "detached", "prunable"):
            current[key] = True
    return worktrees


def parse_numstat(fields: list[str]) -> list[FileChange]:
    """Parse ``git diff --numstat -z --no-renames`` split on NUL."""
    changes: list[FileChange] = []
    for field in fields:
        added, deleted, path = field.split("\t", 2)
        binary = added == "-"
        changes.append(FileChange(
            path=path, added=0 if binary else int(added), deleted=0 if binary else int(deleted),
            binary=binary,
        ))
    return changes


def parse_merge_tree(fields: list[str]) -> tuple[str, list[str]]:
    """Parse ``git merge-tree --write-tree --name-only -z`` into (tree, conflicted paths).

    The output is the tree id, then one field per conflicted file, then an empty field
    before git's informational messages.
    """
    tree = fields[0]
    conflicts: list[str] = []
    for field in fields[1:]:
        if field == "":
            break
        if field not in conflicts:
            conflicts.append(field)
    return tree, conflicts


_OVERLAP_HEADER = re.compile(r"would be (overwritten|removed) by")
_NOT_UPTODATE = re.compile(r"Entry '(.+)' not uptodate")


def overlapping_files(stderr: str) -> list[str] | None:
    """Files named in git's refusal to overwrite local changes, or None if it is not one.

    Git lists them tab-indented under a line saying they "would be overwritten by merge"
    (tracked changes) or "would be removed/overwritten" (untracked files).
    """
    files: list[str] = []
    found = False
    listing = False
    for line in stderr.splitlines():
        if _OVERLAP_HEADER.search(line):
            found = True
            listing = True
            continue
        if listing and line.startswith("\t"):
            files.append(line.strip())
            continue
        listing = False
        match = _NOT_UPTODATE.search(line)
        if match:
            found = True
            files.append(match.group(1))
    return sorted(set(files)) if found else None


def commits_with_trailer(log: str, key: str, value: str) -> list[str]:
    """Commit ids in ``git log --format=%x1e%H%x1f%B`` output whose message has ``key: value``."""
    wanted = f"{key}: {value}"
    found: list[str] = []
    for record in log.split("\x1e"):
        if "\x1f" not in record:
            continue
        sha, _, message = record.partition("\x1f")
        if any(line.strip() == wanted for line in message.splitlines()):
            found.append(sha.strip())
    return found
