"""Every cycle of the ledger as one trial row: what ``alphaloop ledger list`` shows.

A cycle tries at most one hypothesis, so a trial is a cycle: its task, its hypothesis
(kind, title, parameter edits or patch), what became of it, the figures Risk recorded
(walk-forward reward, Sharpe and max drawdown of ``main`` and of the branch, the held-out
reward, the paired test of the claim) and why it was refused. Cycles that tried nothing
(idle, escalated, no hypothesis) are rows too, with no hypothesis and no figures.

:class:`TrialRow` is the ``--json`` shape (``trials`` of :data:`TRIALS_FORMAT`); its
field names are kept stable: fields may be added, never renamed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.records import ParamEdit, role_title
from alphaloop.report.history import CycleEntry, Side

__all__ = ["SORT_KEYS", "TRIALS_FORMAT", "SortKey", "TrialFigures", "TrialHypothesis",
           "TrialRow", "select_rows", "trial_row"]

#: The ``format`` of ``alphaloop ledger list --json``.
TRIALS_FORMAT = "alphaloop-trials/1"

SortKey = Literal["cycle", "date", "reward", "gain", "sharpe", "drawdown", "p", "outcome",
                  "task"]
SORT_KEYS: tuple[str, ...] = ("cycle", "date", "reward", "gain", "sharpe", "drawdown", "p",
                              "outcome", "task")
_DESCENDING = frozenset({"reward", "gain", "sharpe"})  # best first


class TrialHypothesis(BaseModel):
    """What the cycle tried."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    kind: Literal["parameters", "patch"]
    title: str
    statement: str
    edits: list[ParamEdit] = Field(default_factory=list)
    patch_name: str | None = None
    claim: str = Field(description="the claim Risk tested, e.g. 'reward up'")


class TrialFigures(BaseModel):
    """Risk's figures of the trial; ``None`` where the ledger has none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reward_main: float | None = Field(default=None, description="walk-forward reward")
    reward_branch: float | None = None
    sharpe_main: float | None = Field(default=None, description="walk-forward Sharpe")
    sharpe_branch: float | None = None
    max_drawdown_main: float | None = Field(default=None,
                                            description="walk-forward max drawdown")
    max_drawdown_branch: float | None = None
    holdout_reward_main: float | None = None
    holdout_reward_branch: float | None = None
    test_metric: str | None = Field(default=None, description="the claim's metric, as the "
                                                              "paired walk-forward test ran it")
    estimate: float | None = Field(default=None, description="branch - main of test_metric")
    interval: tuple[float, float] | None = None
    p_value: float | None = Field(default=None, description="one-sided p of the claimed "
                                                            "improvement (p_superior)")
    deflated_sharpe: float | None = None
    pbo: float | None = None
    holdout_reads: int | None = None

    @property
    def gain(self) -> float | None:
        """Branch minus main walk-forward reward."""
        if self.reward_main is None or self.reward_branch is None:
            return None
        return self.reward_branch - self.reward_main


class TrialRow(BaseModel):
    """One cycle's trial, as ``alphaloop ledger list`` shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle: str
    number: int
    date: dt.date | None = Field(description="the day the cycle was recorded")
    clock: dt.date | None = Field(default=None,
                                  description="the cycle's clock (data up to)")
    task: str | None = None
    outcome: str
    pr: int | None = None
    branch: str | None = None
    hypothesis: TrialHypothesis | None = None
    reviews: dict[str, str] = Field(default_factory=dict,
                                    description="reviewer -> verdict")
    figures: TrialFigures = Field(default_factory=TrialFigures)
    veto_reasons: list[str] = Field(default_factory=list)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _figures(entry: CycleEntry) -> TrialFigures:
    quant, risk = entry.quant_review, entry.risk_review
    fields: dict[str, object] = {}
    sides: tuple[Side, ...] = ("main", "branch")
    for side in sides:
        walk, held = entry.metrics(side, "walk-forward"), entry.metrics(side, "holdout")
        if walk is not None:
            fields.update({f"reward_{side}": walk.reward, f"sharpe_{side}": walk.sharpe,
                           f"max_drawdown_{side}": walk.max_drawdown})
        if held is not None:
            fields[f"holdout_reward_{side}"] = held.reward
    if "reward_main" not in fields and quant is not None and quant.folds:
        fields.update({
            "reward_main": quant.reward,
            "sharpe_main": sum(f.sharpe for f in quant.folds) / len(quant.folds),
            "max_drawdown_main": max(f.max_drawdown for f in quant.folds)})
    if risk is not None:
        fields.update({"deflated_sharpe": risk.deflated_sharpe, "pbo": risk.pbo,
                       "holdout_reads": risk.holdout_reads or None})
        claim = risk.claim or (entry.hypothesis.claim if entry.hypothesis else None)
        test = risk.walk_forward_test
        metric = claim.metric if claim is not None and not claim.no_effect else None
        if test is not None and metric is not None and metric in test.metrics:
            tested = test.metrics[metric]
            fields.update({"test_metric": metric, "estimate": tested.estimate,
                           "interval": (tested.ci_low, tested.ci_high),
                           "p_value": tested.p_superior})
    clean = {k: (_finite(v) if isinstance(v, float) else v) for k, v in fields.items()}
    return TrialFigures.model_validate(clean)


