"""GitHub's pull requests and reviews read as the forge's records.

A pull request on GitHub has no "author role": the bot writes it into the body as a
hidden line (``<!-- alphaloop:author-role quant -->``), trusted only on a pull request
the bot's own login opened; any other pull request is a person's (``human``). A review
is either the bot's (its body carries an ``alphaloop-review`` block, see
:mod:`alphaloop.forge.review_block`) or a person's ``APPROVED``/``CHANGES_REQUESTED``
review; comments and dismissed reviews are no verdict.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from github.PullRequest import PullRequest as GitHubPull
from github.PullRequestReview import PullRequestReview
from pydantic import BaseModel, ConfigDict

from alphaloop.forge.errors import ForgeCorrupt
from alphaloop.forge.records import PullRequest, Review, Verdict
from alphaloop.forge.review_block import parse_review_block

__all__ = ["CLOSED_REASON_MARK", "PostedReview", "author_mark", "fork_branch", "posted_review",
           "pull_record", "review_record", "strip_marks"]

CLOSED_REASON_MARK = "<!-- alphaloop:closed-reason -->"
_AUTHOR = re.compile(r"\n*<!-- alphaloop:author-role ([a-z0-9_-]+) -->\s*$")
_HUMAN_VERDICTS: dict[str, Verdict] = {"APPROVED": "approve",
                                       "CHANGES_REQUESTED": "request_changes"}


def author_mark(role: str) -> str:
    """The hidden line that names the role which opened a pull request."""
    return f"\n\n<!-- alphaloop:author-role {role} -->\n"


def strip_marks(body: str) -> str:
    return _AUTHOR.sub("", body or "").rstrip("\n") + ("\n" if body else "")


def fork_branch(number: int) -> str:
    """The local branch holding a fork's pull request (its own name may clash here)."""
    return f"alphaloop/pr-{number}"


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pull_record(pull: GitHubPull, *, repository: str, bot_login: str,
                closed_reason: str | None = None) -> PullRequest:
    """``pull`` as a :class:`PullRequest` (the local branch name of its head, its state)."""
    body = pull.body or ""
    mark = _AUTHOR.search(body)
    by_bot = pull.user is not None and pull.user.login == bot_login
    role = mark.group(1) if (mark and by_bot) else "human"
    head_repo = pull.head.repo.full_name if pull.head.repo is not None else None
    head_branch = pull.head.ref if head_repo == repository else fork_branch(pull.number)
    created = _aware(pull.created_at) or datetime.now(UTC)
    fields: dict[str, Any] = dict(
        number=pull.number, title=pull.title or f"#{pull.number}", body=strip_marks(body),
        head_branch=head_branch, base_branch=pull.base.ref, author_role=role,
        labels=tuple(label.name for label in pull.labels),
        created_at=created, updated_at=_aware(pull.updated_at) or created)
    if pull.merged:
        fields.update(state="merged", merge_sha=pull.merge_commit_sha,
                      merged_head=pull.head.sha, merged_at=_aware(pull.merged_at) or created)
    elif pull.state == "closed":
        fields.update(state="closed", closed_at=_aware(pull.closed_at) or created,
                      closed_reason=closed_reason)
    return PullRequest.model_validate(fields)


def review_record(review: PullRequestReview, number: int) -> Review | None:
    """The forge's record of one GitHub review; None for a comment or dismissed review.

    Raises :class:`ForgeCorrupt` for a bot-style block that is not a valid review.
    """
    if review.state == "DISMISSED":
        return None
    login = review.user.login if review.user is not None else "ghost"
    record = parse_review_block(review.body or "", review_id=review.id)
    if record is not None:
        if record.commit_sha != review.commit_id or record.pr_number != number:
            raise ForgeCorrupt(f"review {review.id} by {login} carries a record of "
                               f"#{record.pr_number} at {record.commit_sha[:10]} but is "
                               f"attached to #{number} at {(review.commit_id or '?')[:10]}")
        return record
    verdict = _HUMAN_VERDICTS.get(review.state)
    if verdict is None or not review.commit_id:
        return None
    submitted = _aware(review.submitted_at) or datetime.now(UTC)
    return Review(pr_number=number, id=review.id, reviewer=login, human=True,
                  commit_sha=review.commit_id, verdict=verdict,
                  summary=(review.body or "")[:2000], created_at=submitted,
                  approved_by=login)


class PostedReview(BaseModel):
    """A review exactly as GitHub holds it: who posted it, the commit GitHub binds it to,
    its state and its text (what the audit compares with what the bot signed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    login: str
    state: str
    commit_id: str | None
    body: str


def posted_review(review: PullRequestReview) -> PostedReview:
    return PostedReview(id=review.id, login=review.user.login if review.user else "ghost",
                        state=review.state or "", commit_id=review.commit_id,
                        body=review.body or "")
