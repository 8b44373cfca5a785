"""Token and cost accounting per call, per role and per cycle, and the cycle's budget."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.llm.base import BudgetExceeded, LLMError, Usage

__all__ = ["CallRecord", "LLMUsage", "RoleUsage", "UsageMeter"]


class CallRecord(BaseModel):
    """One call to the model: who asked, for what, what it cost and how it ended."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    schema_name: str
    provider: str
    model: str
    key: str
    """The request's cache key."""
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0)
    outcome: str
    """``answered``, ``repair`` (the answer did not validate and was sent back),
    ``refused``, ``truncated``."""


class RoleUsage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class LLMUsage(BaseModel):
    """A cycle's LLM accounting, as the ledger stores it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    max_cost_usd: float | None
    total: RoleUsage
    by_role: dict[str, RoleUsage]
    calls: list[CallRecord]


class UsageMeter:
    """Adds up every call; refuses a call once ``max_cost_usd`` is spent.

    Recorded answers replayed from the cache count at what they cost when recorded, so
    a replayed cycle's accounting (and where its budget stops it) is the original's.
    With a ``journal`` (a JSON-lines file in the cycle's run folder), each call is also
    appended there and a meter opened on it again starts from those calls: a resumed
    cycle's budget and accounting count the calls of its interrupted run. Nothing is
    written while the journal's folder does not exist.
    """

    def __init__(self, provider: str, model: str, max_cost_usd: float | None = None, *,
                 journal: Path | None = None) -> None:
        self.provider = provider
        self.model = model
        self.max_cost_usd = max_cost_usd
        self.journal = journal
        self.calls: list[CallRecord] = self._read(journal) if journal is not None else []

    @staticmethod
    def _read(journal: Path) -> list[CallRecord]:
        calls = []
        try:
            lines = journal.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LLMError(f"cannot read the cycle's model calls in {journal}: {exc}; "
                           "restore its permissions, or delete it to count from zero") from None
        for number, line in enumerate(lines, 1):
            try:
                calls.append(CallRecord.model_validate_json(line))
            except ValueError:
                raise LLMError(f"{journal} line {number} is not a model call record; delete "
                               "the line (its call is then not counted) and run again") from None
        return calls

    @property
    def spent(self) -> float:
        return sum(c.cost_usd for c in self.calls)

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` when no budget is left for another call."""
        if self.max_cost_usd is not None and self.spent >= self.max_cost_usd:
            raise BudgetExceeded(self.spent, self.max_cost_usd)

    def add(self, call: CallRecord) -> None:
        self.calls.append(call)
        if self.journal is not None and self.journal.parent.is_dir():
            with self.journal.open("a", encoding="utf-8") as out:
                out.write(call.model_dump_json() + "\n")

    def usage(self, role: str | None = None) -> Usage:
        """The sum of the calls (of ``role``, or all)."""
        calls = [c for c in self.calls if role is None or c.role == role]
        return Usage(provider=self.provider, model=self.model,
                     input_tokens=sum(c.input_tokens for c in calls),
                     output_tokens=sum(c.output_tokens for c in calls),
                     cost_usd=sum(c.cost_usd for c in calls))

    def summary(self) -> LLMUsage:
        by_role: dict[str, list[CallRecord]] = defaultdict(list)
        for call in self.calls:
            by_role[call.role].append(call)
        return LLMUsage(provider=self.provider, model=self.model,
                        max_cost_usd=self.max_cost_usd, total=_sum(self.calls),
                        by_role={role: _sum(calls) for role, calls in by_role.items()},
                        calls=list(self.calls))


def _sum(calls: list[CallRecord]) -> RoleUsage:
    return RoleUsage(calls=len(calls), input_tokens=sum(c.input_tokens for c in calls),
                     output_tokens=sum(c.output_tokens for c in calls),
                     cost_usd=round(sum(c.cost_usd for c in calls), 8))
