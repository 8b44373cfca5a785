"""The Project Manager: keeps the backlog, stops the loop from repeating failures, reports.

``plan`` opens a cycle. It reads ``task.md``, the ledger of past cycles and the open pull
requests, then, in this order:

1. marks ``done`` every open task whose goal the latest review of ``main`` meets;
2. escalates deadlocks: a task whose last ``deadlock_vetoes`` cycles (since its last
   escalation) were all vetoed is marked ``blocked`` with an ``escalated`` line quoting
   each veto, instead of being tried again; so is a task that spent its budget of
   cycles (its ``budget`` line, or ``budget`` in ``policies/search.toml``) without
   meeting its goal;
3. picks the task to work on: ``in-progress`` before ``todo``, then by priority, then in
   file order, skipping a task whose pull request waits for a human; marks it
   ``in-progress``.

``report`` closes a cycle: it marks the task ``done`` when a merged change meets its goal
and returns the files the cycle commits - ``task.md``, ``walkthrough.md`` and the plots
under ``reports/``. Every edit to ``task.md`` is surgical (see
:mod:`alphaloop.report.taskfile`), so whatever a human wrote there survives. The PM runs
no backtest: its figures are the ones the Quant and Risk recorded, and its plots reuse
their cached backtests.

With a model (``--llm openai|anthropic``) the PM also writes the walkthrough's opening
narrative from its charter's ``report`` prompt, and the walkthrough lists the cycle's
model usage (calls, tokens and cost per role); every table and figure stays computed.
The cycle's records reach the model only as quoted data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.forge.records import PullRequest, Review
from alphaloop.harness.result import BacktestResult
from alphaloop.llm import LLMUsage
from alphaloop.policy import SearchSteering
from alphaloop.records import Escalation, Outcome, PlanRecord
from alphaloop.report.cycle_plots import PLOT_CAPTIONS, Curve, render_cycle_plots
from alphaloop.report.history import CycleEntry, load_history
from alphaloop.report.markdown import format_metric, shorten
from alphaloop.report.taskfile import (
    Task,
    add_escalation,
    parse_task_file,
    set_status,
)
from alphaloop.report.tearsheet import (
    Benchmark,
    Run,
    StressRow,
    build_tear_sheet,
    simulate_benchmarks,
    stress_rows,
)
from alphaloop.report.walkthrough import WaitingPR, render_walkthrough
from alphaloop.roles.base import PlanRequest, ReportRequest, RoleConfig, RoleModel, RoleServices

if TYPE_CHECKING:
    from alphaloop.data.panel import MarketData
    from alphaloop.evaluation import Evaluator
    from alphaloop.harness.windows import ResearchWindows

__all__ = ["NEEDS_HUMAN_LABEL", "Narrative", "PMConfig", "ProjectManager", "budget_spent",
           "deadlocked_cycles", "waiting_for_human"]

NEEDS_HUMAN_LABEL = "needs-human"
"""The label the merge gate puts on a pull request that waits for a human."""


class PMConfig(BaseModel):
    """Where the PM keeps its files in the repository."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "pm"
    task_path: str = "task.md"
    walkthrough_path: str = "walkthrough.md"
    reports_dir: str = "reports"


class Narrative(BaseModel):
    """The PM's story of a cycle, written by the model for the walkthrough."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=3000,
                         description="what was tried, what was decided and why, in a few "
                                     "plain paragraphs; facts from the records only")
    needs_human: list[str] = Field(default_factory=list, max_length=10,
                                   description="decisions waiting for a person, one each")


LedgerInput = Iterable[Mapping[str, Any] | BaseModel]


def deadlocked_cycles(task_id: str, history: Sequence[CycleEntry],
                      threshold: int) -> list[CycleEntry]:
    """The cycles proving ``task_id`` is deadlocked, or ``[]`` if it is not.

    A task is deadlocked when its last ``threshold`` finished cycles since it was last
    escalated all ended vetoed.
    """
    if threshold < 1:
        raise ValueError(f"the deadlock threshold must be at least 1, not {threshold}")
    last = _finished_since_escalation(task_id, history)[-threshold:]
    if len(last) == threshold and all(e.outcome == Outcome.VETOED for e in last):
        return last
    return []


def budget_spent(task_id: str, history: Sequence[CycleEntry],
                 budget: int | None) -> list[CycleEntry]:
    """The cycles that spent ``task_id``'s budget, or ``[]`` while some is left.

    A task's budget counts its finished cycles since it was last escalated; ``None``
    means no limit.
    """
    if budget is None:
        return []
    spent = _finished_since_escalation(task_id, history)
    return spent if len(spent) >= budget else []


def _finished_since_escalation(task_id: str,
                               history: Sequence[CycleEntry]) -> list[CycleEntry]:
    """``task_id``'s finished cycles since the PM last escalated it."""
    start = 0
    for index, entry in enumerate(history):
        if task_id in entry.escalated_tasks:
            start = index + 1
    return [e for e in history[start:] if e.task_id == task_id and e.summary is not None]


