"""A model's second opinion in the Risk review: findings the deterministic gates cannot
see (look-ahead or data snooping in the code, hidden leverage, an effect the metrics do
not support).

The model is asked with Risk's charter ``review`` prompt after every gate and backtest
has run; the hypothesis and the diff reach it as quoted data. What it returns is only
added: a finding of severity 2 or 3 vetoes the change like any other, and nothing it
says can remove or soften a deterministic finding, so it can add a veto reason but never
lift a veto.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.checks.findings import Finding, Severity
from alphaloop.policy import Policies
from alphaloop.records import Hypothesis, RiskReviewRecord
from alphaloop.repo import GitRepo
from alphaloop.roles.base import RoleModel

__all__ = ["MODEL_CHECK", "ModelFinding", "RiskOpinion", "model_findings"]

#: The ``check`` of every finding the model adds.
MODEL_CHECK = "risk.model"
_DIFF_CHARS = 20_000


class ModelFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: int = Field(ge=0, le=3, description="0 pass, 1 warn, 2 restrict, 3 block")
    message: str = Field(min_length=1, max_length=1000,
                         description="the risk, its evidence, and what would resolve it")
    path: str | None = Field(default=None, description="repository-relative file, if any")
    line: int | None = Field(default=None, ge=1)


class RiskOpinion(BaseModel):
    """The findings the model adds (an empty list when it has none)."""

    model_config = ConfigDict(extra="forbid")

    findings: list[ModelFinding] = Field(default_factory=list, max_length=10)


def model_findings(model: RoleModel, *, repo: GitRepo, base_sha: str, head_sha: str,
                   hypothesis: Hypothesis | None, findings: list[Finding],
                   record: RiskReviewRecord, policies: Policies) -> list[Finding]:
    """The findings the model adds to a review that has run its gates and backtests."""
    diff = repo.git("diff", f"{base_sha}..{head_sha}").text
    if len(diff) > _DIFF_CHARS:
        diff = diff[:_DIFF_CHARS] + f"\n[... {len(diff) - _DIFF_CHARS} more characters]"
    metrics = {"main": record.main_metrics, "branch": record.branch_metrics,
               "stress": record.stress, "deflated_sharpe": record.deflated_sharpe,
               "pbo": record.pbo}
    answer = model.ask(
        "risk", "review", RiskOpinion,
        hypothesis=(f"{hypothesis.statement}\n\nRationale: {hypothesis.rationale}\n\n"
                    f"Expected effect: {hypothesis.expected_effect}"
                    if hypothesis is not None else "none stated"),
        diff=diff or "(no change)",
        findings=json.dumps([f.model_dump(mode="json") for f in findings], indent=1),
        metrics=json.dumps(_plain(metrics), indent=1)[:12_000],
        limits=json.dumps(policies.risk.model_dump(mode="json"), indent=1)[:6_000])
    return [Finding(check=MODEL_CHECK, severity=Severity(f.severity),
                    message=f"{f.message} (second opinion of {model.name})", path=f.path,
                    line=f.line, evidence={"source": "model"})
            for f in answer.findings]


def _plain(value: object) -> object:
    """``value`` with its pydantic models dumped to JSON-able dicts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
