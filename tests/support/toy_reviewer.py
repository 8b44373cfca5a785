"""A reviewer of our own, to show that one module and one line of policy add a role.

It vetoes a change that leaves a ``TODO`` in the strategy's code, and approves anything
else. The cycle builds it from ``policies/merge.toml``::

    required_approvals = ["risk", "support.toy_reviewer:TodoReviewer"]
"""

from __future__ import annotations

from typing import Self

from alphaloop.records import ReviewRecord
from alphaloop.repo import GitRepo
from alphaloop.roles import ReviewRequest, RoleConfig, RoleServices


class TodoReviewer:
    role = "todo"
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
        todos = [line for line in added if "TODO" in line]
        if todos:
            return ReviewRecord(
                verdict="veto", severity=3, head_sha=request.head_sha,
                summary=f"{len(todos)} TODO left in the change",
                findings=[{"severity": 3, "message": f"unfinished: {line}"}
                          for line in todos])
        return ReviewRecord(verdict="approve", severity=0, head_sha=request.head_sha,
                            summary="no TODO left", findings=[])