def waiting_for_human(history: Sequence[CycleEntry],
                      open_prs: Iterable[PullRequest]) -> list[tuple[WaitingPR, str | None]]:
    """Open pull requests left for a human, each with the task its cycle worked on."""
    by_pr = {e.pr_number: e for e in history if e.pr_number is not None}
    waiting: list[tuple[WaitingPR, str | None]] = []
    for pr in open_prs:
        if pr.state != "open":
            continue
        entry = by_pr.get(pr.number)
        merge = entry.merge if entry is not None else None
        gated = merge is not None and merge.needs_human and not merge.merged
        if not gated and NEEDS_HUMAN_LABEL not in pr.labels:
            continue
        reasons = tuple(merge.reasons) if merge is not None else ()
        waiting.append((WaitingPR(number=pr.number, title=pr.title, branch=pr.head_branch,
                                  cycle_id=entry.cycle_id if entry else None,
                                  reasons=reasons or (f"labelled '{NEEDS_HUMAN_LABEL}'",)),
                        entry.task_id if entry else None))
    return waiting


def _goal_evidence(task: Task, metrics: BaseModel) -> str:
    values = metrics.model_dump()
    shown = ", ".join(f"{c.metric} {format_metric(c.metric, values.get(c.metric))}"
                      for c in task.goal.conditions)
    return f"goal `{task.goal.text()}` met ({shown})"


