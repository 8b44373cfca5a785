"""``walkthrough.md``: the PM's summary of the loop for the human who oversees it.

It opens with what needs a human (pull requests waiting for approval, escalated tasks),
then tells the latest cycle's story - the task, the hypothesis and why, the change, every
review's verdict, ``main`` and the branch side by side in-sample and on the held-out
window, and the merge decision - then the tear sheet (benchmarks, calendar years, stress
scenarios, charts), the history of all cycles and the backlog. Everything comes from the
ledger's records and the tear sheet's tables; nothing is computed here but formatting,
so the page never shows a figure the harness did not produce.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.forge.records import Review
from alphaloop.records import Hypothesis, ReviewRecord, RunMetrics
from alphaloop.report.goals import Goal, metric_values
from alphaloop.report.history import CycleEntry
from alphaloop.report.markdown import (
    describe_finding,
    format_delta,
    format_metric,
    format_number,
    format_percent,
    short_sha,
    shorten,
    table,
)
from alphaloop.report.taskfile import TaskFile
from alphaloop.report.tearsheet import TearSheet
from alphaloop.report.tearsheet_markdown import render_tear_sheet

__all__ = ["COMPARED_METRICS", "WaitingPR", "render_walkthrough"]

COMPARED_METRICS: tuple[str, ...] = (
    "reward", "sharpe", "annual_return", "annual_volatility", "max_drawdown", "calmar",
    "var_95", "turnover", "n_days",
)
"""The metrics of the main-vs-branch table, in order."""

_MAX_FINDINGS = 12
_HOW_TO_RUN = (
    "Run a cycle from the repository root with `alphaloop cycle` (add `--cycles 3` for "
    "several in a row, `--dry-run` to see what would happen). Each cycle commits this file, "
    "`task.md`, the plots under `reports/` and its ledger entry under `ledger/cycles/`."
)


class WaitingPR(BaseModel):
    """An open pull request the merge gate left for a human, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int
    title: str
    branch: str = ""
    cycle_id: str | None = None
    reasons: tuple[str, ...] = Field(default=())


def _arrow(before: str, after: str) -> str:
    return f"{before} → {after}"


def _attention(waiting: Sequence[WaitingPR], tasks: TaskFile | None) -> list[str]:
    out = ["## Needs a human", ""]
    blocked = [t for t in tasks.tasks if t.status == "blocked"] if tasks else []
    if not waiting and not blocked:
        return [*out, "Nothing is waiting for a human decision.", ""]
    if waiting:
        rows = [[f"#{pr.number}", shorten(pr.title, 60), pr.cycle_id or "-",
                 "; ".join(pr.reasons) or "the merge policy asks for a human"]
                for pr in waiting]
        out += ["Pull requests waiting for approval (read one with `alphaloop pr show N`, "
                "approve it with `alphaloop pr approve N`):", "",
                table(["PR", "title", "cycle", "why a human is needed"], rows), ""]
    if blocked:
        out += ["Escalated tasks (set `status: todo` in `task.md` to retry one, after "
                "changing what blocked it):", ""]
        for task in blocked:
            why = task.escalations[-1] if task.escalations else "blocked by hand"
            out.append(f"- **{task.id}** {task.title}: {why}")
        out.append("")
    return out


def _change(hypothesis: Hypothesis, entry: CycleEntry) -> list[str]:
    out = ["### The change", ""]
    if hypothesis.edits:
        rows = []
        for edit in hypothesis.edits:
            rel = edit.relative_change
            rows.append([f"`{edit.name}`", str(edit.old), str(edit.new),
                         "n/a" if rel is None else format_percent(rel)])
        out += [table(["parameter", "main", "branch", "relative change"], rows,
                      ["left", "right", "right", "right"]), ""]
    if hypothesis.patch:
        name = f" `{hypothesis.patch_name}`" if hypothesis.patch_name else ""
        rows = [[f"`{path}`", f"+{added}", f"-{removed}"]
                for path, added, removed in _diff_stats(hypothesis.patch)]
        out += [f"Code patch{name}:", "",
                table(["file", "added", "removed"], rows, ["left", "right", "right"]), ""]
    if entry.implement is not None:
        impl = entry.implement
        files = ", ".join(f"`{f}`" for f in impl.changed_files) or "none"
        out += [f"Branch `{impl.branch}` at `{short_sha(impl.head_sha)}` (PR #{impl.pr_number}) "
                f"changes {files}.", ""]
    if len(out) == 2:
        out += ["No change was recorded.", ""]
    return out


