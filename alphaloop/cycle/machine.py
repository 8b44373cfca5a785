"""``alphaloop cycle``: the stage machine of one hypothesis -> analysis cycle.

Stages run in :data:`~alphaloop.records.STAGE_ORDER`. Each stage's record is
written to the run store (``.git/alphaloop/runs/cNNNN/``) the moment it exists, so
``--resume`` continues a killed cycle after its last finished stage without repeating
work: branches, commits, PRs and reviews are all found again rather than made twice. The
last stage commits the ledger entry, ``walkthrough.md``, ``task.md`` and the plots to
the base branch as the PM, advancing it the way ``git merge --ff-only`` would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from alphaloop.cycle.context import CycleContext
from alphaloop.cycle.gate import evaluate_gate
from alphaloop.cycle.ledger import CYCLE_TRAILER
from alphaloop.records import (
    STAGE_MODELS,
    STAGE_ORDER,
    CycleSummary,
    Hypothesis,
    Implementation,
    MergeRecord,
    Outcome,
    PerformanceReview,
    PlanRecord,
    ReportRecord,
    RiskReviewRecord,
    Stage,
)
from alphaloop.roles.base import ReviewRequest, forge_verdict
from alphaloop.roles.quant.implement import implement
from alphaloop.roles.quant.review import review_main
from alphaloop.roles.risk.review import RiskOfficer

__all__ = ["CycleRunner", "StageEvent"]

StageEvent = Callable[[str, str], None]


class CycleRunner:
    """Runs (or resumes) one cycle in a prepared :class:`CycleContext`."""

    def __init__(self, ctx: CycleContext, *, on_stage: StageEvent | None = None) -> None:
        self.ctx = ctx
        self.on_stage = on_stage or (lambda stage, note: None)
        self.records: dict[Stage, Any] = {}
        self.timings: dict[str, float] = {}
        self.outcome: Outcome | None = None
        self.message = ""

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> CycleSummary:
        store = self.ctx.run_store
        for stage in STAGE_ORDER:
            raw = store.load(stage.value)
            if raw is not None:
                self.records[stage] = STAGE_MODELS[stage.value].model_validate(raw)
                self.timings.update(store.load("timings") or {})
                self._derive_outcome(stage)
                continue
            if self.outcome is not None and stage != Stage.REPORT:
                continue
            self.on_stage(stage.value, "")
            started = time.monotonic()
            record = getattr(self, f"_{stage.value}")()
            self.timings[stage.value] = round(time.monotonic() - started, 3)
            if record is None:
                continue
            self.records[stage] = record
            store.save(stage.value, record.model_dump(mode="json"))
            store.save("timings", self.timings)
            self._derive_outcome(stage)
        return self._summary()

    def _derive_outcome(self, stage: Stage) -> None:
        record = self.records.get(stage)
        if stage == Stage.PLAN and record.task is None:
            self.outcome, self.message = Outcome.IDLE, record.reason
        elif stage == Stage.HYPOTHESIS and record is None:
            self.outcome = Outcome.NO_HYPOTHESIS
        elif stage == Stage.MERGE:
            if record.merged:
                self.outcome = Outcome.MERGED
                self.message = f"merged as {record.merge_sha[:10]}"
            elif record.needs_human and not self._vetoed():
                self.outcome = Outcome.AWAITING_HUMAN
                self.message = "waiting for a human: " + "; ".join(record.reasons)
            elif self._vetoed():
                self.outcome = Outcome.VETOED
                self.message = "; ".join(record.reasons)
            else:  # Risk approved and no human is needed, yet the gate refused
                self.outcome = Outcome.NOT_MERGEABLE
                self.message = "not mergeable: " + "; ".join(record.reasons)

    def _vetoed(self) -> bool:
        review = self.records.get(Stage.RISK_REVIEW)
        return review is not None and review.verdict != "approve"

    def _summary(self) -> CycleSummary:
        plan: PlanRecord | None = self.records.get(Stage.PLAN)
        hypothesis: Hypothesis | None = self.records.get(Stage.HYPOTHESIS)
        impl: Implementation | None = self.records.get(Stage.IMPLEMENT)
        return CycleSummary(
            cycle_id=self.ctx.cycle_id, outcome=self.outcome or Outcome.FAILED,
            task_id=plan.task.id if plan and plan.task else None,
            hypothesis=hypothesis.headline if hypothesis else None,
            pr_number=impl.pr_number if impl else None, message=self.message,
            timings=dict(self.timings))

    # -- stages -----------------------------------------------------------------------
    def _plan(self) -> PlanRecord:
        ctx = self.ctx
        record, task_text = ctx.pm.plan(
            ctx.task_text, ctx.ledger_entries, ctx.forge.list_prs(state="open"),
            cycle_id=ctx.cycle_id, base_branch=ctx.base_branch, base_sha=ctx.base_sha,
            clock=ctx.clock, deadlock_vetoes=ctx.policies.risk.process.deadlock_vetoes)
        ctx.run_store.save_text("task.md", task_text)
        return record

    def _quant_review(self) -> PerformanceReview:
        ctx = self.ctx
        hard = ctx.policies.risk.hard_limits
        return review_main(ctx.evaluator, ctx.base_sha, ctx.quant_data, ctx.windows,
                           target_volatility=ctx.policies.risk.soft_limits.target_volatility,
                           drawdown_trigger=hard.max_drawdown_trigger)

    def _hypothesis(self) -> Hypothesis | None:
        plan: PlanRecord = self.records[Stage.PLAN]
        hypothesis = self.ctx.propose_hypothesis(self.records[Stage.QUANT_REVIEW], plan.task)
        if hypothesis is None:
            self.outcome = Outcome.NO_HYPOTHESIS
            self.message = "every move near main has been tried; widen the search"
        return hypothesis

    def _implement(self) -> Implementation:
        ctx = self.ctx
        return implement(ctx.repo, ctx.forge, self.records[Stage.HYPOTHESIS],
                         cycle_id=ctx.cycle_id, base_branch=ctx.base_branch,
                         base_sha=ctx.base_sha, identity=ctx.identities["quant"])

    def _risk_review(self) -> RiskReviewRecord:
        ctx = self.ctx
        impl: Implementation = self.records[Stage.IMPLEMENT]
        reviewer = RiskOfficer(ctx.policies, ctx.evaluator)
        record = reviewer.review_change(ReviewRequest(
            base_sha=ctx.base_sha, head_sha=impl.head_sha,
            worktree=ctx.repo.worktree_path(impl.branch), data=ctx.data,
            windows=ctx.windows, ledger_entries=ctx.ledger_entries,
            claim=self.records[Stage.HYPOTHESIS].claim))
        existing = [r for r in ctx.forge.valid_reviews(impl.pr_number)  # signed by the bot
                    if r.reviewer == reviewer.role and r.commit_sha == impl.head_sha]
        if not existing:
            ctx.forge.add_review(
                impl.pr_number, reviewer=reviewer.role, commit_sha=impl.head_sha,
                verdict=forge_verdict(record), severity=record.severity,
                summary=record.summary, findings=record.findings)
        return record

    def _merge(self) -> MergeRecord:
        ctx = self.ctx
        impl: Implementation = self.records[Stage.IMPLEMENT]
        pr = ctx.forge.get_pr(impl.pr_number)
        if pr.state == "merged":  # merged before a crash: finish what the merge left
            ctx.repo.remove_worktree(impl.branch)
            return MergeRecord(merged=True, merge_sha=pr.merge_sha)
        decision = evaluate_gate(ctx.repo, ctx.forge, pr, ctx.policies)
        if decision.allowed:
            hypothesis: Hypothesis = self.records[Stage.HYPOTHESIS]
            review: RiskReviewRecord = self.records[Stage.RISK_REVIEW]
            message = (f"{hypothesis.headline} (#{pr.number})\n\n{hypothesis.description}\n\n"
                       f"Risk: {review.summary}\n\nAlphaLoop-Cycle: {ctx.cycle_id}\n"
                       f"AlphaLoop-PR: {pr.number}\nAlphaLoop-Head: {impl.head_sha}\n")
            sha = ctx.forge.merge(pr.number, message=message,
                                  identity=ctx.identities["engineer"],
                                  expected_head=impl.head_sha,
                                  reviewed_tree=ctx.repo.tree_hash(impl.head_sha, ""))
            ctx.repo.remove_worktree(impl.branch)
            return MergeRecord(merged=True, merge_sha=sha)
        if self._vetoed():
            ctx.forge.update_pr(pr.number, state="closed", labels=_plus(pr.labels, "vetoed"),
                                closed_reason="vetoed by Risk: " + self.records[
                                    Stage.RISK_REVIEW].summary)
            ctx.repo.remove_worktree(impl.branch)
        elif decision.needs_human:
            ctx.forge.update_pr(pr.number, labels=_plus(pr.labels, "needs-human"))
        return MergeRecord(merged=False, needs_human=decision.needs_human,
                           reasons=decision.reasons)

    def _report(self) -> ReportRecord:
        ctx = self.ctx
        plan: PlanRecord = self.records[Stage.PLAN]
        landed = ctx.landed_report(since=plan.base_sha)
        if landed is not None:  # committed before a crash: record it, never commit twice
            ctx.journal_report(landed)
            return ReportRecord(commit=landed, walkthrough="walkthrough.md",
                                plots=sorted(p for p in ctx.repo.git(
                                    "diff-tree", "--no-commit-id", "--name-only", "-r",
                                    landed).lines() if p.endswith(".png")))
        summary = self._summary()
        records = {stage.value: rec.model_dump(mode="json")
                   for stage, rec in self.records.items() if rec is not None}
        records["summary"] = summary.model_dump(mode="json")
        created = datetime.now(UTC)
        files = ctx.pm.report(
            cycle_id=ctx.cycle_id, records=records, ledger_entries=ctx.ledger_entries,
            task_text=ctx.run_store.load_text("task.md") or ctx.task_text,
            open_prs=ctx.forge.list_prs(state="open"), evaluator=ctx.evaluator,
            data=ctx.data, windows=ctx.windows, created=created)
        entry_path, entry_bytes = ctx.ledger_entry(records, created)
        files[entry_path] = entry_bytes
        subject = (f"{ctx.cycle_id}: {summary.outcome.value}"
                   + (f" - {summary.hypothesis}" if summary.hypothesis else ""))
        body = f"{subject[:200]}\n\n{summary.message}"[:1900]
        commit = ctx.commit_to_base(files, f"{body}\n\n{CYCLE_TRAILER}: {ctx.cycle_id}\n")
        ctx.journal_report(commit)
        return ReportRecord(commit=commit, walkthrough="walkthrough.md",
                            plots=sorted(p for p in files if p.endswith(".png")))


def _plus(labels: tuple[str, ...], label: str) -> tuple[str, ...]:
    """``labels`` with ``label`` added once (a resumed merge stage may add it again)."""
    return labels if label in labels else (*labels, label)
