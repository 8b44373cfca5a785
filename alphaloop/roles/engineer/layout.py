"""``ruff format --check``, on the lines the change adds.

``python -m ruff format --diff`` (the base's configuration) shows what the formatter
would rewrite in each changed Python file at the head. A hunk counts when a line it
rewrites (or the line an insertion lands before) is one the change added: the change
left that code unformatted. Code the change did not touch is left to a change of its
own, so a file that was never formatted does not send back every edit to it. A file
that does not parse is left to the lint check (ruff reports the syntax error there).
"""

from __future__ import annotations

import re
import subprocess  # nosec B404 - ruff runs with an argument list, never a shell
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from alphaloop.checks import Severity
from alphaloop.checks.tools import ToolFailure, ruff_config_args
from alphaloop.records import EngineerFinding
from alphaloop.roles.engineer.change import Change

__all__ = ["FormatFailure", "FormatHunk", "format_hunks", "parse_format_diff",
           "unformatted_lines"]

_HUNK = re.compile(r"^@@ -(?P<start>\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_MAX_EVIDENCE_LINES = 30


class FormatHunk(BaseModel):
    """One place the formatter would rewrite: the head's lines it touches, and its diff."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    lines: tuple[int, ...]
    text: str


def _hunks(path: str, body: list[str]) -> Iterator[FormatHunk]:
    old = 0
    touched: list[int] = []
    text: list[str] = []
    pending_insert = False
    for line in body:
        match = _HUNK.match(line)
        if match:
            if text:
                yield FormatHunk(path=path, lines=tuple(touched), text="\n".join(text))
            old, touched, text, pending_insert = int(match["start"]), [], [line], False
            continue
        text.append(line)
        if line.startswith("-"):
            touched.append(old)
            old += 1
        elif line.startswith("+"):
            pending_insert = True
        else:
            if pending_insert:
                touched.append(old)  # an insertion lands before this line
                pending_insert = False
            old += 1
    if text:
        yield FormatHunk(path=path, lines=tuple(touched), text="\n".join(text))


def parse_format_diff(diff: str) -> list[FormatHunk]:
    """The hunks of ``ruff format --diff`` output, per file."""
    hunks: list[FormatHunk] = []
    path: str | None = None
    body: list[str] = []
    for line in diff.splitlines():
        if line.startswith("--- "):
            if path is not None:
                hunks += _hunks(path, body)
            path, body = line[4:].strip(), []
        elif line.startswith("+++ ") and not body:
            continue
        elif path is not None:
            body.append(line)
    if path is not None:
        hunks += _hunks(path, body)
    return hunks


class FormatFailure(ToolFailure):
    """ruff format could not give a verdict."""


def format_hunks(files: Sequence[str], *, root: Path, timeout: float) -> list[FormatHunk]:
    """What ``ruff format`` would rewrite in ``files`` (relative to ``root``)."""
    if not files:
        return []
    argv = [sys.executable, "-m", "ruff", "format", "--diff", "--no-cache", "--force-exclude",
            *ruff_config_args(root), "--", *files]
    try:
        done = subprocess.run(argv, cwd=root, capture_output=True, timeout=timeout,  # nosec B603
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FormatFailure(f"ruff format did not run: {exc}") from None
    stderr = done.stderr.decode("utf-8", "replace")
    # 0: nothing to do; 1: would reformat; 2: an error, e.g. a file that does not parse
    if done.returncode not in (0, 1, 2) or (done.returncode == 2
                                            and "Failed to parse" not in stderr):
        tail = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
        raise FormatFailure(f"ruff format exited with status {done.returncode} ({tail})")
    # ruff names each file as it was given: relative to ``root``
    hunks = parse_format_diff(done.stdout.decode("utf-8", "replace"))
    return [h.model_copy(update={"path": h.path.removeprefix("./")}) for h in hunks]


def unformatted_lines(change: Change, root: Path, *, timeout: float) -> list[EngineerFinding]:
    """One finding per formatter hunk that rewrites a line the change added."""
    try:
        hunks = format_hunks(change.python_files, root=root, timeout=timeout)
    except FormatFailure as exc:
        return [EngineerFinding(check="engineer.tool", rule="could-not-verify",
                                severity=Severity.RESTRICT,
                                message=f"could not check formatting: {exc}; run the review "
                                        "again once ruff runs",
                                evidence={"files": list(change.python_files)})]
    findings: list[EngineerFinding] = []
    for hunk in hunks:
        added = [n for n in hunk.lines if change.touches(hunk.path, n)]
        if not added:
            continue
        text = hunk.text.splitlines()
        findings.append(EngineerFinding(
            check="engineer.format", rule="format", severity=Severity.RESTRICT,
            path=hunk.path, line=added[0],
            message=f"ruff format would rewrite {len(added)} line(s) this change adds; lay "
                    "them out as the diff in the evidence does",
            evidence={"lines": added, "diff": "\n".join(text[:_MAX_EVIDENCE_LINES])}))
    return findings