def _diff_stats(patch: str) -> list[tuple[str, int, int]]:
    stats: dict[str, list[int]] = {}
    current: str | None = None
    for line in patch.splitlines():
        header = re.match(r"^\+\+\+ (?:b/)?(?P<path>\S+)", line)
        if header:
            current = header["path"]
            stats.setdefault(current, [0, 0])
        elif line.startswith("---") or current is None:
            continue
        elif line.startswith("+"):
            stats[current][0] += 1
        elif line.startswith("-"):
            stats[current][1] += 1
    return [(path, counts[0], counts[1]) for path, counts in stats.items()]


def _reviews(entry: CycleEntry, reviews: Sequence[Review]) -> list[str]:
    out = ["### Reviews", ""]
    head = entry.implement.head_sha if entry.implement else None
    listed: list[tuple[str, str, str, int, str, Sequence[object]]] = []
    for review in reviews:
        who = review.reviewer + (" (human)" if review.human else "")
        listed.append((who, review.commit_sha, review.verdict, review.severity,
                       review.summary, review.findings))
    recorded: list[tuple[str, ReviewRecord]] = [
        ("risk", entry.risk_review)] if entry.risk_review is not None else []
    recorded += [(stage.removesuffix("_review"), record)
                 for stage, record in entry.other_reviews.items()]
    for position, (role, record) in enumerate(r for r in recorded
                                              if not any(x.reviewer == r[0] for x in reviews)):
        listed.insert(position, (role, record.head_sha, record.verdict, record.severity,
                                 record.summary, record.findings))
    if not listed:
        return [*out, "No review was recorded.", ""]
    rows = []
    for who, sha, verdict, severity, summary, _ in listed:
        commit = short_sha(sha) + ("" if head is None or sha == head else " (not the head)")
        rows.append([who, commit, verdict, str(severity), shorten(summary, 90) or "-"])
    out += [table(["reviewer", "commit", "verdict", "severity", "summary"], rows,
                  ["left", "left", "left", "right", "left"]), ""]
    for who, _, _, _, _, findings in listed:
        if not findings:
            continue
        out.append(f"Findings of {who}:")
        out.append("")
        out += [f"- {describe_finding(f)}" for f in list(findings)[:_MAX_FINDINGS]]
        if len(findings) > _MAX_FINDINGS:
            out.append(f"- … and {len(findings) - _MAX_FINDINGS} more")
        out.append("")
    return out


def _performance(entry: CycleEntry) -> list[str]:
    out = ["### Performance: main and the branch", ""]
    windows = ("in-sample", "holdout")
    sides = {(side, w): entry.metrics(side, w) for side in ("main", "branch") for w in windows}
    if not any(sides.values()):
        return [*out, "No backtest was recorded for this cycle.", ""]
    rows = []
    folds = [entry.metrics(side, "walk-forward") for side in ("main", "branch")]
    if any(folds):
        before, after = (f.reward if f else None for f in folds)
        rows.append(["reward, walk-forward folds", format_metric("reward", before),
                     format_metric("reward", after), format_delta("reward", before, after),
                     "", "", ""])
    for name in COMPARED_METRICS:
        row = ["reward, whole window" if name == "reward" and any(folds) else name]
        for window in windows:
            main, branch = sides["main", window], sides["branch", window]
            before = getattr(main, name) if main else None
            after = getattr(branch, name) if branch else None
            row += [format_metric(name, before), format_metric(name, after),
                    format_delta(name, before, after) if name != "n_days" else ""]
        rows.append(row)
    headers = ["metric", "in-sample main", "in-sample branch", "change",
               "held-out main", "held-out branch", "change"]
    out += [table(headers, rows, ["left", *["right"] * 6]), ""]
    spans = [f"{label} {m.start} to {m.end}" for label, m in
             (("in-sample", sides["main", "in-sample"]), ("held-out", sides["main", "holdout"]))
             if m is not None]
    if spans:
        out += ["Windows: " + "; ".join(spans) + ". The Quant never sees the held-out "
                "window; only Risk reads it.", ""]
    if any(folds):
        out += ["The reward is Sharpe minus lambda times max drawdown. The Quant aims at "
                "its mean over the walk-forward folds of the in-sample window; Risk "
                "requires that to improve and the held-out result not to fall behind "
                "`main`'s.", ""]
    risk = entry.risk_review
    if risk is not None and (risk.deflated_sharpe is not None or risk.pbo is not None):
        out += [f"Overfitting guards: deflated Sharpe probability "
                f"{format_number(risk.deflated_sharpe)}, probability of backtest overfitting "
                f"{format_percent(risk.pbo)}, over {risk.n_trials} trials; the held-out window "
                f"has been read {risk.holdout_reads} times.", ""]
    return out


