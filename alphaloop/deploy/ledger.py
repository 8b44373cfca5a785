"""The deployment ledger: every deploy, rollback, halt and resume, committed to git.

Each event is one file, ``deploy/history/dNNNN.json`` on the base branch, committed by
the SRE (or by the person who ran ``alphaloop halt`` / ``resume``). Like the cycle ledger
each file is sealed by the SHA-256 digest of its canonical JSON and names the digest of
the event before it, so an edited, removed or reordered event is refused with
:class:`DeployLedgerCorrupt` naming the file.

:class:`DeploymentState` is what the events add up to: the clock, what runs now, what the
last deployment that traded did, and whether a halt is in force.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from alphaloop.deploy.errors import DeployError
from alphaloop.records import DeploymentEvent, LiveRecord, event_id
from alphaloop.records.digest import canonical_json, digest_of
from alphaloop.repo import GitRepo, Identity, commit_files

__all__ = ["DEPLOY_HISTORY", "DeployLedgerCorrupt", "DeploymentLedger", "DeploymentState"]

DEPLOY_HISTORY = "deploy/history"
#: The trailer naming the deployment event in the commit that records it.
EVENT_TRAILER = "AlphaLoop-Deployment"


class DeployLedgerCorrupt(DeployError):
    """A file of the deployment ledger cannot be trusted; the message names it."""


class DeploymentState(BaseModel):
    """What the deployment ledger adds up to."""

    model_config = ConfigDict(frozen=True)

    clock: date | None = None
    """The last live bar any deployment traded (None: no deployment has run yet)."""
    current: DeploymentEvent | None = None
    """The deploy or rollback that put the running commit in place."""
    halt: DeploymentEvent | None = None
    """The halt in force, if any (a halt not followed by a resume)."""
    last_live: LiveRecord | None = None
    """What the newest deployment that traded did over its live period."""

    @property
    def halted(self) -> bool:
        return self.halt is not None


class DeploymentLedger:
    """The events on ``branch`` of ``repo``, read and appended."""

    def __init__(self, repo: GitRepo, branch: str) -> None:
        self.repo = repo
        self.branch = branch

    def events(self) -> list[DeploymentEvent]:
        """Every event in order, each checked against its digest and its predecessor."""
        tip = self.repo.branch_sha(self.branch)
        if tip is None:
            return []
        listing = self.repo.git("ls-tree", "--name-only", f"{tip}:{DEPLOY_HISTORY}",
                                ok=(0, 128))
        names = sorted(n for n in listing.lines() if n.endswith(".json")) \
            if listing.status == 0 else []
        events: list[DeploymentEvent] = []
        previous: str | None = None
        for position, name in enumerate(names, start=1):
            label = f"{DEPLOY_HISTORY}/{name}"
            event = _parse(self.repo.read_file(tip, label), label)
            if event.id != name.removesuffix(".json") or event.id != event_id(position):
                raise DeployLedgerCorrupt(
                    f"{label} holds event {event.id!r} where {event_id(position)!r} belongs: "
                    "an event was removed or renamed. Restore the file from git history "
                    "(`git log -- deploy/history`).")
            if event.previous != previous:
                raise DeployLedgerCorrupt(
                    f"{label} does not follow the event before it (its link is "
                    f"{(event.previous or 'none')[:12]}, expected {(previous or 'none')[:12]}): "
                    "an older event was edited. Restore deploy/history from git history.")
            previous = event.digest
            events.append(event)
        return events

    def state(self) -> DeploymentState:
        return fold(self.events())

    def append(self, identity: Identity, message: str, **fields: Any) -> DeploymentEvent:
        """Seal a new event with the next id and the last digest, and commit it to the
        branch as ``identity`` (a fast-forward that keeps the user's work)."""
        events = self.events()
        body = {"id": event_id(len(events) + 1), "created": datetime.now(UTC),
                "previous": events[-1].digest if events else None, **fields}
        unsealed = DeploymentEvent.model_validate(body)
        sealed = unsealed.model_copy(update={"digest": digest_of(
            unsealed.model_dump(mode="json"))})
        tip = self.repo.branch_sha(self.branch)
        if tip is None:
            raise DeployError(f"the branch {self.branch!r} does not exist; nothing was recorded")
        path = f"{DEPLOY_HISTORY}/{sealed.id}.json"
        text = f"{message.rstrip()}\n\n{EVENT_TRAILER}: {sealed.id}\n"
        commit_files(self.repo, self.branch, tip, {path: to_bytes(sealed)}, text, identity,
                     retry_hint="then run the command again")
        return sealed


def to_bytes(event: DeploymentEvent) -> bytes:
    """The file an event is stored as: indented JSON, keys sorted, one newline at the end."""
    return (json.dumps(json.loads(canonical_json(event.model_dump(mode="json"))), indent=2,
                       sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _parse(raw: bytes, label: str) -> DeploymentEvent:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeployLedgerCorrupt(f"{label} is not valid JSON ({exc}); restore it from git "
                                  "history") from None
    if not isinstance(data, dict):
        raise DeployLedgerCorrupt(f"{label} is not a JSON object; restore it from git history")
    try:
        event = DeploymentEvent.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise DeployLedgerCorrupt(f"{label}: {where}: {first['msg']}; restore it from git "
                                  "history") from None
    if digest_of(data) != event.digest:
        raise DeployLedgerCorrupt(f"{label} was changed after it was written (its digest "
                                  "does not match); restore it from git history")
    return event


def fold(events: list[DeploymentEvent]) -> DeploymentState:
    """The state after ``events``, in order."""
    clock: date | None = None
    current = halt = None
    last_live: LiveRecord | None = None
    for event in events:
        if event.live is not None and event.live.bars:
            last_live = event.live
        if event.clock_after is not None:
            clock = event.clock_after if clock is None else max(clock, event.clock_after)
        if event.kind in ("deploy", "rollback"):
            current = event
        elif event.kind == "halt":
            halt = event
        elif event.kind == "resume":
            halt = None
    return DeploymentState(clock=clock, current=current, halt=halt,
                           last_live=last_live)
