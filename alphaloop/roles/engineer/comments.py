"""A model's review comments on a change's code, asked with the Engineer's charter
``review`` prompt after every deterministic check has run.

Comments are notes (severity 1, rule ``model-comment``): they appear in the review with
their file and line, and never change its decision, which stays the checks' own. The
diff reaches the model as quoted data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.checks import Severity
from alphaloop.records import EngineerFinding
from alphaloop.repo import GitRepo
from alphaloop.roles.base import RoleModel
from alphaloop.roles.engineer.change import Change

__all__ = ["CodeComments", "ReviewComment", "model_comments"]

_DIFF_CHARS = 20_000


class ReviewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=800,
                         description="what is wrong and what to do instead")
    path: str | None = Field(default=None, description="repository-relative file")
    line: int | None = Field(default=None, ge=1)


class CodeComments(BaseModel):
    """The model's comments on the change (an empty list when it has none)."""

    model_config = ConfigDict(extra="forbid")

    comments: list[ReviewComment] = Field(default_factory=list, max_length=10)


def model_comments(model: RoleModel, repo: GitRepo, change: Change,
                   findings: Sequence[EngineerFinding]) -> list[EngineerFinding]:
    """The model's comments on ``change``, as notes of the Engineer's review."""
    diff = repo.git("diff", f"{change.base}..{change.head}").text
    if len(diff) > _DIFF_CHARS:
        diff = diff[:_DIFF_CHARS] + f"\n[... {len(diff) - _DIFF_CHARS} more characters]"
    complexity = [f.markdown() for f in findings if f.rule == "C901"]
    answer = model.ask(
        "engineer", "review", CodeComments, diff=diff or "(no change)",
        lint_findings=json.dumps([f.markdown() for f in findings if f.rule != "C901"],
                                 indent=1),
        complexity="\n".join(complexity) or "no function over the limit",
        diff_stats=(f"{len(change.paths)} files, +{change.stat.insertions} "
                    f"-{change.stat.deletions} lines"))
    return [EngineerFinding(check="engineer.model", rule="model-comment",
                            severity=Severity.WARN, message=c.comment, path=c.path,
                            line=c.line, evidence={"source": model.name})
            for c in answer.comments]
