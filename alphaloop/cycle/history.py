"""What earlier cycles tell the current one, read from the ledger's records.

The ledger is the memory of which hypotheses were tried and what they gave: the Quant's
search learns from the trials, never repeats a key, and Risk deflates Sharpe ratios by
the number of trials and counts the reads of the held-out window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.cycle.records import Hypothesis, Outcome, RiskReviewRecord, Stage
from alphaloop.roles.quant.search import Trial

__all__ = ["CycleHistory", "TrialHistory", "read_history"]

_PER_PERIOD = math.sqrt(252.0)


class TrialHistory(BaseModel):
    """What the ledger says about earlier trials (for the overfitting guards)."""

    model_config = ConfigDict(extra="forbid")

    trial_shas: list[str] = Field(default_factory=list,
                                  description="head commits of earlier evaluated branches")
    trial_sharpes: list[float] = Field(default_factory=list,
                                       description="their per-period in-sample Sharpe ratios")
    holdout_reads: int = 0


class CycleHistory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cycles: int = 0
    tried: set[str] = Field(default_factory=set)
    trials: list[Trial] = Field(default_factory=list)
    risk: TrialHistory = Field(default_factory=TrialHistory)
    outcomes: list[tuple[str | None, str, list[str]]] = Field(
        default_factory=list, description="(task id, outcome, veto reasons) per cycle")
    clock: str | None = None


def read_history(entries: Iterable[Mapping[str, Any]]) -> CycleHistory:
    """Fold ledger entries (oldest first) into what the next cycle needs."""
    history = CycleHistory()
    for entry in entries:
        records = entry.get("records", {})
        history.cycles += 1
        plan = records.get(Stage.PLAN.value) or {}
        if plan.get("clock"):
            history.clock = str(plan["clock"])
        summary = records.get("summary") or {}
        raw_hypothesis = records.get(Stage.HYPOTHESIS.value)
        raw_review = records.get(Stage.RISK_REVIEW.value)
        raw_impl = records.get(Stage.IMPLEMENT.value) or {}
        reasons: list[str] = []
        if raw_hypothesis:
            hypothesis = Hypothesis.model_validate(raw_hypothesis)
            history.tried.add(hypothesis.key)
            values = hypothesis.search.get("values")
            if raw_review:
                review = RiskReviewRecord.model_validate(raw_review)
                reasons = [f["message"] for f in review.findings if f.get("severity", 0) >= 2]
                if review.main_metrics.get("holdout") is not None:
                    history.risk.holdout_reads = max(history.risk.holdout_reads,
                                                     review.holdout_reads)
                in_sample = review.branch_metrics.get("in_sample")
                if in_sample is not None:
                    history.risk.trial_sharpes.append(in_sample.sharpe / _PER_PERIOD)
                    history.risk.trial_shas.append(review.head_sha)
                walk = review.branch_metrics.get("walk_forward")
                if isinstance(values, dict) and walk is not None and math.isfinite(walk.reward):
                    history.trials.append(Trial(key=hypothesis.key, values=values,
                                                reward=walk.reward))
            elif raw_impl.get("head_sha"):
                history.risk.trial_shas.append(raw_impl["head_sha"])
        outcome = summary.get("outcome", Outcome.FAILED.value)
        history.outcomes.append((summary.get("task_id"), outcome, reasons))
    return history
