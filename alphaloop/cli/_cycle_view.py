"""One cycle's records made readable: ``alphaloop ledger show`` and Risk's part of
``alphaloop pr show``.

Everything here turns records into rich renderables (tables and lines) and prints
nothing itself. Figures come from the records as the ledger stores them: the trusted
harness computed them, this module only lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from alphaloop.harness.compare import PairedComparison
from alphaloop.records import Hypothesis, RiskReviewRecord, role_title
from alphaloop.report.history import CycleEntry

__all__ = ["cycle_view", "findings_table", "hypothesis_view", "number", "percent",
           "risk_view"]

_WINDOWS = (("walk_forward", "walk-forward"), ("in_sample", "in-sample"),
            ("holdout", "held-out"))
_FIGURES = (("reward", "reward", False), ("sharpe", "Sharpe", False),
            ("max_drawdown", "max drawdown", True), ("annual_return", "annual return", True))
_SEVERITY = {0: "[green]0 pass[/]", 1: "[yellow]1 warn[/]", 2: "[red]2 restrict[/]",
             3: "[bold red]3 block[/]"}


def number(value: float | None, digits: int = 3) -> str:
    """A figure, or ``-`` when there is none (NaN included)."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.2%}"


def _signed(value: float | None, as_percent: bool) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:+.2%}" if as_percent else f"{value:+.3f}"


def hypothesis_view(hypothesis: Hypothesis | Mapping[str, Any]) -> RenderableType:
    """Statement, edits (old -> new) or patch, claim and expected effect."""
    h = (hypothesis if isinstance(hypothesis, Hypothesis)
         else Hypothesis.model_validate(hypothesis))
    lines: list[RenderableType] = [
        Text.assemble(("Hypothesis ", "bold"), (f"({h.kind}): ", "dim"), h.statement)]
    if h.edits:
        edits = Table(box=None, padding=(0, 2, 0, 2), show_header=True)
        for column in ("tunable", "main", "proposed", "change"):
            edits.add_column(column)
        for edit in h.edits:
            change = edit.relative_change
            edits.add_row(edit.name, str(edit.old), str(edit.new),
                          "-" if change is None else f"{change:+.0%}" if math.isfinite(change)
                          else "from 0")
        lines.append(edits)
    if h.patch_name:
        size = len((h.patch or "").splitlines())
        lines.append(Text(f"  code change {h.patch_name}"
                          + (f" ({size} diff lines)" if size else "")))
    lines.append(Text.assemble("  claim: ", h.claim.text(), (f" ({h.claim.source})", "dim")))
    if h.expected_effect:
        lines.append(Text.assemble("  expected: ", (h.expected_effect, "dim")))
    return Group(*lines)


def _figures_table(review: RiskReviewRecord) -> Table | None:
    """Reward, Sharpe, max drawdown and annual return of main and the branch, per window."""
    windows = [(key, label) for key, label in _WINDOWS
               if key in review.main_metrics or key in review.branch_metrics]
    if not windows:
        return None
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("figure")
    table.add_column("window")
    for column in ("main", "branch", "change"):
        table.add_column(column, justify="right")
    for field, label, as_percent in _FIGURES:
        show = percent if as_percent else number
        for index, (key, window) in enumerate(windows):
            main, branch = review.main_metrics.get(key), review.branch_metrics.get(key)
            a = getattr(main, field) if main is not None else None
            b = getattr(branch, field) if branch is not None else None
            delta = b - a if a is not None and b is not None else None
            table.add_row(label if index == 0 else "", window, show(a), show(b),
                          _signed(delta, as_percent),
                          end_section=index == len(windows) - 1)
    return table