def _reasons(entry: CycleEntry) -> list[str]:
    """The findings of severity 2 or more of every review that vetoed, Risk's first."""
    reasons: list[str] = []
    reviews = {"risk_review": entry.risk_review, **entry.other_reviews}
    for stage, review in reviews.items():
        if review is None or review.verdict != "veto":
            continue
        role = stage.removesuffix("_review")
        prefix = "" if role == "risk" else f"{role_title(role)}: "
        found = [f"{prefix}{f.get('message', '')}" for f in review.findings
                 if int(f.get("severity", 0)) >= 2]
        reasons += found or [f"{prefix}{' '.join(review.summary.split())}"]
    if not reasons and entry.outcome is not None and entry.outcome.value == "vetoed":
        reasons.append(entry.veto_reason())
    return reasons


def trial_row(entry: CycleEntry) -> TrialRow:
    """The trial of one ledger entry."""
    hypothesis = None
    if entry.hypothesis is not None:
        h = entry.hypothesis
        claim = (entry.risk_review.claim if entry.risk_review and entry.risk_review.claim
                 else h.claim)
        hypothesis = TrialHypothesis(key=h.key, kind=h.kind, title=h.headline,
                                     statement=h.statement, edits=list(h.edits),
                                     patch_name=h.patch_name, claim=claim.text())
    reviews = {stage.removesuffix("_review"): review.verdict
               for stage, review in {"risk_review": entry.risk_review,
                                     **entry.other_reviews}.items() if review is not None}
    return TrialRow(
        cycle=entry.cycle_id, number=entry.number,
        date=entry.created.date() if entry.created is not None else None,
        clock=entry.plan.clock if entry.plan is not None else None,
        task=entry.task_id, outcome=entry.outcome.value if entry.outcome else "unfinished",
        pr=entry.pr_number, branch=entry.implement.branch if entry.implement else None,
        hypothesis=hypothesis, reviews=reviews, figures=_figures(entry),
        veto_reasons=_reasons(entry))


def _since(text: str) -> Callable[[TrialRow], bool]:
    """``--since``: a cycle id (``c0003`` or ``3``) or a date (``2024-05-01``)."""
    found = re.fullmatch(r"c?(\d{1,6})", text.strip())
    if found:
        first = int(found.group(1))
        return lambda row: row.number >= first
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r} is neither a cycle (c0003) nor a date "
                         f"(YYYY-MM-DD)") from None
    return lambda row: row.date is not None and row.date >= day


def _sort_value(row: TrialRow, key: str) -> object:
    figures = row.figures
    return {"cycle": row.number, "date": row.date, "reward": figures.reward_branch,
            "gain": figures.gain, "sharpe": figures.sharpe_branch,
            "drawdown": figures.max_drawdown_branch, "p": figures.p_value,
            "outcome": row.outcome, "task": row.task}[key]


def select_rows(rows: Iterable[TrialRow], *, tasks: Sequence[str] = (),
                outcomes: Sequence[str] = (), since: str | None = None,
                sort: str = "cycle", reverse: bool = False) -> list[TrialRow]:
    """The rows matching every filter, sorted by ``sort`` (best first for reward, gain
    and Sharpe; lowest first otherwise; rows without the value last either way).

    Raises :class:`ValueError` for a ``since`` that is neither a cycle nor a date, or an
    unknown sort key.
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown sort key {sort!r}; use one of {', '.join(SORT_KEYS)}")
    chosen = list(rows)
    if tasks:
        wanted = {t.lower() for t in tasks}
        chosen = [r for r in chosen if r.task is not None and r.task.lower() in wanted]
    if outcomes:
        chosen = [r for r in chosen if r.outcome in set(outcomes)]
    if since is not None:
        chosen = list(filter(_since(since), chosen))
    present = [r for r in chosen if _sort_value(r, sort) is not None]
    missing = [r for r in chosen if _sort_value(r, sort) is None]
    descending = (sort in _DESCENDING) != reverse
    present.sort(key=lambda r: (_sort_value(r, sort), r.number), reverse=descending)
    return present + missing
