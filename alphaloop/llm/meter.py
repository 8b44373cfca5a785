"""Token and cost accounting per call, per role and per cycle, and the cycle's budget."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.llm.base import BudgetExceeded, Usage

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
    """

    def __init__(self, provider: str, model: str, max_cost_usd: float | None = None) -> None:
        self.provider = provider
        self.model = model
        self.max_cost_usd = max_cost_usd
        self.calls: list[CallRecord] = []

    @property
    def spent(self) -> float:
        return sum(c.cost_usd for c in self.calls)

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` when no budget is left for another call."""
        if self.max_cost_usd is not None and self.spent >= self.max_cost_usd:
            raise BudgetExceeded(self.spent, self.max_cost_usd)

    def add(self, call: CallRecord) -> None:
        self.calls.append(call)

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
