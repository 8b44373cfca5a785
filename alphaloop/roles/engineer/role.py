"""The Engineer: a built-in reviewer of a change's code (a ``Reviewer``).

It reads the diff between the pull request's base and its head commit and runs, in
order: dependency files (always a human's decision), diff size, scope (the author's
paths), then over the changed Python files ruff's findings the change introduces (lint,
complexity C901, unused names), the lines it adds that ``ruff format`` would rewrite,
new public names without a docstring, and code after a jump. It approves, requests
changes (the change goes back to its author, with findings naming file and line), or
says a human must decide (see :mod:`.verdict`). Its limits are
``policies/engineering.toml``; it never runs the strategy and reads no market data. With
a model, its comments (:mod:`.comments`) are added as notes that never change the
decision.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.checks.tools import DEFAULT_TIMEOUT
from alphaloop.forge import Forge
from alphaloop.policy import Policies, describe_validation_error
from alphaloop.policy.errors import PolicyError
from alphaloop.records import EngineerFinding, EngineerReviewRecord
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles.base import ReviewRequest, RoleConfig, RoleModel, RoleServices
from alphaloop.roles.engineer.autofix import format_added_lines
from alphaloop.roles.engineer.change import Change, read_change
from alphaloop.roles.engineer.comments import model_comments
from alphaloop.roles.engineer.dependencies import dependency_changes
from alphaloop.roles.engineer.docstrings import undocumented_names
from alphaloop.roles.engineer.layout import unformatted_lines
from alphaloop.roles.engineer.lint import introduced_lint
from alphaloop.roles.engineer.size import diff_size, out_of_scope
from alphaloop.roles.engineer.trees import review_trees
from alphaloop.roles.engineer.unreachable import unreachable_code
from alphaloop.roles.engineer.verdict import review_record

__all__ = ["Engineer", "EngineerOptions"]


class EngineerOptions(BaseModel):
    """The Engineer's options in a role configuration (its limits are policy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    tool_timeout_s: float = Field(default=DEFAULT_TIMEOUT, gt=0,
                                  description="seconds each ruff run may take")


class Engineer:
    """Reviews one branch head's code against its base."""

    role = "engineer"
    record_type = EngineerReviewRecord

    def __init__(self, repo: GitRepo, forge: Forge, policies: Policies, *,
                 timeout: float = DEFAULT_TIMEOUT, identity: Identity | None = None,
                 model: RoleModel | None = None) -> None:
        self.repo = repo
        self.model = model
        self.forge = forge
        self.policies = policies
        self.timeout = timeout
        self.identity = identity

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        try:
            options = EngineerOptions.model_validate(config.model_dump())
        except ValidationError as exc:
            raise PolicyError(describe_validation_error("the engineer role's options",
                                                        exc)) from None
        return cls(services.repo, services.forge, services.policies,
                   timeout=options.tool_timeout_s, identity=services.identities.get("engineer"),
                   model=services.model)

    def review_change(self, request: ReviewRequest) -> EngineerReviewRecord:
        return self.review(request.base_sha, request.head_sha, pr_number=request.pr_number)

    def review(self, base_sha: str, head_sha: str, *,
               pr_number: int | None = None) -> EngineerReviewRecord:
        """Review ``base_sha..head_sha``; with ``pr_number``, files outside the pull
        request's author's paths are out of scope."""
        started = time.monotonic()
        change = read_change(self.repo, base_sha, head_sha)
        author = self.forge.get_pr(pr_number).author_role if pr_number is not None else None
        findings, checks = self._findings(change, author)
        if self.model is not None:
            findings += model_comments(self.model, self.repo, change, findings)
            checks.append("model")
        policy = self.policies.engineering
        return review_record(
            findings, head_sha=change.head, base_sha=change.base, author_role=author,
            changed_files=change.paths, lines_added=change.stat.insertions,
            lines_deleted=change.stat.deletions, checks_run=checks,
            limits={"max_complexity": policy.max_complexity,
                    "max_changed_lines": policy.max_changed_lines,
                    "max_changed_files": policy.max_changed_files},
            policy_digest=self.policies.digest, duration_s=time.monotonic() - started)

    def fix_formatting(self, worktree: Path, base_sha: str) -> str | None:
        """Format the lines the branch checked out in ``worktree`` added unformatted, as
        the Engineer's own commit (layout only; see :mod:`.autofix`). The new head, or
        None when there was nothing to format. The commit voids every earlier review."""
        if self.identity is None:
            raise PolicyError("the Engineer has no git identity (roles/engineer.toml "
                              "[identity]); it cannot commit a formatting fix")
        return format_added_lines(self.repo, worktree, base_sha, self.identity,
                                  timeout=self.timeout)

    def _findings(self, change: Change,
                  author: str | None) -> tuple[list[EngineerFinding], list[str]]:
        policy = self.policies.engineering
        findings = dependency_changes(self.repo, change, policy)
        findings += diff_size(change, self.policies)
        findings += out_of_scope(change, self.policies, author)
        checks = ["dependencies", "size"] + (["scope"] if author in self.policies.paths.roles
                                             else [])
        if not change.python_files:
            return findings, checks
        with review_trees(self.repo, change.base, change.head) as trees:
            findings += introduced_lint(change, trees, max_complexity=policy.max_complexity,
                                        timeout=self.timeout)
            findings += unformatted_lines(change, trees.head, timeout=self.timeout)
            findings += undocumented_names(change, trees, policy)
            findings += unreachable_code(change, trees)
        return findings, [*checks, "ruff", "format", "complexity", "docstrings", "dead_code"]
