"""What a reviewing role looks like to the cycle.

Risk is the first reviewer; QA and Engineer plug in the same way: the cycle hands each
reviewer a :class:`ReviewRequest` for the branch head and posts what comes back as the
PR's review, bound to that commit. The merge gate then asks for the approvals that
``policies/merge.toml`` requires.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from alphaloop.data.panel import MarketData
from alphaloop.harness.windows import ResearchWindows
from alphaloop.records import Claim

__all__ = ["ReviewRequest", "ReviewResult", "Reviewer", "forge_verdict"]


class ReviewRequest(BaseModel):
    """One branch head to review against its base."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    base_sha: str
    head_sha: str
    worktree: Path
    data: MarketData
    windows: ResearchWindows
    ledger_entries: list[dict[str, Any]]
    claim: Claim | None = None
    """What the change claims to move (its hypothesis's claim); None: the reward, up."""


class ReviewResult(Protocol):
    """The fields every review record carries (Risk's adds metrics and more)."""

    verdict: Literal["approve", "veto"]
    severity: int
    summary: str
    findings: list[dict[str, Any]]


class Reviewer(Protocol):
    """A role that reviews a branch head; ``role`` names it in reviews and policies."""

    role: str

    def review_change(self, request: ReviewRequest) -> ReviewResult:
        ...


def forge_verdict(result: ReviewResult) -> Literal["approve", "request_changes", "veto"]:
    """The forge's verdict for a review: severity 3 vetoes, 2 requests changes."""
    if result.verdict == "approve":
        return "approve"
    return "veto" if result.severity >= 3 else "request_changes"
