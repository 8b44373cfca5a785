"""What a running cycle tells the person watching it: which cycle, which stage, and one
line per finished stage with its key figure.

:class:`CycleProgress` is the listener :func:`~alphaloop.cycle.run.run_cycles` calls; its
methods do nothing, so a listener overrides only what it shows. :func:`stage_line` is
the one-line summary of a finished stage's record (the Quant's reward on ``main``,
Risk's verdict, the merge, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alphaloop.records import (
    DeployRecord,
    Hypothesis,
    Implementation,
    MergeRecord,
    PerformanceReview,
    PlanRecord,
    ReportRecord,
    ReviewRecord,
    RiskReviewRecord,
    Stage,
    role_title,
)
from alphaloop.report.markdown import shorten

__all__ = ["CycleProgress", "stage_label", "stage_line"]

_LABELS = {
    Stage.PLAN: "PM plan", Stage.QUANT_REVIEW: "Quant review of main",
    Stage.HYPOTHESIS: "Quant hypothesis", Stage.IMPLEMENT: "Quant branch and PR",
    Stage.MERGE: "Merge gate", Stage.DEPLOY: "SRE deploy", Stage.REPORT: "PM report",
}
_WIDTH = 110


class CycleProgress:
    """Events of a run of cycles, in order; override the ones to show."""

    def warning(self, message: str) -> None:
        """Something found before the start that does not stop the cycle."""

    def cycle_started(self, index: int, count: int, cycle_id: str) -> None:
        """Cycle ``index`` (1-based) of ``count`` starts (or resumes) as ``cycle_id``."""

    def stage_started(self, stage: str) -> None:
        """``stage`` starts running (stages finished before a resume are not announced)."""

    def stage_finished(self, stage: str, seconds: float, line: str) -> None:
        """``stage`` finished after ``seconds``; ``line`` is :func:`stage_line` of it."""

    def cycle_finished(self, cycle_id: str, seconds: float) -> None:
        """``cycle_id`` ended (whatever its outcome) after ``seconds``."""


def stage_label(stage: str) -> str:
    """``quant_review`` -> ``Quant review of main``; a reviewer's stage -> ``Qa review``."""
    if stage in _LABELS:
        return _LABELS[Stage(stage)]
    role = stage.removesuffix("_review")
    return f"{role_title(role)} review" if role != stage else stage


def _plan(record: PlanRecord) -> str:
    line = (f"picked {record.task.id}: {record.task.title}" if record.task is not None
            else f"nothing to do: {record.reason}")
    escalated = ", ".join(e.task_id for e in record.escalations)
    return line + (f"; escalated {escalated}" if escalated else "")


def _quant_review(record: PerformanceReview) -> str:
    m = record.metrics
    return (f"main in-sample: Sharpe {m.sharpe:.2f}, max drawdown {m.max_drawdown:.1%}; "
            f"walk-forward reward {record.reward:.3f}" + (" (cached)" if record.cached else ""))


def _review(record: ReviewRecord) -> str:
    line = f"{record.verdict} (severity {record.severity})"
    if isinstance(record, RiskReviewRecord):
        main, branch = (record.main_metrics.get("walk_forward"),
                        record.branch_metrics.get("walk_forward"))
        if main is not None and branch is not None:
            line += f"; walk-forward reward {main.reward:.3f} -> {branch.reward:.3f}"
    return f"{line}: {record.summary}" if record.summary else line


def _merge(record: MergeRecord) -> str:
    if record.merged and record.merge_sha:
        return f"merged as {record.merge_sha[:10]}"
    human = " (a human must approve too)" if record.needs_human else ""
    return f"not merged{human}" + (f": {'; '.join(record.reasons)}" if record.reasons else "")


def _implementation(record: Implementation) -> str:
    return (f"PR #{record.pr_number} on {record.branch}, "
            f"{len(record.changed_files)} file(s) changed")


def _deploy(record: DeployRecord) -> str:
    return record.message or ("deployed" if record.deployed else "not deployed")


def _report(record: ReportRecord) -> str:
    return (f"committed {record.commit[:10]}: {record.walkthrough}, ledger entry, "
            f"{len(record.plots)} plot(s)")


#: How each kind of record is told in one line (a reviewer's record by its base class).
_DESCRIBE: tuple[tuple[type, Callable[[Any], str]], ...] = (
    (PlanRecord, _plan), (PerformanceReview, _quant_review),
    (Implementation, _implementation), (ReviewRecord, _review), (MergeRecord, _merge),
    (DeployRecord, _deploy), (ReportRecord, _report))


def stage_line(stage: str, record: Any) -> str:
    """One line saying what ``stage`` found or did, from its record (None: no record)."""
    if stage == Stage.HYPOTHESIS:
        return (record.headline if isinstance(record, Hypothesis)
                else "no untried hypothesis near main")
    describe = next((how for kind, how in _DESCRIBE if isinstance(record, kind)), None)
    if describe is not None:
        return shorten(describe(record), _WIDTH)
    return "done" if record is None else type(record).__name__
