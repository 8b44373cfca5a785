"""Builders of ledger envelopes for the report tests, sealed by the real ledger."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from alphaloop.cycle.ledger import LedgerEntry
from alphaloop.records import (
    CycleSummary,
    Escalation,
    Hypothesis,
    Implementation,
    MergeRecord,
    Outcome,
    ParamEdit,
    PerformanceReview,
    PlanRecord,
    RiskReviewRecord,
    RunMetrics,
    TaskRef,
)

IN_SAMPLE = (date(2005, 1, 3), date(2022, 5, 23))
HOLDOUT = (date(2022, 5, 24), date(2024, 4, 26))
SHA_MAIN = "a" * 40
SHA_HEAD = "b" * 40


def metrics(label: str, *, sharpe: float, max_drawdown: float, annual_return: float = 0.09,
            turnover: float = 4.0) -> RunMetrics:
    start, end = HOLDOUT if label == "holdout" else IN_SAMPLE
    return RunMetrics(label=label, start=start, end=end, sharpe=sharpe,
                      annual_return=annual_return, annual_volatility=0.095,
                      max_drawdown=max_drawdown, calmar=annual_return / max_drawdown,
                      var_95=0.0091, turnover=turnover, reward=sharpe - 5 * max_drawdown,
                      n_days=4400 if label == "in_sample" else 504)


def cycle_envelope(number: int, *, task_id: str | None = "T-001", outcome: Outcome,
                   risk_summary: str = "no hard limit breached", verdict: str = "approve",
                   merged: bool = False, needs_human: bool = False,
                   reasons: Sequence[str] = (), escalations: Sequence[Escalation] = (),
                   main_is: tuple[float, float] = (0.97, 0.213),
                   branch_is: tuple[float, float] | None = (1.05, 0.142),
                   walk_forward: tuple[float, float] = (0.25, 0.5),  # rewards: main, branch
                   holdout: tuple[float, float] | None = (0.61, 0.74),
                   edits: Sequence[ParamEdit] = (), patch: str | None = None,
                   findings: Sequence[dict[str, Any]] = (),
                   attribution: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """A cycle's ledger envelope as JSON-able dict, built from the real record models."""
    cid = f"c{number:04d}"
    clock = date(2024, 4, 26)
    task = (TaskRef(id=task_id, title="Cut drawdown", priority="high",
                    goal="max_drawdown < 15%") if task_id else None)
    records: dict[str, Any] = {
        "plan": PlanRecord(cycle_id=cid, task=task, reason="most urgent open task",
                           escalations=list(escalations), base_branch="main",
                           base_sha=SHA_MAIN, clock=clock)}
    main_in = metrics("in_sample", sharpe=main_is[0], max_drawdown=main_is[1])
    if task is not None:
        records["quant_review"] = PerformanceReview(
            sha=SHA_MAIN, tree_hash="c" * 40, data_hash="d" * 16, metrics=main_in, folds=[],
            reward=main_in.reward, attribution=attribution or {},
            diagnosis=["drawdown above the trigger"],
            cached=False, duration_s=1.0)
        records["hypothesis"] = Hypothesis(
            key=f"k{number}", kind="patch" if patch else "parameters", slug=f"try-{number}",
            statement=f"Halve risky exposure faster in drawdowns (trial {number})",
            rationale="drawdown comes from slow de-risking", expected_effect="lower drawdown",
            edits=list(edits), patch=patch, patch_name="derisk.diff" if patch else None,
            task_id=task_id)
        records["implement"] = Implementation(
            branch=f"alphaloop/{cid}-try-{number}", base_sha=SHA_MAIN, head_sha=SHA_HEAD,
            pr_number=number, changed_files=["strategy/tunables.py"])
        main_m = {"in_sample": main_in}
        branch_m = {}
        if branch_is is not None:
            branch_m["in_sample"] = metrics("in_sample", sharpe=branch_is[0],
                                            max_drawdown=branch_is[1])
            main_m["walk_forward"] = metrics("walk_forward", sharpe=1.0 + walk_forward[0],
                                             max_drawdown=0.2)
            branch_m["walk_forward"] = metrics("walk_forward", sharpe=1.0 + walk_forward[1],
                                               max_drawdown=0.2)
        if holdout is not None:
            main_m["holdout"] = metrics("holdout", sharpe=holdout[0], max_drawdown=0.12)
            branch_m["holdout"] = metrics("holdout", sharpe=holdout[1], max_drawdown=0.10)
        records["risk_review"] = RiskReviewRecord(
            verdict=verdict, severity=0 if verdict == "approve" else 3, summary=risk_summary,
            findings=list(findings), head_sha=SHA_HEAD, branch_metrics=branch_m,
            main_metrics=main_m, deflated_sharpe=0.97, pbo=0.21, n_trials=number,
            holdout_reads=number)
        records["merge"] = MergeRecord(merged=merged, merge_sha="e" * 40 if merged else None,
                                       needs_human=needs_human, reasons=list(reasons))
    records["summary"] = CycleSummary(
        cycle_id=cid, outcome=outcome, task_id=task_id,
        hypothesis=records["hypothesis"].statement if "hypothesis" in records else None,
        pr_number=number if task_id else None, message="; ".join(reasons), timings={})
    plain = {k: v.model_dump(mode="json") for k, v in records.items()}
    created = datetime(2024, 4, 26, 12, 0, tzinfo=UTC).replace(day=min(number, 28))
    return LedgerEntry.create(cid, plain, created=created).model_dump(mode="json")


@pytest.fixture
def make_cycle() -> Callable[..., dict[str, Any]]:
    return cycle_envelope
