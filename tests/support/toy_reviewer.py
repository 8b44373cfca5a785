"""A reviewer of our own, to show that one module and one line of policy add a role.

It vetoes a change that leaves a ``print(`` in the strategy's code, even commented out
(strategy code returns weights; it does not write to the console), and approves
anything else. The
cycle builds it from ``policies/merge.toml``::

    required_approvals = ["risk", "support.toy_reviewer:PrintReviewer"]
"""

from __future__ import annotations

from typing import Self

from alphaloop.records import ReviewRecord
from alphaloop.repo import GitRepo
from alphaloop.roles import ReviewRequest, RoleConfig, RoleServices


class PrintReviewer:
    role = "style"
    record_type = ReviewRecord

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        return cls(services.repo)

    def review_change(self, request: ReviewRequest) -> ReviewRecord:
        diff = self.repo.git("diff", "--unified=0", request.base_sha, request.head_sha,
                             "--", "strategy").text
        added = [line[1:].strip() for line in diff.splitlines()
                 if line.startswith("+") and not line.startswith("+++")]
        prints = [line for line in added if "print(" in line]
        if prints:
            return ReviewRecord(
                verdict="veto", severity=3, head_sha=request.head_sha,
                summary=f"{len(prints)} print left in the strategy's code",
                findings=[{"severity": 3, "message": f"console output: {line}"}
                          for line in prints])
        return ReviewRecord(verdict="approve", severity=0, head_sha=request.head_sha,
                            summary="no print call added", findings=[])


class BrokenReviewer(PrintReviewer):
    """A reviewer with a bug: it fails on every change (for the tests of a crash)."""

    role = "broken"

    def review_change(self, request: ReviewRequest) -> ReviewRecord:
        raise KeyError("no such finding")