class ProjectManager:
    """Plans cycles from ``task.md`` and reports them (see the module docstring)."""

    role = "pm"

    def __init__(self, *, task_path: str = "task.md", walkthrough_path: str = "walkthrough.md",
                 reports_dir: str = "reports", evaluator: Evaluator | None = None,
                 deadlock_vetoes: int = 3,
                 search_defaults: SearchSteering | None = None,
                 model: RoleModel | None = None) -> None:
        self.task_path = task_path
        self.walkthrough_path = walkthrough_path
        self.reports_dir = reports_dir.rstrip("/")
        self.evaluator = evaluator
        self.deadlock_vetoes = deadlock_vetoes
        self.search_defaults = search_defaults or SearchSteering()
        self.model = model

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        options = PMConfig.model_validate(config.model_dump())
        return cls(task_path=options.task_path, walkthrough_path=options.walkthrough_path,
                   reports_dir=options.reports_dir, evaluator=services.evaluator,
                   deadlock_vetoes=services.policies.risk.process.deadlock_vetoes,
                   search_defaults=services.policies.search.steering(),
                   model=services.model)

    # -- the planner protocol ---------------------------------------------------------
    def plan(self, request: PlanRequest) -> tuple[PlanRecord, str]:
        return self.choose_task(request.task_text, request.ledger_entries, request.open_prs,
                                cycle_id=request.cycle_id, base_branch=request.base_branch,
                                base_sha=request.base_sha, clock=request.clock,
                                deadlock_vetoes=self.deadlock_vetoes)

    def report(self, request: ReportRequest) -> dict[str, bytes]:
        return self.write_report(
            cycle_id=request.cycle_id, records=request.records,
            ledger_entries=request.ledger_entries, task_text=request.task_text,
            open_prs=request.open_prs, evaluator=self.evaluator, data=request.data,
            windows=request.windows, created=request.created)

    # -- plan -------------------------------------------------------------------------
    def choose_task(self, task_text: str, ledger_entries: LedgerInput,
                    open_prs: Iterable[PullRequest], *, cycle_id: str, base_branch: str,
                    base_sha: str, clock: date, deadlock_vetoes: int,
                    today: date | None = None) -> tuple[PlanRecord, str]:
        """Pick this cycle's task; returns the plan and the updated ``task.md`` text.

        ``clock`` is the data's date (the last day the cycle may see); ``today`` (default:
        the UTC date now) dates what the PM writes into ``task.md``, such as escalations.

        Raises :class:`~alphaloop.report.taskfile.TaskFileError` when ``task.md`` breaks
        the format (the file is a human's; the PM never rewrites one it cannot read).
        """
        parse_task_file(task_text, self.task_path)
        history = [e for e in load_history(ledger_entries) if e.cycle_id != cycle_id]
        prs = [pr for pr in open_prs if pr.state == "open"]
        text, notes = self._close_met_goals(task_text, history)
        text, escalations = self._escalate(text, history, deadlock_vetoes, cycle_id,
                                           today or datetime.now(UTC).date())
        notes += [f"{e.task_id} escalated to a human after {e.describe()}" for e in escalations]
        waiting = {task: pr for pr, task in waiting_for_human(history, prs) if task}
        chosen: Task | None = None
        order = sorted(enumerate(parse_task_file(text, self.task_path).open_tasks()),
                       key=lambda it: (it[1].status != "in-progress", it[1].priority_rank,
                                       it[0]))
        for _, task in order:
            if task.id in waiting:
                notes.append(f"{task.id} skipped: PR #{waiting[task.id].number} waits for a "
                             "human")
                continue
            chosen = task
            break
        if chosen is None:
            reason = self._idle_reason(text)
        else:
            state = ("continuing it" if chosen.status == "in-progress"
                     else "marked in-progress")
            reason = (f"{chosen.id} is the most urgent open task (priority {chosen.priority}, "
                      f"goal `{chosen.goal.text()}`); {state}")
            text = set_status(text, chosen.id, "in-progress", path=self.task_path)
        if notes:
            reason += ". " + "; ".join(notes)
        record = PlanRecord(cycle_id=cycle_id, task=chosen.ref() if chosen else None,
                            reason=reason, escalations=escalations,
                            open_prs=[pr.number for pr in prs], base_branch=base_branch,
                            base_sha=base_sha, clock=clock)
        return record, text

    def _close_met_goals(self, text: str, history: Sequence[CycleEntry]) -> tuple[str, list[str]]:
        reviewed = next((e for e in reversed(history) if e.quant_review is not None), None)
        if reviewed is None or reviewed.quant_review is None:
            return text, []
        metrics = reviewed.quant_review.metrics
        notes = []
        for task in parse_task_file(text, self.task_path).open_tasks():
            if task.goal.is_met(metrics):
                text = set_status(text, task.id, "done", path=self.task_path)
                notes.append(f"{task.id} done: {_goal_evidence(task, metrics)} by main's "
                             f"review in {reviewed.cycle_id}")
        return text, notes

    def _escalate(self, text: str, history: Sequence[CycleEntry], threshold: int,
                  cycle_id: str, today: date) -> tuple[str, list[Escalation]]:
        escalations = []
        for task in parse_task_file(text, self.task_path).open_tasks():
            vetoed = deadlocked_cycles(task.id, history, threshold)
            budget = task.search.under(self.search_defaults).budget
            spent = [] if vetoed else budget_spent(task.id, history, budget)
            if vetoed:
                reasons = [f"{e.cycle_id}: {shorten(e.veto_reason(), 200)}" for e in vetoed]
                escalation = Escalation(task_id=task.id, vetoes=len(vetoed), reasons=reasons)
                note = (f"{today.isoformat()} by {cycle_id}: vetoed {len(vetoed)} cycles in a "
                        "row, a human must decide (change the task or the approach, then set "
                        "status back to todo). " + " | ".join(reasons))
            elif spent:
                reasons = [f"{e.cycle_id}: {e.outcome}" for e in spent]
                escalation = Escalation(task_id=task.id, vetoes=len(spent), reasons=reasons,
                                        kind="budget")
                note = (f"{today.isoformat()} by {cycle_id}: its budget of {budget} cycles is "
                        "spent without meeting the goal; a human must decide (raise the "
                        "budget, steer the search or change the goal, then set status back "
                        "to todo). " + " | ".join(reasons))
            else:
                continue
            escalations.append(escalation)
            text = set_status(text, task.id, "blocked", path=self.task_path)
            text = add_escalation(text, task.id, note, path=self.task_path)
        return text, escalations

    def _idle_reason(self, text: str) -> str:
        tasks = parse_task_file(text, self.task_path).tasks
        counts = {s: sum(t.status == s for t in tasks) for s in ("done", "blocked")}
        waiting = [t.id for t in tasks if t.is_open]
        if waiting:
            return (f"every open task ({', '.join(waiting)}) waits for a human decision on a "
                    "pull request; nothing to start")
        return (f"no open task in {self.task_path} ({counts['done']} done, "
                f"{counts['blocked']} blocked); add a task or set one back to todo")

    # -- report -----------------------------------------------------------------------
    def write_report(self, *, cycle_id: str, records: Mapping[str, Any],
                     ledger_entries: LedgerInput, task_text: str,
                     open_prs: Iterable[PullRequest] = (), reviews: Sequence[Review] = (),
                     curves: Sequence[Curve] | None = None,
                     holdout_start: date | None = None, evaluator: Evaluator | None = None,
                     data: MarketData | None = None, windows: ResearchWindows | None = None,
                     created: datetime | None = None) -> dict[str, bytes]:
        """The files this cycle commits: ``task.md``, ``walkthrough.md`` and the plots.

        ``records`` maps stage names (and ``"summary"``) to this cycle's records.
        ``reviews`` are the forge's reviews of its pull request. The plots show
        ``curves`` when given, otherwise the cached in-sample and held-out backtests of
        ``main`` and the branch found through ``evaluator`` (none is run); without either,
        no plot is written and the walkthrough shows none. ``created`` (default: now) is
        the cycle's time, as its ledger entry will record it.
        """
        current = CycleEntry.from_envelope({"cycle_id": cycle_id,
                                            "created": created or datetime.now(UTC),
                                            "records": dict(records)})
        history = [e for e in load_history(ledger_entries) if e.cycle_id != cycle_id]
        history.append(current)
        text = self._close_merged_goal(task_text, current)
        tasks = parse_task_file(text, self.task_path)
        files = {self.task_path: text.encode("utf-8")}
        benchmarks: list[Benchmark] = []
        stress: list[StressRow] = []
        settings = evaluator.settings if evaluator is not None else None
        if curves is None and evaluator is not None and data is not None and windows is not None:
            curves, holdout_start, runs = self._cached_curves(current, evaluator, data, windows)
            benchmarks = simulate_benchmarks(runs, frequency=evaluator.settings.frequency,
                                             costs=evaluator.settings.costs)
            stress = stress_rows(current, evaluator=evaluator, data=data, windows=windows)
        plots: dict[str, str] = {}
        sheet = None
        if curves:
            for name, png in render_cycle_plots(
                    curves, holdout_start=holdout_start, cycle_id=cycle_id,
                    benchmarks=[b.curve for b in benchmarks]).items():
                path = f"{self.reports_dir}/{name}"
                files[path] = png
                plots[PLOT_CAPTIONS[name]] = path
            sheet = build_tear_sheet(
                curves, benchmarks, holdout_start=holdout_start, stress=stress,
                frequency=settings.frequency if settings and benchmarks else None,
                costs=settings.costs if settings and benchmarks else None)
        waiting = [pr for pr, _ in waiting_for_human(history, open_prs)]
        text_md = render_walkthrough(history=history, tasks=tasks, reviews=reviews,
                                     waiting=waiting, plots=plots, tear_sheet=sheet)
        if self.model is not None:
            text_md = self._with_narrative(text_md, records, current)
        files[self.walkthrough_path] = text_md.encode("utf-8")
        return files

    def _with_narrative(self, text_md: str, records: Mapping[str, Any],
                        current: CycleEntry) -> str:
        """The walkthrough with the model's narrative after its first paragraph and the
        cycle's model usage at the end."""
        assert self.model is not None
        shown = _facts({k: v for k, v in records.items() if k != "deploy"})
        escalations = [e.describe() for e in (current.plan.escalations if current.plan
                                              else [])]
        story = self.model.ask(
            "pm", "report", Narrative,
            cycles=json.dumps(shown, indent=1, default=str)[:12_000],
            deployments=json.dumps(_facts(records.get("deploy")), indent=1,
                                   default=str)[:3_000]
            if records.get("deploy") else "none",
            escalations="\n".join(escalations) or "none")
        head, sep, rest = text_md.partition("\n\n")
        intro, sep2, body = rest.partition("\n\n")
        section = ["## In short", "", story.summary.strip(), ""]
        if story.needs_human:
            section += ["Waiting for a person:", "", *(f"- {item}" for item in
                                                       story.needs_human), ""]
        section += [f"_Told by the PM's model ({self.model.name}); every table and figure "
                    "below is computed from the ledger._", ""]
        tail = _usage_section(self.model.usage())
        return (f"{head}{sep}{intro}{sep2}" + "\n".join(section) + "\n" + body.rstrip("\n")
                + "\n" + tail)

    def _close_merged_goal(self, text: str, current: CycleEntry) -> str:
        merged = current.merge is not None and current.merge.merged
        if current.deploy is not None and current.deploy.rolled_back:
            merged = False  # it failed live and was reverted: the goal is not met on main
        task_id = current.task_id
        branch = current.metrics("branch", "in-sample")
        if not merged or task_id is None or branch is None:
            return text
        task = next((t for t in parse_task_file(text, self.task_path).tasks if t.id == task_id),
                    None)
        if task is None or not task.is_open or not task.goal.is_met(branch):
            return text
        return set_status(text, task_id, "done", path=self.task_path)

    @staticmethod
    def _cached_curves(current: CycleEntry, evaluator: Evaluator, data: MarketData,
                       windows: ResearchWindows
                       ) -> tuple[list[Curve], date | None, list[Run]]:
        """``main``'s and the branch's curves from the backtests the Quant and Risk ran
        (none is run here), where the held-out window starts if it was run, and the
        (panel, window) pairs found, for the benchmarks to be simulated on."""
        plan = current.plan
        if plan is None:
            return [], None, []
        in_sample = data.slice(end=windows.in_sample.end)
        sides = [(plan.base_branch, plan.base_sha)]
        if current.implement is not None:
            sides.append(("branch", current.implement.head_sha))
        curves: list[Curve] = []
        runs: list[Run] = []
        for label, sha in sides:
            found: list[BacktestResult] = []
            for panel, window in ((in_sample, windows.in_sample), (data, windows.holdout)):
                if evaluator.is_cached(sha, panel, window):
                    found.append(evaluator.backtest(sha, panel, window))
                    if all(w != window for _, w in runs):
                        runs.append((panel, window))
            if found:
                curves.append(Curve.from_results(label, *found,
                                                 asset_classes=data.asset_classes))
        runs.sort(key=lambda run: run[1].start)
        has_holdout = any(w == windows.holdout for _, w in runs)
        return curves, windows.holdout.start if has_holdout else None, runs


