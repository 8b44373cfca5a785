"""Pull requests and reviews as records every forge backend returns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from alphaloop.forge.hypothesis import parse_block
from alphaloop.forge.signing import review_payload

__all__ = [
    "PRState",
    "PullRequest",
    "Review",
    "ReviewCheck",
    "Verdict",
    "latest_by_reviewer",
    "reviews_bound_to",
]

PRState = Literal["open", "merged", "closed"]
Verdict = Literal["approve", "request_changes", "veto", "comment"]

_SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"


class PullRequest(BaseModel):
    """A proposal to merge ``head_branch`` into ``base_branch``.

    The body is Markdown for people; a Quant PR's body also carries the hypothesis as a
    structured block (see :mod:`alphaloop.forge.hypothesis`), read back by
    :attr:`hypothesis`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1)
    title: str = Field(min_length=1)
    body: str = ""
    head_branch: str = Field(min_length=1)
    base_branch: str = Field(min_length=1)
    author_role: str = Field(min_length=1)
    labels: tuple[str, ...] = ()
    state: PRState = "open"
    created_at: AwareDatetime
    updated_at: AwareDatetime
    merged_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    merge_sha: str | None = Field(default=None, pattern=_SHA)
    merged_head: str | None = Field(default=None, pattern=_SHA)
    closed_reason: str | None = None

    @model_validator(mode="after")
    def _state_is_consistent(self) -> PullRequest:
        if self.state == "merged" and not (self.merge_sha and self.merged_head and self.merged_at):
            raise ValueError("a merged pull request needs merge_sha, merged_head and merged_at")
        if self.state != "merged" and (self.merge_sha or self.merged_at):
            raise ValueError(f"a {self.state} pull request has no merge commit")
        if self.state == "closed" and self.closed_at is None:
            raise ValueError("a closed pull request needs closed_at")
        return self

    @property
    def hypothesis(self) -> dict[str, Any] | None:
        """The structured hypothesis block of the body, or None if it has none."""
        return parse_block(self.body)


class Review(BaseModel):
    """One reviewer's verdict on one exact commit of a pull request.

    A review is bound to ``commit_sha``: once the branch moves past that commit the review
    no longer counts (see :func:`reviews_bound_to`). ``human`` marks approvals given by a
    person (``alphaloop pr approve``; ``approved_by`` is the git identity that recorded
    it) rather than by one of the bot's roles. A role's review also carries the tree of
    ``commit_sha`` and ``signature``, the bot's HMAC over :meth:`payload`
    (see :mod:`alphaloop.forge.signing`); unsigned role reviews never count.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pr_number: int = Field(ge=1)
    id: int = Field(ge=1)
    reviewer: str = Field(min_length=1)
    human: bool = False
    commit_sha: str = Field(pattern=_SHA)
    verdict: Verdict
    severity: int = Field(default=0, ge=0, le=3)
    summary: str = ""
    findings: tuple[dict[str, Any], ...] = ()
    created_at: AwareDatetime
    tree_sha: str | None = Field(default=None, pattern=_SHA)
    signature: str | None = None
    key_id: str | None = None
    approved_by: str | None = None

    def is_bound_to(self, sha: str) -> bool:
        return self.commit_sha == sha

    def payload(self, tree_sha: str | None = None) -> bytes:
        """The canonical content the signature covers (for ``tree_sha``, default its own)."""
        return review_payload(
            reviewer=self.reviewer, verdict=self.verdict, severity=self.severity,
            pr_number=self.pr_number, commit_sha=self.commit_sha,
            tree_sha=tree_sha or self.tree_sha or "", summary=self.summary,
            findings=self.findings)


class ReviewCheck(BaseModel):
    """The reviews of a PR's head that count, and why others on that head do not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    head_sha: str
    valid: tuple[Review, ...] = ()
    ignored: tuple[str, ...] = Field(default=(), description="one line per ignored review")


def reviews_bound_to(reviews: Iterable[Review], sha: str) -> list[Review]:
    """The reviews made on commit ``sha``: the only ones that count for that commit."""
    return [review for review in reviews if review.is_bound_to(sha)]


def latest_by_reviewer(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's most recent review (a later verdict replaces an earlier one)."""
    latest: dict[str, Review] = {}
    for review in sorted(reviews, key=lambda r: (r.created_at, r.id)):
        latest[review.reviewer] = review
    return latest

