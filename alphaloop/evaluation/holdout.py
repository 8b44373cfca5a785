"""Reads of the held-out window made outside a cycle, and how Risk counts them.

A held-out window consulted many times stops being out of sample, so every read is
counted. Risk's reads are counted in the ledger (``holdout_reads`` of each Risk review:
the count so far, the review's own read included). A person who backtests over the
held-out window (``alphaloop backtest --include-holdout``) reads it too: such a read is
appended to ``.git/alphaloop/holdout-reads.jsonl`` (one JSON object a line, never
rewritten) by :func:`record_read`, and :func:`reads_outside_cycles` gives Risk the reads
of its held-out window (same data, overlapping days) the ledger has not counted yet -
those made after the start of the latest cycle whose Risk review read the window. Risk's
next count adds them, so from then on the ledger carries them.

The file lives beside the run store, in the repository's private state: it is not
committed, so a fresh clone starts with no reads of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

__all__ = ["READS_FILE", "HoldoutRead", "read_log", "reads_outside_cycles", "record_read"]

READS_FILE = "holdout-reads.jsonl"
_UNREADABLE = "(unreadable line)"


class HoldoutRead(BaseModel):
    """One read of the held-out window outside a cycle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    command: str = Field(description="what read it, e.g. 'alphaloop backtest'")
    data_source: str
    holdout_start: date = Field(description="first day of the held-out window")
    holdout_end: date = Field(description="last day of the held-out window (the clock)")
    read_start: date = Field(description="first held-out day the run covered")
    read_end: date = Field(description="last held-out day the run covered")
    commit: str | None = Field(default=None, description="the strategy's commit, if any")


def _path(alphaloop_dir: Path) -> Path:
    return Path(alphaloop_dir) / READS_FILE


def record_read(alphaloop_dir: Path, read: HoldoutRead) -> Path:
    """Append ``read`` to the reads file in ``alphaloop_dir`` (``.git/alphaloop``)."""
    path = _path(alphaloop_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (read.model_dump_json() + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of one line: appends never interleave
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_log(alphaloop_dir: Path) -> list[HoldoutRead]:
    """Every recorded read, oldest first.

    A line that cannot be read (a torn write, an edit) still counts as one read made at
    an unknown time, taken as the file's modification time: a read is never lost.
    """
    path = _path(alphaloop_dir)
    if not path.is_file():
        return []
    out: list[HoldoutRead] = []
    fallback = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not text.strip():
            continue
        try:
            out.append(HoldoutRead.model_validate(json.loads(text)))
        except (ValueError, ValidationError):
            out.append(HoldoutRead(at=fallback, command=_UNREADABLE, data_source="?",
                                   holdout_start=date.min, holdout_end=date.min,
                                   read_start=date.min, read_end=date.min))
    return out


def _counted_until(entries: Iterable[Mapping[str, Any]]) -> datetime | None:
    """When the ledger last counted reads: the start of the latest cycle whose Risk
    review read the held-out window (its figures hold a ``holdout`` run).

    The start is the entry's creation less the cycle's stage timings. A read made while
    that cycle ran is then counted again by the next review: never fewer reads than
    were made.
    """
    latest = None
    for entry in entries:
        records = entry.get("records") or {}
        review = records.get("risk_review") or {}
        created = entry.get("created")
        if not (review.get("main_metrics") or {}).get("holdout") or created is None:
            continue
        moment = created if isinstance(created, datetime) else datetime.fromisoformat(
            str(created))
        timings = (records.get("summary") or {}).get("timings") or {}
        moment -= timedelta(seconds=sum(float(s) for s in timings.values() if s))
        latest = moment if latest is None or moment > latest else latest
    return latest


def reads_outside_cycles(alphaloop_dir: Path, entries: Iterable[Mapping[str, Any]], *,
                         data_source: str | None = None, start: date | None = None,
                         end: date | None = None) -> int:
    """Reads of the reads file the ledger ``entries`` have not counted yet.

    Given the cycle's ``data_source`` and its held-out window (``start`` to ``end``), only
    reads of that window count: a backtest of other data, or of days outside it, has not
    seen it. An unreadable line always counts.
    """
    since = _counted_until(entries)

    def of_this_window(read: HoldoutRead) -> bool:
        if read.command == _UNREADABLE:
            return True
        if data_source is not None and read.data_source != data_source:
            return False
        return not ((end is not None and read.read_start > end)
                    or (start is not None and read.read_end < start))

    return sum(1 for read in read_log(alphaloop_dir)
               if (since is None or read.at > since) and of_this_window(read))
