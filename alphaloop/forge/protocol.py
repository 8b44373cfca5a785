"""What every forge backend offers: pull requests, reviews and merges.

The embedded backend is :class:`~alphaloop.forge.LocalForge` (records kept in git
itself); a GitHub backend implements the same protocol through the GitHub API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from alphaloop.forge.records import PRState, PullRequest, Review, ReviewCheck, Verdict
from alphaloop.repo import Identity

__all__ = ["Forge"]


@runtime_checkable
class Forge(Protocol):
    """Pull requests and reviews for one repository."""

    def open_pr(self, *, title: str, body: str, head_branch: str, base_branch: str,
                author_role: str, labels: Sequence[str] = ()) -> PullRequest:
        """Open a PR; if ``head_branch`` already has an open PR, return that one."""
        ...

    def get_pr(self, number: int) -> PullRequest:
        """The PR with this number; ``PullRequestNotFound`` if there is none."""
        ...

    def list_prs(self, *, state: PRState | None = None) -> list[PullRequest]:
        """All PRs (or those in ``state``), by number."""
        ...

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None,
                  labels: Sequence[str] | None = None, state: PRState | None = None,
                  closed_reason: str | None = None) -> PullRequest:
        """Change a PR's title, body, labels, or close/reopen it (merge with :meth:`merge`)."""
        ...

    def add_review(self, number: int, *, reviewer: str, commit_sha: str, verdict: Verdict,
                   severity: int = 0, summary: str = "",
                   findings: Sequence[Mapping[str, Any]] = (), human: bool = False,
                   approved_by: str | None = None) -> Review:
        """Record a review bound to ``commit_sha``; a role's review is signed by the bot."""
        ...

    def reviews(self, number: int) -> list[Review]:
        """Every review of the PR, oldest first, whatever commit it is bound to."""
        ...

    def head_sha(self, pr: PullRequest | int) -> str:
        """The commit the PR proposes now (for a merged PR: the commit that was merged)."""
        ...

    def valid_reviews(self, pr: PullRequest | int) -> list[Review]:
        """The reviews that count for the PR's current head: approvals void when the branch
        moves, a role's review only if the bot signed it for that commit and tree."""
        ...

    def review_check(self, pr: PullRequest | int) -> ReviewCheck:
        """:meth:`valid_reviews` and one line for each review of the head that is ignored."""
        ...

    def merge(self, number: int, *, message: str, identity: Identity,
              expected_head: str | None = None, reviewed_tree: str | None = None,
              author: Identity | None = None) -> str:
        """Squash-merge the PR into its base and mark it merged; return the merge commit.

        Idempotent: merging a merged PR returns its merge commit. With ``expected_head``
        the merge happens only if the branch still points there (``HeadMoved``). What
        lands is checked against the reviewed tree before the base moves
        (``TreeMismatch``).
        """
        ...

    def revert(self, merge_sha: str, *, base_branch: str, message: str,
               identity: Identity) -> str:
        """Undo ``merge_sha`` on ``base_branch`` through a pull request labelled
        ``rollback``, merged at once; return the commit that lands on the base branch.

        Idempotent: a revert that already landed (its ``AlphaLoop-Reverts`` trailer names
        ``merge_sha``) is returned, not made twice.
        """
        ...