#: Record fields that differ between two runs of the same cycle (times, commit ids).
_VOLATILE = frozenset({"timings", "duration_s", "created", "sha", "base_sha", "head_sha",
                       "merge_sha", "commit", "merge_commit", "tree_hash", "base_tree",
                       "head_tree", "policy_digest"})
_COMMIT_ID = re.compile(r"\b[0-9a-f]{7,40}\b")


def _facts(value: Any) -> Any:
    """``value`` without what differs between two runs of the same cycle (times, commit
    ids), so the same cycle asks the model the same question and a replay finds it."""
    if isinstance(value, Mapping):
        return {k: _facts(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_facts(v) for v in value]
    if isinstance(value, str):
        return _COMMIT_ID.sub("<commit>", value)
    return value


def _usage_section(usage: LLMUsage) -> str:
    """``## Model usage``: calls, tokens and cost per role and in total."""
    lines = ["", "## Model usage", "",
             f"Provider {usage.provider}, model {usage.model}"
             + (f"; budget ${usage.max_cost_usd:.4f} per cycle" if usage.max_cost_usd
                is not None else "") + ".", "",
             "| role | calls | input tokens | output tokens | cost (USD) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for role, row in sorted(usage.by_role.items()):
        lines.append(f"| {role} | {row.calls} | {row.input_tokens} | {row.output_tokens} | "
                     f"{row.cost_usd:.6f} |")
    total = usage.total
    lines.append(f"| **total** | {total.calls} | {total.input_tokens} | "
                 f"{total.output_tokens} | {total.cost_usd:.6f} |")
    return "\n".join(lines) + "\n"
