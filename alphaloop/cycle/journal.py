"""The bot's own journal of what it committed, kept outside the repository's history.

Each time a cycle commits its ledger entry to the base branch, the bot appends one line
to ``.git/alphaloop/audit/journal.jsonl``: the cycle id, the entry's digest, the commit
that carried it and the branch. The journal lives in the git directory, so no commit,
rebase or force-push of a branch changes it, and sandboxed strategy code never sees it.
``alphaloop audit verify`` compares it with the ledger and the branch: an entry whose
digest differs from what was committed, an entry that disappeared, or a commit that is no
longer in the branch's history (``main`` was rewritten) is reported.

Each line carries an HMAC over its fields with the bot's key (:mod:`alphaloop.keys`),
so an edit of the journal itself is reported too.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Journal", "JournalLine", "JournalProblem"]

_SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"


class JournalLine(BaseModel):
    """One committed ledger entry, as the bot recorded it at the time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_id: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    commit: str = Field(pattern=_SHA)
    branch: str
    recorded_at: AwareDatetime
    mac: str = ""

    def payload(self) -> bytes:
        body = self.model_dump(mode="json", exclude={"mac"})
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: bytes) -> JournalLine:
        mac = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return self.model_copy(update={"mac": mac})

    def verifies(self, key: bytes) -> bool:
        expected = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.mac)


class JournalProblem(BaseModel):
    """A journal line that cannot be read or whose signature does not verify."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    problem: str


class Journal:
    """``<git common dir>/alphaloop/audit/journal.jsonl``: append-only, one line a commit."""

    def __init__(self, common_dir: Path | str, key: bytes) -> None:
        self.path = Path(common_dir) / "alphaloop" / "audit" / "journal.jsonl"
        self._key = key

    def record(self, *, cycle_id: str, digest: str, commit: str, branch: str) -> JournalLine:
        """Append a line for a committed entry (once: recording it again changes nothing)."""
        lines, _ = self.read()
        for line in lines:
            if (line.cycle_id, line.digest, line.commit) == (cycle_id, digest, commit):
                return line
        line = JournalLine(cycle_id=cycle_id, digest=digest, commit=commit, branch=branch,
                           recorded_at=datetime.now(UTC)).signed(self._key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with contextlib.closing(os.fdopen(fd, "ab")) as handle:
            handle.write(line.model_dump_json().encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        return line

    def read(self) -> tuple[list[JournalLine], list[JournalProblem]]:
        """Every line that verifies, and a problem for each one that does not."""
        if not self.path.is_file():
            return [], []
        lines: list[JournalLine] = []
        problems: list[JournalProblem] = []
        for number, raw in enumerate(self.path.read_bytes().splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                line = JournalLine.model_validate_json(raw)
            except ValidationError as error:
                problems.append(JournalProblem(
                    line=number, problem=f"unreadable ({error.errors()[0]['msg']})"))
                continue
            if not line.verifies(self._key):
                problems.append(JournalProblem(
                    line=number, problem=f"the signature of the line for {line.cycle_id} does "
                                         "not verify: the journal was edited"))
                continue
            lines.append(line)
        return lines, problems