def _test_line(label: str, test: PairedComparison, metric: str, which: str) -> Text:
    found = test.metrics.get(metric)
    if found is None:
        return Text(f"  {label}: {metric} not measured")
    p = found.p_superior if which == "superior" else found.p_noninferior
    passed = found.superior if which == "superior" else found.noninferior
    verdict = ("pass", "green") if passed else ("not shown", "red")
    return Text.assemble(
        f"  {label}, {metric}: estimate {found.estimate:+.4g} interval "
        f"[{found.ci_low:+.4g}, {found.ci_high:+.4g}], p {p:.4f} ", verdict,
        (f"  ({test.n_days} paired days, confidence {test.confidence:.4g}"
         f"{f' for {test.n_trials} trials' if test.n_trials > 1 else ''})", "dim"))


def findings_table(findings: Iterable[Mapping[str, Any]], *, min_severity: int = 0,
                   title: str = "Findings") -> Table:
    """Findings at or above ``min_severity``, most severe first."""
    chosen = sorted((f for f in findings if int(f.get("severity", 0)) >= min_severity),
                    key=lambda f: -int(f.get("severity", 0)))
    table = Table(title=title, title_justify="left")
    for column in ("severity", "check", "message"):
        table.add_column(column)
    for finding in chosen:
        place = str(finding["path"]) if finding.get("path") else ""
        if place and finding.get("line"):
            place += f":{finding['line']}"
        where = f" [dim]({escape(place)})[/]" if place else ""
        table.add_row(_SEVERITY.get(int(finding.get("severity", 0)), "?"),
                      escape(str(finding.get("check", "-"))),
                      escape(str(finding.get("message", ""))) + where)
    return table


def risk_view(review: RiskReviewRecord, *, all_findings: bool = False) -> RenderableType:
    """Risk's verdict, key figures, paired tests and findings (severity >= 2 first; the
    others too with ``all_findings``, else only counted)."""
    colour = "green" if review.verdict == "approve" else "red"
    parts: list[RenderableType] = [Text.from_markup(
        f"[bold]Risk:[/] [{colour}]{review.verdict}[/] (severity {review.severity}) on "
        f"{review.head_sha[:10]}")]
    table = _figures_table(review)
    if table is not None:
        parts.append(table)
    claim = review.claim
    if review.walk_forward_test is not None:
        metric = claim.metric if claim is not None and claim.metric else "reward"
        test = review.walk_forward_test
        claimed = "claim" if claim is not None and not claim.no_effect else "no claim"
        parts.append(_test_line(f"walk-forward paired test ({claimed})", test, metric,
                                "superior"))
        if metric != "reward":
            parts.append(_test_line("walk-forward paired test", test, "reward", "superior"))
    if review.holdout_test is not None:
        parts.append(_test_line("held-out non-inferiority", review.holdout_test, "reward",
                                "noninferior"))
    if review.branch_metrics:
        parts.append(Text(
            f"  deflated Sharpe {number(review.deflated_sharpe)}, PBO {number(review.pbo)} "
            f"over {review.pbo_trials} configurations, {review.distinct_trials} distinct "
            f"trials; held-out window read {review.holdout_reads} time(s)"))
    severe = [f for f in review.findings if int(f.get("severity", 0)) >= 2]
    if all_findings:
        parts.append(findings_table(review.findings))
    elif severe:
        parts.append(findings_table(severe, title="Findings of severity 2 or more"))
    rest = len(review.findings) - (len(review.findings) if all_findings else len(severe))
    if rest:
        parts.append(Text(f"  ({rest} more finding(s) below severity 2: --json lists "
                          f"them)", style="dim"))
    return Group(*parts)


def _stress_table(review: RiskReviewRecord) -> Table | None:
    if not review.stress:
        return None
    table = Table(title="Stress scenarios (branch)", title_justify="left")
    for column in ("scenario", "window", "max drawdown", "Sharpe", "annual return"):
        table.add_column(column)
    for name, m in review.stress.items():
        table.add_row(name, f"{m.start} to {m.end}", percent(m.max_drawdown),
                      number(m.sharpe, 2), percent(m.annual_return))
    return table


