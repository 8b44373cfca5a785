"""``alphaloop cycle``: the stage machine of one hypothesis -> analysis cycle.

Stages run in the order :func:`stage_names` gives: plan, the proposer's review,
hypothesis and implementation, one review per reviewer of the team, merge, the deploy
of what merged (when the team has a deployer), report. Each
stage's record is written to the run store (``.git/alphaloop/runs/cNNNN/``) the moment
it exists, so ``--resume`` continues a killed cycle after its last finished stage
without repeating work: branches, commits, PRs and reviews are all found again rather
than made twice. The last stage commits the ledger entry, ``walkthrough.md``,
``task.md`` and the plots to the base branch as the PM, advancing it the way
``git merge --ff-only`` would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from alphaloop.cycle.context import CycleContext
from alphaloop.cycle.gate import merge_through_gate
from alphaloop.cycle.ledger import CYCLE_TRAILER
from alphaloop.cycle.review import review_head
from alphaloop.errors import NothingToDo
from alphaloop.forge.supersede import close_superseded
from alphaloop.records import (
    CycleSummary,
    DeployRecord,
    Hypothesis,
    Implementation,
    MergeRecord,
    Outcome,
    PerformanceReview,
    PlanRecord,
    ReportRecord,
    ReviewRecord,
    Stage,
    record_model,
    review_stage,
    role_title,
)
from alphaloop.repo import Identity
from alphaloop.roles import (
    DeployRequest,
    PlanRequest,
    ProposalRequest,
    ReportRequest,
    Reviewer,
)

__all__ = ["CycleRunner", "StageEvent", "stage_names"]

StageEvent = Callable[[str, str], None]


def stage_names(reviewers: list[str], *, deploys: bool = False) -> list[str]:
    """The stages of a cycle whose reviewers are ``reviewers``, in order; ``deploys``: the
    team has a deployer, which deploys what the gate merged."""
    return [Stage.PLAN, Stage.QUANT_REVIEW, Stage.HYPOTHESIS, Stage.IMPLEMENT,
            *(review_stage(role) for role in reviewers), Stage.MERGE,
            *([Stage.DEPLOY] if deploys else []), Stage.REPORT]


class CycleRunner:
    """Runs (or resumes) one cycle in a prepared :class:`CycleContext`."""

    def __init__(self, ctx: CycleContext, *, on_stage: StageEvent | None = None) -> None:
        self.ctx = ctx
        self.on_stage = on_stage or (lambda stage, note: None)
        self.records: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.outcome: Outcome | None = None
        self.message = ""
        self.task_text = ctx.task_text
        """``task.md`` as the plan left it."""
        self.reviewers: dict[str, Reviewer] = {
            review_stage(r.role): r for r in ctx.team.reviewers}
        self.persist = True

    @property
    def stages(self) -> list[str]:
        return stage_names(self.ctx.team.reviewer_roles,
                           deploys=self.ctx.team.deployer is not None)

    # -- the loop ---------------------------------------------------------------------
    def run(self, *, stop_after: str | None = None, persist: bool = True) -> CycleSummary:
        """Run the stages not yet finished, in order.

        ``stop_after`` ends the run after that stage; with ``persist=False`` nothing is
        read from or written to the run store (a dry run keeps its records in
        :attr:`records` only).
        """
        store = self.ctx.run_store
        self.persist = persist
        for stage in self.stages:
            if stop_after is not None and self.stages.index(stage) > self.stages.index(
                    stop_after):
                break
            raw = store.load(stage) if persist else None
            if raw is not None:
                self.records[stage] = record_model(stage).model_validate(raw)
                self.timings.update(store.load("timings") or {})
                self._derive_outcome(stage)
                continue
            if self.outcome is not None and stage != Stage.REPORT and not (
                    stage == Stage.DEPLOY and self.outcome == Outcome.MERGED):
                continue
            if stage in self.reviewers and self._vetoes():
                continue  # a reviewer blocked the change: the later ones need not judge it
            self.on_stage(stage, "")
            started = time.monotonic()
            reviewer = self.reviewers.get(stage)
            record = (self._review(reviewer) if reviewer is not None
                      else getattr(self, f"_{stage}")())
            self.timings[stage] = round(time.monotonic() - started, 3)
            if record is None:
                continue
            self.records[stage] = record
            if persist:
                store.save(stage, record.model_dump(mode="json"))
                store.save("timings", self.timings)
                if stage == Stage.PLAN:
                    store.save_text("task.md", self.task_text)
            self._derive_outcome(stage)
        return self._summary()

    def _derive_outcome(self, stage: str) -> None:
        record = self.records.get(stage)
        if stage == Stage.PLAN and record.task is None:
            self.outcome, self.message = Outcome.IDLE, record.reason
        elif stage == Stage.HYPOTHESIS and record is None:
            self.outcome = Outcome.NO_HYPOTHESIS
        elif stage == Stage.MERGE:
            if record.merged:
                self.outcome = Outcome.MERGED
                self.message = f"merged as {record.merge_sha[:10]}"
            elif record.needs_human and not self._vetoes():
                self.outcome = Outcome.AWAITING_HUMAN
                self.message = "waiting for a human: " + "; ".join(record.reasons)
            elif self._vetoes():
                self.outcome = Outcome.VETOED
                self.message = "; ".join(record.reasons)
            else:  # every reviewer approved and no human is needed, yet the gate refused
                self.outcome = Outcome.NOT_MERGEABLE
                self.message = "not mergeable: " + "; ".join(record.reasons)
        elif stage == Stage.DEPLOY and record is not None:
            if record.rolled_back:
                self.outcome = Outcome.ROLLED_BACK
            self.message = f"{self.message}; {record.message}" if self.message \
                else record.message

    def _reviews(self) -> dict[str, ReviewRecord]:
        """Each reviewer's record of this cycle, by role, in review order."""
        return {r.role: self.records[stage] for stage, r in self.reviewers.items()
                if stage in self.records}

    def _vetoes(self) -> dict[str, ReviewRecord]:
        return {role: r for role, r in self._reviews().items() if r.verdict != "approve"}

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

    def _proposal(self) -> ProposalRequest:
        ctx = self.ctx
        plan: PlanRecord = self.records[Stage.PLAN]
        return ProposalRequest(cycle_id=ctx.cycle_id, base_branch=ctx.base_branch,
                               base_sha=ctx.base_sha, task=plan.task,
                               in_sample=ctx.in_sample, ledger_entries=ctx.ledger_entries,
                               live=ctx.deployments.last_live)

    # -- stages -----------------------------------------------------------------------
    def _plan(self) -> PlanRecord:
        record, self.task_text = plan_cycle(self.ctx)
        return record

    def _quant_review(self) -> PerformanceReview:
        return self.ctx.team.proposer.review(self._proposal())

    def _hypothesis(self) -> Hypothesis | None:
        try:
            return self.ctx.team.proposer.hypothesize(self._proposal(),
                                                      self.records[Stage.QUANT_REVIEW])
        except NothingToDo as nothing:
            self.outcome, self.message = Outcome.NO_HYPOTHESIS, str(nothing)
            return None

    def _implement(self) -> Implementation:
        return self.ctx.team.proposer.implement(self._proposal(),
                                                self.records[Stage.HYPOTHESIS])

    def _head(self) -> str:
        """The pull request's head now: a reviewer may have committed to the branch."""
        impl: Implementation = self.records[Stage.IMPLEMENT]
        return self.ctx.forge.head_sha(self.ctx.forge.get_pr(impl.pr_number))

    def _review(self, reviewer: Reviewer) -> ReviewRecord:
        """One reviewer's review of the branch head, posted on the PR bound to it."""
        impl: Implementation = self.records[Stage.IMPLEMENT]
        record, _ = review_head(self.ctx, reviewer, impl.pr_number,
                                self.ctx.repo.worktree_path(impl.branch),
                                self.records[Stage.HYPOTHESIS])
        return record

    def _refresh_reviews(self) -> None:
        """Review again what a later reviewer's commit (QA's tests) made stale: an
        approval holds for the commit it approved only."""
        refreshed = False
        for _ in range(len(self.reviewers)):
            head = self._head()
            stale = [stage for stage in self.reviewers
                     if stage in self.records and self.records[stage].head_sha != head]
            if not stale or self._vetoes():
                break
            for stage in stale:
                self.on_stage(stage, "the branch moved: reviewing its new head")
                self.records[stage] = self._review(self.reviewers[stage])
                refreshed = True
                if self.persist:
                    self.ctx.run_store.save(stage, self.records[stage].model_dump(mode="json"))
        if refreshed:
            self.on_stage(Stage.MERGE, "")

    def _merge(self) -> MergeRecord:
        ctx = self.ctx
        impl: Implementation = self.records[Stage.IMPLEMENT]
        hypothesis: Hypothesis = self.records[Stage.HYPOTHESIS]
        self._refresh_reviews()
        head = self._head()
        verdicts = "".join(f"{role_title(role)}: {r.summary}\n\n"
                           for role, r in self._reviews().items())
        message = (f"{hypothesis.headline} (#{impl.pr_number})\n\n{hypothesis.description}"
                   f"\n\n{verdicts}AlphaLoop-Cycle: {ctx.cycle_id}\n"
                   f"AlphaLoop-PR: {impl.pr_number}\nAlphaLoop-Head: {head}\n")
        merged = merge_through_gate(ctx.repo, ctx.forge, impl.pr_number, ctx.policies,
                                    message=message, identity=Identity(
                                        **ctx.policies.merge.committer.model_dump()),
                                    required=ctx.team.reviewer_roles,
                                    expected_head=head)
        if merged.merge_sha is not None:
            # the bot's other open pull requests for this task were made against an older
            # main and aim at what just merged: close them, saying which one replaced them
            closed = close_superseded(ctx.forge, impl.pr_number,
                                      reason=f"superseded by #{impl.pr_number}, which merged")
            return MergeRecord(merged=True, merge_sha=merged.merge_sha, superseded=closed)
        decision = merged.decision
        pr = ctx.forge.get_pr(impl.pr_number)
        vetoes = self._vetoes()
        if vetoes:
            reason = "; ".join(f"vetoed by {role_title(role)}: {r.summary}"
                               for role, r in vetoes.items())
            ctx.forge.update_pr(pr.number, state="closed", labels=_plus(pr.labels, "vetoed"),
                                closed_reason=reason)
            ctx.repo.remove_worktree(impl.branch)
        elif decision.needs_human:
            ctx.forge.update_pr(pr.number, labels=_plus(pr.labels, "needs-human"))
        return MergeRecord(merged=False, needs_human=decision.needs_human,
                           reasons=self._without_unasked(decision.reasons))

    def _without_unasked(self, reasons: list[str]) -> list[str]:
        """The gate's reasons, with the reviewers not asked after a veto said once."""
        unasked = [r.role for stage, r in self.reviewers.items() if stage not in self.records]
        if not unasked:
            return reasons
        head = self._head()
        kept = [reason for reason in reasons
                if not any(reason == f"no {role} review of the head commit {head[:10]}"
                           for role in unasked)]
        names = ", ".join(role_title(role) for role in unasked)
        return [*kept, f"not asked: {names} (a reviewer before them blocked the change)"]

    def _deploy(self) -> DeployRecord | None:
        """The deployer deploys what the gate merged, runs it live and judges it."""
        ctx = self.ctx
        merge: MergeRecord = self.records[Stage.MERGE]
        if ctx.team.deployer is None or not merge.merged or merge.merge_sha is None:
            return None
        hypothesis: Hypothesis = self.records[Stage.HYPOTHESIS]
        return ctx.team.deployer.deploy(DeployRequest(
            cycle_id=ctx.cycle_id, base_branch=ctx.base_branch, commit=merge.merge_sha,
            merge_commit=merge.merge_sha, clock=ctx.clock, research=ctx.data,
            market=ctx.market, windows=ctx.windows,
            reason=f"{ctx.cycle_id} merged: {hypothesis.headline}"))

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
        records = {str(stage): rec.model_dump(mode="json")
                   for stage, rec in self.records.items() if rec is not None}
        records["summary"] = summary.model_dump(mode="json")
        created = datetime.now(UTC)
        files = ctx.team.planner.report(ReportRequest(
            cycle_id=ctx.cycle_id, records=records, ledger_entries=ctx.ledger_entries,
            task_text=ctx.run_store.load_text("task.md") or ctx.task_text,
            open_prs=ctx.forge.list_prs(state="open"), data=ctx.data, windows=ctx.windows,
            created=created))
        if ctx.llm is not None:  # the model's tokens and cost, the PM's report included
            records["llm"] = ctx.llm.meter.summary().model_dump(mode="json")
        entry_path, entry_bytes = ctx.ledger_entry(records, created)
        files[entry_path] = entry_bytes
        subject = (f"{ctx.cycle_id}: {summary.outcome.value}"
                   + (f" - {summary.hypothesis}" if summary.hypothesis else ""))
        body = f"{subject[:200]}\n\n{summary.message}"[:1900]
        commit = ctx.commit_to_base(files, f"{body}\n\n{CYCLE_TRAILER}: {ctx.cycle_id}\n")
        ctx.journal_report(commit)
        return ReportRecord(commit=commit, walkthrough="walkthrough.md",
                            plots=sorted(p for p in files if p.endswith(".png")))


def plan_cycle(ctx: CycleContext) -> tuple[PlanRecord, str]:
    """The planner's plan for ``ctx``'s cycle, and ``task.md`` as the plan leaves it."""
    return ctx.team.planner.plan(PlanRequest(
        cycle_id=ctx.cycle_id, base_branch=ctx.base_branch, base_sha=ctx.base_sha,
        clock=ctx.clock, task_text=ctx.task_text, ledger_entries=ctx.ledger_entries,
        open_prs=ctx.forge.list_prs(state="open")))


def _plus(labels: tuple[str, ...], label: str) -> tuple[str, ...]:
    """``labels`` with ``label`` added once (a resumed merge stage may add it again)."""
    return labels if label in labels else (*labels, label)
