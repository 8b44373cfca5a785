"""The ledger: one verified JSON file per finished cycle, and the store of a running one.

The ledger is the audit trail and the memory of the loop. Each cycle the PM commits
``ledger/cycles/cNNNN.json`` to the base branch: an envelope holding every stage's record,
the digest of the previous entry (a hash chain) and a SHA-256 digest of its canonical
JSON. :class:`Ledger` reads them back in cycle order and refuses - with
:class:`LedgerCorrupt` naming the file and the problem - any entry that is not valid JSON,
has an unknown format, a digest that does not match (it was edited after it was written),
a link that does not match the entry before it (an older entry was edited and its digest
recomputed), a cycle id that differs from its file name, or a gap in the numbering. The
format is documented in ``docs/ledger.md``; ``alphaloop audit verify`` cross-checks the
chain against git history and the forge.

While a cycle runs, each finished stage's record is kept in :class:`RunStore` under
``.git/alphaloop/runs/cNNNN/`` (written atomically), so a killed cycle resumes after its
last finished stage. Records are plain JSON dicts here; the cycle defines their models.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticSerializationError

from alphaloop.errors import Failure
from alphaloop.records.digest import canonical_json, digest_of

__all__ = [
    "CYCLE_TRAILER",
    "LEDGER_DIR",
    "LEDGER_FORMAT",
    "LEGACY_LEDGER_FORMAT",
    "RUN_FORMAT",
    "Ledger",
    "LedgerCorrupt",
    "LedgerEntry",
    "LedgerError",
    "RunCorrupt",
    "RunStore",
    "canonical_json",
    "cycle_id",
    "cycle_number",
    "digest_of",
]

LEDGER_FORMAT = "alphaloop-ledger/2"
#: The first format: the same envelope without the ``previous`` link. Still readable.
LEGACY_LEDGER_FORMAT = "alphaloop-ledger/1"
RUN_FORMAT = "alphaloop-run/1"
LEDGER_DIR = "ledger/cycles"
#: The trailer naming the cycle in every commit a cycle makes to the base branch.
CYCLE_TRAILER = "AlphaLoop-Cycle"

_CYCLE_ID = re.compile(r"^c(\d{4,})$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_TEXT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_ENVELOPE_KEYS = {"format", "cycle_id", "created", "previous", "records", "digest"}
_LEGACY_KEYS = _ENVELOPE_KEYS - {"previous"}


class LedgerError(Failure):
    """Anything the ledger or the run store refuses."""


class LedgerCorrupt(LedgerError):
    """A ledger file cannot be trusted; the message names the file and the problem."""


class RunCorrupt(LedgerError):
    """A file of the in-progress run cannot be trusted; the message says how to restart."""


def cycle_id(number: int) -> str:
    """The id of cycle ``number``: 1 -> ``c0001`` (more digits past 9999)."""
    if number < 1:
        raise ValueError(f"cycle numbers start at 1, not {number}")
    return f"c{number:04d}"


def cycle_number(cid: str) -> int:
    """The number of a cycle id: ``c0001`` -> 1."""
    match = _CYCLE_ID.match(cid)
    if match is None or int(match.group(1)) < 1 or cid != cycle_id(int(match.group(1))):
        raise ValueError(f"{cid!r} is not a cycle id (c0001, c0002, ...)")
    return int(match.group(1))


def _write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all: temp file, fsync, rename, fsync dir.

    With ``exclusive`` an existing ``path`` is never replaced (``FileExistsError``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(temp, path)
        else:
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class LedgerEntry(BaseModel):
    """One cycle's ledger file: every stage's record, chained and sealed by a digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["alphaloop-ledger/2", "alphaloop-ledger/1"] = LEDGER_FORMAT
    cycle_id: str = Field(pattern=_CYCLE_ID.pattern)
    created: AwareDatetime
    previous: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$",
                                 description="digest of the entry before (None for c0001)")
    records: dict[str, dict[str, Any]]
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")

    @classmethod
    def create(cls, cid: str, records: Mapping[str, Mapping[str, Any]], *,
               created: datetime | None = None, previous: str | None = None) -> LedgerEntry:
        """Seal ``records`` (stage name -> JSON-able dict) for cycle ``cid``.

        ``previous`` is the digest of the entry before (None for the first cycle). Values
        are stored as pydantic dumps them to JSON: datetimes as ISO strings, tuples as
        lists, NaN and infinities as null.
        """
        cycle_number(cid)
        for stage in records:
            if not _NAME.match(stage):
                raise LedgerError(f"stage name {stage!r} must be lower-case letters, digits, "
                                  f"'_' or '-'.")
        envelope = {"format": LEDGER_FORMAT, "cycle_id": cid,
                    "created": created or datetime.now(UTC), "previous": previous,
                    "records": {k: dict(v) for k, v in records.items()}, "digest": "0" * 64}
        draft = cls.model_validate(envelope)
        try:
            plain = draft.model_dump(mode="json")
            digest = digest_of(plain)
        except (PydanticSerializationError, ValueError) as error:
            raise LedgerError(f"the records of {cid} cannot be stored as JSON ({error}); "
                              f"pass plain JSON values (model_dump(mode='json')).") from None
        return cls.model_validate({**plain, "digest": digest})

    @classmethod
    def parse(cls, data: bytes, *, file_name: str) -> LedgerEntry:
        """Read and verify one ledger file's bytes; :class:`LedgerCorrupt` names the problem."""
        def corrupt(problem: str) -> LedgerCorrupt:
            return LedgerCorrupt(f"ledger file {file_name}: {problem}. It was not used; "
                                 f"restore it from git (`git log -p -- {file_name}`).")

        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise corrupt(f"not valid JSON ({error})") from None
        if not isinstance(raw, dict):
            raise corrupt("not a JSON object")
        if raw.get("format") not in (LEDGER_FORMAT, LEGACY_LEDGER_FORMAT):
            raise corrupt(f"format {raw.get('format')!r} is not {LEDGER_FORMAT!r}; it was "
                          f"written by another version of AlphaLoop")
        keys = _ENVELOPE_KEYS if raw["format"] == LEDGER_FORMAT else _LEGACY_KEYS
        if set(raw) != keys:
            raise corrupt(f"keys {sorted(raw)} are not the envelope's {sorted(keys)}")
        try:
            digest = digest_of(raw)
        except ValueError as error:
            raise corrupt(f"holds values JSON does not allow ({error})") from None
        if raw["digest"] != digest:
            raise corrupt("digest mismatch: the contents changed after the entry was written "
                          "(hand-edited?)")
        try:
            entry = cls.model_validate(raw)
        except ValidationError as error:
            raise corrupt(f"invalid envelope: {error.errors()[0]['loc']} "
                          f"{error.errors()[0]['msg']}") from None
        if Path(file_name).name != f"{entry.cycle_id}.json":
            raise corrupt(f"holds cycle {entry.cycle_id}, which does not match its file name")
        return entry

    @property
    def number(self) -> int:
        return cycle_number(self.cycle_id)

    def envelope(self) -> dict[str, Any]:
        """The entry as stored: a legacy (format 1) entry has no ``previous`` key."""
        plain = self.model_dump(mode="json")
        if self.format == LEGACY_LEDGER_FORMAT:
            plain.pop("previous")
        return plain

    def to_bytes(self) -> bytes:
        """The file's bytes: indented JSON with sorted keys, for readable diffs."""
        text = json.dumps(self.envelope(), indent=2, sort_keys=True,
                          ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode("utf-8")


class Ledger:
    """The ledger files under ``<root>/ledger/cycles`` (``root``: the repository's work tree)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.directory = self.root / LEDGER_DIR

    @staticmethod
    def relative_path(cid: str) -> str:
        """Where the entry of cycle ``cid`` lives, relative to the repository root."""
        cycle_number(cid)
        return f"{LEDGER_DIR}/{cid}.json"

    def path_for(self, cid: str) -> Path:
        return self.root / self.relative_path(cid)

    def entries(self) -> list[LedgerEntry]:
        """Every entry, verified, in cycle order (c0001 first)."""
        if not self.directory.is_dir():
            return []
        numbered: dict[int, Path] = {}
        for path in self.directory.iterdir():
            if path.name.startswith(".") or path.suffix != ".json":
                continue  # temp files of an interrupted write, .gitkeep, ...
            label = f"{LEDGER_DIR}/{path.name}"
            try:
                numbered[cycle_number(path.stem)] = path
            except ValueError:
                raise LedgerCorrupt(f"ledger file {label}: the name is not a cycle id "
                                    f"(c0001.json, ...); move it out of {LEDGER_DIR}.") from None
        entries: list[LedgerEntry] = []
        for expected, number in enumerate(sorted(numbered), start=1):
            if number != expected:
                raise LedgerCorrupt(f"ledger file {LEDGER_DIR}/{cycle_id(expected)}.json is "
                                    f"missing: the ledger jumps to {cycle_id(number)}. Restore "
                                    f"it from git (`git log --stat -- {LEDGER_DIR}`).")
            path = numbered[number]
            entry = LedgerEntry.parse(path.read_bytes(), file_name=f"{LEDGER_DIR}/{path.name}")
            _check_link(entry, entries[-1] if entries else None)
            entries.append(entry)
        return entries

    def verify(self) -> int:
        """Check every entry; return how many there are. Raises :class:`LedgerCorrupt`."""
        return len(self.entries())

    def last(self) -> LedgerEntry | None:
        entries = self.entries()
        return entries[-1] if entries else None

    def head_digest(self) -> str | None:
        """The digest the next entry links to (None for an empty ledger)."""
        last = self.last()
        return last.digest if last else None

    def next_cycle_id(self) -> str:
        """The id the next cycle will have."""
        return cycle_id(len(self.entries()) + 1)

    def append(self, entry: LedgerEntry) -> Path:
        """Write ``entry`` as the next file (atomically, never replacing one); return its path.

        Idempotent for resume: appending an entry identical to the last one is a no-op.
        """
        entries = self.entries()
        if entries and entries[-1] == entry:
            return self.path_for(entry.cycle_id)
        expected = cycle_id(len(entries) + 1)
        if entry.cycle_id != expected:
            raise LedgerError(f"cannot append {entry.cycle_id}: the next cycle of this ledger "
                              f"is {expected}.")
        head = entries[-1].digest if entries else None
        if entry.format == LEDGER_FORMAT and entry.previous != head:
            raise LedgerError(f"cannot append {entry.cycle_id}: it links to "
                              f"{entry.previous or 'nothing'}, but the last entry's digest is "
                              f"{head or 'none (the ledger is empty)'}; create it with "
                              f"previous=Ledger.head_digest().")
        if entry.digest != digest_of(entry.envelope()):
            raise LedgerError(f"entry {entry.cycle_id} has a digest that does not match its "
                              f"contents; build it with LedgerEntry.create.")
        path = self.path_for(entry.cycle_id)
        try:
            _write_atomic(path, entry.to_bytes(), exclusive=True)
        except FileExistsError:
            raise LedgerError(f"{self.relative_path(entry.cycle_id)} appeared while it was "
                              f"being written: is another cycle running?") from None
        return path


def _check_link(entry: LedgerEntry, before: LedgerEntry | None) -> None:
    """A format-2 entry must name the digest of the entry before it (None for c0001)."""
    if entry.format != LEDGER_FORMAT:
        return
    expected = before.digest if before else None
    if entry.previous != expected:
        name = f"{LEDGER_DIR}/{entry.cycle_id}.json"
        raise LedgerCorrupt(
            f"ledger file {name}: it links to {entry.previous or 'nothing'} but the entry "
            f"before it has digest {expected or 'none (it is the first)'}: an earlier entry "
            f"was changed after this one was written. Restore the ledger from git "
            f"(`git log -p -- {LEDGER_DIR}`) and run `alphaloop audit verify`.")


class RunStore:
    """The records of the cycle in progress, one JSON file per finished stage.

    Lives in ``<git_dir>/alphaloop/runs/<cycle id>/`` (``git_dir``: the repository's
    common ``.git`` directory). Every write is atomic, so after a crash each file holds a
    whole record or does not exist. Saving a stage again replaces its record.
    """

    def __init__(self, git_dir: Path | str, cid: str) -> None:
        cycle_number(cid)
        self.cycle_id = cid
        self.directory = Path(git_dir) / "alphaloop" / "runs" / cid

    @staticmethod
    def in_progress(git_dir: Path | str) -> list[str]:
        """Cycle ids that have a run directory (started and not cleared), in order."""
        runs = Path(git_dir) / "alphaloop" / "runs"
        if not runs.is_dir():
            return []
        ids = [p.name for p in runs.iterdir() if p.is_dir() and _CYCLE_ID.match(p.name)]
        return sorted(ids, key=cycle_number)

    def exists(self) -> bool:
        return self.directory.is_dir()

    def _path(self, stage: str) -> Path:
        if not _NAME.match(stage):
            raise LedgerError(f"stage name {stage!r} must be lower-case letters, digits, "
                              f"'_' or '-'.")
        return self.directory / f"{stage}.json"

    def _read(self, path: Path) -> dict[str, Any]:
        def corrupt(problem: str) -> RunCorrupt:
            return RunCorrupt(f"run file {path}: {problem}. Delete {self.directory} to run "
                              f"cycle {self.cycle_id} again from its start.")

        try:
            raw = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise corrupt(f"not valid JSON ({error})") from None
        if not isinstance(raw, dict) or raw.get("format") != RUN_FORMAT:
            raise corrupt(f"not an {RUN_FORMAT} file")
        try:
            digest = digest_of(raw)
        except ValueError as error:
            raise corrupt(f"holds values JSON does not allow ({error})") from None
        if raw.get("digest") != digest:
            raise corrupt("digest mismatch: the contents changed after they were written")
        if raw.get("cycle_id") != self.cycle_id or f"{raw.get('stage')}.json" != path.name:
            raise corrupt("it belongs to another cycle or stage")
        if not isinstance(raw.get("record"), dict) or not isinstance(raw.get("seq"), int):
            raise corrupt("the record or its sequence number is missing")
        return raw

    def _envelopes(self) -> list[dict[str, Any]]:
        if not self.directory.is_dir():
            return []
        paths = [p for p in self.directory.glob("*.json") if not p.name.startswith(".")]
        return sorted((self._read(p) for p in paths), key=lambda raw: raw["seq"])

    def save(self, stage: str, record: Mapping[str, Any]) -> Path:
        """Store (or replace) the record of ``stage``; return the file written."""
        path = self._path(stage)
        previous = self._read(path) if path.exists() else None
        seq = previous["seq"] if previous else 1 + max(
            (raw["seq"] for raw in self._envelopes()), default=0)
        envelope: dict[str, Any] = {
            "format": RUN_FORMAT, "cycle_id": self.cycle_id, "stage": stage, "seq": seq,
            "saved": datetime.now(UTC).isoformat(), "record": dict(record),
        }
        try:
            envelope["digest"] = digest_of(envelope)
        except (TypeError, ValueError) as error:
            raise LedgerError(f"the {stage} record cannot be stored as JSON ({error}); pass "
                              f"model_dump(mode='json') of the record.") from None
        _write_atomic(path, canonical_json(envelope) + b"\n")
        return path

    def load(self, stage: str) -> dict[str, Any] | None:
        """The stored record of ``stage``, or None if that stage has not finished."""
        path = self._path(stage)
        return self._read(path)["record"] if path.exists() else None

    def stages(self) -> list[str]:
        """Stages with a stored record, in the order they were first saved."""
        return [raw["stage"] for raw in self._envelopes()]

    def records(self) -> dict[str, dict[str, Any]]:
        """Every stored record by stage, in the order first saved."""
        return {raw["stage"]: raw["record"] for raw in self._envelopes()}

    def _text_path(self, name: str) -> Path:
        if not _TEXT_NAME.match(name) or name.endswith(".json"):
            raise LedgerError(f"text name {name!r} must be a plain file name not ending in "
                              f".json (those hold stage records).")
        return self.directory / name

    def save_text(self, name: str, text: str) -> Path:
        """Store a text artefact of the run (e.g. a draft ``task.md``), atomically."""
        path = self._text_path(name)
        _write_atomic(path, text.encode("utf-8"))
        return path

    def load_text(self, name: str) -> str | None:
        path = self._text_path(name)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def clear(self) -> None:
        """Remove the run's directory (once its ledger entry is committed)."""
        shutil.rmtree(self.directory, ignore_errors=True)