def _head(entry: CycleEntry) -> list[RenderableType]:
    outcome = entry.outcome.value if entry.outcome else "unfinished"
    created = entry.created.strftime("%Y-%m-%d %H:%M UTC") if entry.created else "-"
    clock = f", clock {entry.plan.clock}" if entry.plan else ""
    lines: list[RenderableType] = [Text.from_markup(
        f"[bold]{entry.cycle_id}[/] {escape(outcome)}, recorded {created}{clock}")]
    if entry.summary is not None and entry.summary.message:
        lines.append(Text(entry.summary.message))
    plan = entry.plan
    if plan is not None:
        task = (f"{plan.task.id} {plan.task.title} (goal {plan.task.goal or '-'})"
                if plan.task else "no task")
        said = entry.summary.message if entry.summary is not None else ""
        reason = "" if plan.reason == said else f"; {plan.reason}"
        lines += [_section("Plan"), Text(f"{task}{reason}")]
        for escalation in plan.escalations:
            lines.append(Text(f"  escalated {escalation.task_id} after {escalation.describe()}",
                              style="yellow"))
    return lines


def _quant(entry: CycleEntry) -> list[RenderableType]:
    review = entry.quant_review
    if review is None:
        return []
    m = review.metrics
    lines: list[RenderableType] = [_section(f"Quant's review of main at {review.sha[:10]}"),
                                   Text(
        "walk-forward reward "
        f"{number(review.reward)}; in-sample Sharpe {number(m.sharpe, 2)}, max drawdown "
        f"{percent(m.max_drawdown)}, annual return {percent(m.annual_return)}")]
    lines += [Text(f"  - {line}", style="dim") for line in review.diagnosis]
    return lines


def _rest(entry: CycleEntry) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for stage, review in entry.other_reviews.items():
        colour = "green" if review.verdict == "approve" else "red"
        lines.append(Text.from_markup(
            f"\n[bold]{escape(role_title(stage.removesuffix('_review')))}:[/] "
            f"[{colour}]{review.verdict}[/] (severity {review.severity}): "
            f"{escape(review.summary)}"))
        severe = [f for f in review.findings if int(f.get("severity", 0)) >= 2]
        if severe:
            lines.append(findings_table(severe))
    if entry.merge is not None:
        merge = entry.merge
        said = entry.summary.message if entry.summary is not None else ""
        reasons = "; ".join(r for r in merge.reasons if r != said)
        text = (f"merged as {merge.merge_sha[:10]}" if merge.merged and merge.merge_sha
                else "not merged" + (f": {reasons}" if reasons else " (see above)"))
        lines += [_section("Merge"), Text(text + (" (a human approval is needed)"
                                                  if merge.needs_human else ""))]
    if entry.report is not None:
        lines.append(Text(f"Report: commit {entry.report.commit[:10]}, "
                          f"{entry.report.walkthrough}"))
    if entry.summary is not None and entry.summary.timings:
        spent = ", ".join(f"{stage} {seconds:.1f}s"
                          for stage, seconds in entry.summary.timings.items())
        lines.append(Text(f"Timings: {spent}", style="dim"))
    return lines


def _section(title: str) -> Text:
    """A blank line and a bold heading."""
    return Text.assemble("\n", (title, "bold underline"))


def cycle_view(entry: CycleEntry) -> RenderableType:
    """The whole cycle: plan, Quant's review, hypothesis, branch, every review, merge."""
    parts = [*_head(entry), *_quant(entry)]
    if entry.hypothesis is not None:
        parts += [Text(""), hypothesis_view(entry.hypothesis)]
    if entry.implement is not None:
        impl = entry.implement
        parts.append(Text(
            f"  branch {impl.branch}: {impl.base_sha[:10]}..{impl.head_sha[:10]}, PR "
            f"#{impl.pr_number}, changed {', '.join(impl.changed_files) or 'nothing'}"))
    if entry.risk_review is not None:
        parts += [Text(""), risk_view(entry.risk_review, all_findings=True)]
        stress = _stress_table(entry.risk_review)
        if stress is not None:
            parts.append(stress)
    parts += _rest(entry)
    return Group(*parts)
