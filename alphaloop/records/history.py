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

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.policy.search import OBJECTIVES
from alphaloop.records.stages import Hypothesis, Outcome, RiskReviewRecord, Stage
from alphaloop.records.trial import Trial, point_key

__all__ = ["CycleHistory", "TrialHistory", "read_history"]

_PER_PERIOD = math.sqrt(TRADING_DAYS_PER_YEAR)  # annual Sharpe -> daily


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
    """Fold ledger entries (oldest first) into what the next cycle needs.

    The search's trials are the parameter points measured on the walk-forward folds:
    each parameter branch and the ``main`` it started from. A merged code change makes
    them stale (the same parameters now run other code), so they start again after one.
    """
    history = CycleHistory()
    trials: dict[tuple[tuple[str, object], ...], Trial] = {}  # by point: the latest wins
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
                if hypothesis.kind == "parameters" and isinstance(values, dict):
                    trials.update(_measured(hypothesis, values, review,
                                            str(raw_impl.get("base_sha", ""))))
            elif raw_impl.get("head_sha"):
                history.risk.trial_shas.append(raw_impl["head_sha"])
        outcome = summary.get("outcome", Outcome.FAILED.value)
        if raw_hypothesis and raw_hypothesis.get("kind") == "patch" \
                and outcome == Outcome.MERGED.value:
            trials.clear()
        history.outcomes.append((summary.get("task_id"), outcome, reasons))
    history.trials = list(trials.values())
    return history


def _measured(hypothesis: Hypothesis, values: dict[str, Any], review: RiskReviewRecord,
              base_sha: str) -> dict[tuple[tuple[str, object], ...], Trial]:
    """The branch's point and its base's, each with its walk-forward reward."""
    base = {**values, **{e.name: e.old for e in hypothesis.edits}}
    out = {}
    for key, point, metrics in ((f"main:{base_sha}", base, review.main_metrics),
                                (hypothesis.key, values, review.branch_metrics)):
        walk = metrics.get("walk_forward")
        if walk is not None and math.isfinite(walk.reward):
            figures = {name: float(value) for name in OBJECTIVES
                       if isinstance(value := getattr(walk, name, None), int | float)
                       and math.isfinite(value)}
            out[point_key(point)] = Trial(key=key, values=point, reward=walk.reward,
                                          metrics=figures)
    return out
