"""The records of deployments: what ran live, how the canary judged it, what was done.

The SRE deploys a merged commit as a paper-trading service on the bars after the clock
(:class:`LiveRecord`), grades it against what the backtest promised
(:class:`CanaryVerdict`), and rolls it back when it fails. Every deploy, rollback, halt and
resume is one :class:`DeploymentEvent` of the deployment ledger (``deploy/history/`` on
the base branch, hash-chained like the cycle ledger); a cycle's deploy stage stores a
:class:`DeployRecord`. Field names are part of the ledger format: add fields, never
rename them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from alphaloop.records.metrics import RunMetrics

__all__ = [
    "DEPLOY_FORMAT",
    "CanaryCheck",
    "CanaryVerdict",
    "DeployRecord",
    "DeploymentEvent",
    "EventKind",
    "Grade",
    "LiveRecord",
    "event_id",
]

DEPLOY_FORMAT = "alphaloop-deploy/1"

#: How the canary grades a deployment; "pending" when no bar after the clock exists yet.
Grade = Literal["successful", "failed", "inconclusive", "pending"]
EventKind = Literal["deploy", "rollback", "halt", "resume"]

_EVENT_ID = re.compile(r"^d\d{4,}$")


def event_id(number: int) -> str:
    """The id of deployment event ``number``: 1 -> ``d0001``."""
    if number < 1:
        raise ValueError(f"event numbers start at 1, not {number}")
    return f"d{number:04d}"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CanaryCheck(_Record):
    """One comparison of the live record with a bound."""

    name: str
    status: Literal["pass", "fail", "inconclusive"]
    message: str
    value: float | None = None
    bound: float | None = None


class CanaryVerdict(_Record):
    grade: Grade
    checks: list[CanaryCheck] = Field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        """The messages of the checks that did not pass."""
        return [c.message for c in self.checks if c.status != "pass"]


class LiveRecord(_Record):
    """What the paper-trading service did over its live window."""

    start: date | None = Field(default=None, description="first live bar")
    end: date | None = Field(default=None, description="last live bar")
    bars: int = 0
    decisions: int = 0
    metrics: RunMetrics | None = None
    attribution: dict[str, float] = Field(
        default_factory=dict, description="contribution to return by asset class")
    heartbeat_max_gap_s: float | None = Field(
        default=None, description="longest wait between two answers of the service")
    errors: list[str] = Field(default_factory=list)
    tracking_error: float | None = Field(
        default=None, description="annualised, against the backtest of the same commit "
                                  "over the same bars")
    backtest_max_drawdown: float | None = Field(
        default=None, description="what the backtest promised: the worst drawdown of the "
                                  "commit over the held-out window")
    backend: str = Field(description="where the service ran: docker or the process sandbox")
    isolation: str = ""


class DeploymentEvent(_Record):
    """One entry of the deployment ledger, sealed by its digest."""

    format: Literal["alphaloop-deploy/1"] = DEPLOY_FORMAT
    id: str
    kind: EventKind
    created: AwareDatetime
    decided_by: str = Field(description="'sre', or the person who ran the command")
    reason: str = ""
    commit: str | None = Field(default=None, description="the commit now deployed")
    image: str | None = None
    backend: str | None = None
    cycle_id: str | None = None
    clock_before: date | None = None
    clock_after: date | None = None
    live: LiveRecord | None = None
    canary: CanaryVerdict | None = None
    reverted: list[str] = Field(default_factory=list,
                                description="merge commits undone on the base branch")
    revert_commit: str | None = None
    previous: str | None = None
    digest: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _EVENT_ID.match(value):
            raise ValueError(f"{value!r} is not a deployment event id (d0001, d0002, ...)")
        return value


class DeployRecord(_Record):
    """The deploy stage of a cycle: the SRE's events and where they left the service."""

    deployed: bool
    commit: str | None = None
    events: list[str] = Field(default_factory=list, description="deployment event ids")
    grade: Grade | None = None
    rolled_back: bool = False
    halted: bool = False
    clock_before: date | None = None
    clock_after: date | None = None
    live: LiveRecord | None = None
    canary: CanaryVerdict | None = None
    message: str = ""
    finished: datetime | None = None