def _decision(entry: CycleEntry) -> list[str]:
    merge, summary = entry.merge, entry.summary
    base = entry.plan.base_branch if entry.plan is not None else "the base branch"
    paragraphs = []
    if merge is not None and merge.merged:
        paragraphs.append(f"Merged into `{base}` as `{short_sha(merge.merge_sha)}`; the merge "
                          "gate found the approvals it requires on the reviewed commit.")
    elif merge is not None and merge.needs_human:
        paragraphs.append("Not merged yet: waiting for a human because "
                          + ("; ".join(merge.reasons) or "the merge policy requires it") + ".")
    elif merge is not None:
        paragraphs.append("Not merged: " + ("; ".join(merge.reasons) or "the gate refused")
                          + ".")
    if summary is not None:
        paragraphs.append(f"Outcome: **{summary.outcome.value}**"
                          + (f" - {summary.message}" if summary.message else "") + ".")
    if not paragraphs:
        paragraphs.append("The cycle stopped before a decision.")
    out = ["### Decision", ""]
    for paragraph in paragraphs:
        out += [paragraph, ""]
    return out


def _attribution(attribution: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Where main's in-sample return came from, in three lines."""
    parts = (
        ("asset_class", "Return by asset class (annualised contribution)",
         lambda v: format_percent(v, 2), None),
        ("expert", "Expert tilts (average change of their class's weight)",
         lambda v: format_number(100 * v, 2) + " pp", None),
        ("factor", "Strongest factor exposures of the holdings (z-scores)",
         lambda v: format_number(v, 2), 5),
    )
    lines = []
    for key, label, fmt, limit in parts:
        values = {k: v for k, v in attribution.get(key, {}).items() if math.isfinite(v)}
        ranked = sorted(values.items(), key=lambda kv: -abs(kv[1]))[:limit]
        if ranked:
            lines.append(f"- {label}: " + ", ".join(f"{k} {fmt(v)}" for k, v in ranked))
    return ["Attribution of main (in-sample):", "", *lines, ""] if lines else []


def _latest(entry: CycleEntry, reviews: Sequence[Review]) -> list[str]:
    outcome = entry.outcome.value if entry.outcome else "unfinished"
    out = [f"## Latest cycle: {entry.cycle_id} ({outcome})", ""]
    plan = entry.plan
    if plan is not None:
        task = (f"**{plan.task.id}** {plan.task.title} (priority {plan.task.priority}, "
                f"goal `{plan.task.goal}`)" if plan.task else "none")
        out += [f"- Task: {task}", f"- Why: {plan.reason}",
                f"- Base: `{plan.base_branch}` at `{short_sha(plan.base_sha)}`, clock "
                f"{plan.clock}", ""]
    if entry.quant_review is not None and entry.quant_review.diagnosis:
        out += ["What the Quant saw in main (in-sample):", ""]
        out += [f"- {shorten(d, 200)}" for d in entry.quant_review.diagnosis] + [""]
    if entry.quant_review is not None:
        out += _attribution(entry.quant_review.attribution)
    hypothesis = entry.hypothesis
    if hypothesis is not None:
        out += ["### Hypothesis", "", f"> {shorten(hypothesis.statement, 400)}", "",
                f"**Why:** {hypothesis.rationale}", "",
                f"**Expected effect:** {hypothesis.expected_effect}", ""]
        out += _change(hypothesis, entry)
    if entry.implement is not None or entry.risk_review is not None:
        out += _reviews(entry, reviews)
    out += _performance(entry)
    return out + _decision(entry) + _deployment(entry)


def _deployment(entry: CycleEntry) -> list[str]:
    """What the SRE did with the merged commit: the live period, the canary, a rollback."""
    deploy = entry.deploy
    if deploy is None:
        return []
    out = ["### Deployment", ""]
    if not deploy.deployed:
        return [*out, f"Not deployed: {deploy.message}", ""]
    live = deploy.live
    if live is not None and live.bars:
        figures = ""
        if live.metrics is not None:
            figures = (f": return {format_percent(live.metrics.annual_return, 1)} a year, "
                       f"max drawdown {format_percent(live.metrics.max_drawdown, 2)}, reward "
                       f"{format_number(live.metrics.reward, 3)}")
        out += [f"`{short_sha(deploy.commit)}` paper-traded {live.bars} bars, {live.start} to "
                f"{live.end}, in the {live.backend} sandbox{figures}. The clock moved from "
                f"{deploy.clock_before} to {deploy.clock_after}.", ""]
    grade = deploy.grade or "not judged"
    out += [f"Canary: **{grade}**" + (" (a person should look: `alphaloop status`)"
                                      if grade == "inconclusive" else ""), ""]
    if deploy.canary is not None and deploy.canary.checks:
        rows = [[check.name, check.status, check.message] for check in deploy.canary.checks]
        out += [table(["check", "result", "detail"], rows, ["left"] * 3), ""]
    if deploy.rolled_back:
        out += ["**Rolled back** by the SRE: " + deploy.message, ""]
    if deploy.halted:
        out += ["**Deployments are halted** until a person runs `alphaloop resume`: "
                + deploy.message, ""]
    return out


def _ratio_pair(entry: CycleEntry, window: str, name: str) -> str:
    main = entry.metrics("main", window)  # type: ignore[arg-type]
    branch = entry.metrics("branch", window)  # type: ignore[arg-type]
    if main is None and branch is None:
        return "-"
    return _arrow(format_metric(name, getattr(main, name) if main else None),
                  format_metric(name, getattr(branch, name) if branch else None))


def _history(history: Sequence[CycleEntry]) -> list[str]:
    rows = []
    for entry in reversed(history):
        hypothesis = entry.hypothesis.headline if entry.hypothesis else (
            entry.summary.hypothesis if entry.summary and entry.summary.hypothesis else "-")
        rows.append([entry.cycle_id, str(entry.day or "-"), entry.task_id or "-",
                     shorten(hypothesis, 60), entry.outcome.value if entry.outcome else "-",
                     _ratio_pair(entry, "walk-forward", "reward"),
                     _ratio_pair(entry, "holdout", "sharpe")])
    headers = ["cycle", "date", "task", "hypothesis", "outcome",
               "walk-forward reward main → branch", "held-out Sharpe main → branch"]
    return ["## History", "", table(headers, rows, ["left"] * 5 + ["right", "right"]), ""]


def _main_now(history: Sequence[CycleEntry]) -> tuple[RunMetrics | None, str]:
    """``main``'s latest in-sample figures, and the cycle that measured them."""
    for entry in reversed(history):
        metrics = entry.metrics("main", "in-sample")
        if metrics is not None:
            return metrics, entry.cycle_id
    return None, ""


def _goal_figures(goal: Goal, metrics: RunMetrics | None) -> tuple[str, str]:
    """``main``'s value of each metric the goal names, and whether the goal is met."""
    if metrics is None:
        return "-", "-"
    values = metric_values(metrics)
    shown = ", ".join(f"{c.metric} {format_metric(c.metric, values.get(c.metric))}"
                      for c in goal.conditions)
    return shown, "yes" if goal.is_met(values) else "no"


def _backlog(tasks: TaskFile, history: Sequence[CycleEntry] = ()) -> list[str]:
    main, measured = _main_now(history)
    rows = [[t.id, t.priority, t.status, f"`{t.goal.text()}`",
             *_goal_figures(t.goal, main), shorten(t.title, 60)] for t in tasks.tasks]
    source = (f"`main`'s in-sample figures as the Quant measured them in {measured} "
              f"({main.start} .. {main.end})" if main is not None else
              "no review of `main` yet")
    return ["## Backlog", "", f"From `{tasks.path}` (edit it to steer the loop; the format "
            f"is in `docs/task-format.md`); beside each goal, {source}:", "",
            table(["task", "priority", "status", "goal", "main now", "met", "title"], rows),
            ""]


def render_walkthrough(*, history: Sequence[CycleEntry], tasks: TaskFile | None = None,
                       reviews: Sequence[Review] = (), waiting: Sequence[WaitingPR] = (),
                       plots: Mapping[str, str] | None = None,
                       tear_sheet: TearSheet | None = None,
                       generated: date | None = None) -> str:
    """The markdown of ``walkthrough.md``.

    ``history`` holds every cycle, oldest first; the last one is told in detail, with
    ``reviews`` (the forge's reviews of its pull request). ``tear_sheet`` holds the
    latest cycle's benchmark, calendar and stress tables, and ``plots`` maps a caption to
    a repository-relative chart path; both go in the ``## Tear sheet`` section.
    ``generated`` dates the page (default: the latest cycle's date).
    """
    latest = history[-1] if history else None
    day = generated or (latest.day if latest else None)
    out = ["# AlphaLoop walkthrough", ""]
    if latest is None:
        out += ["No cycle has run yet.", "", _HOW_TO_RUN, "",
                "After each cycle this page tells its story: the task the PM picked, the "
                "Quant's hypothesis and the change it made, every review's verdict, `main` "
                "and the branch side by side in-sample and on the held-out window, the "
                "merge decision, a tear sheet (benchmarks, calendar years, stress scenarios "
                "and charts), and the history of all cycles. "
                "Pull requests and tasks that need a human are listed first.", ""]
    else:
        out += [f"Written by the AlphaLoop PM after cycle {latest.cycle_id}"
                + (f" on {day}" if day else "") + f"; {len(history)} cycle"
                + ("s" if len(history) != 1 else "") + " so far.", ""]
    out += _attention(waiting, tasks)
    if latest is not None:
        out += _latest(latest, reviews)
        out += render_tear_sheet(tear_sheet, plots or {})
        out += _history(history)
    if tasks is not None:
        out += _backlog(tasks, history)
    if latest is not None:
        out += ["## Running the loop", "", _HOW_TO_RUN, ""]
    return "\n".join(out).rstrip("\n") + "\n"
