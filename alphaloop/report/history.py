"""Past cycles as the PM reads them from the ledger.

The ledger keeps one JSON envelope per cycle (``ledger/cycles/c0001.json``)::

    {"format": ..., "cycle_id": "c0001", "created": "2024-05-01T12:00:00+00:00",
     "records": {"plan": {...}, "quant_review": {...}, ..., "summary": {...}},
     "digest": ...}

:meth:`CycleEntry.from_envelope` validates each stage's record with its model from
:mod:`alphaloop.records` (a stage that did not run is ``None``); record names the
PM does not use are ignored. Checking the digest is the ledger's job, not this module's.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.errors import Failure
from alphaloop.records import (
    STAGE_MODELS,
    CycleSummary,
    DeployRecord,
    Hypothesis,
    Implementation,
    MergeRecord,
    OtherReviewRecord,
    Outcome,
    PerformanceReview,
    PlanRecord,
    ReportRecord,
    RiskReviewRecord,
    RunMetrics,
    role_title,
)

__all__ = ["CycleEntry", "HistoryError", "Side", "WindowName", "load_history"]

Side = Literal["main", "branch"]
WindowName = Literal["in-sample", "walk-forward", "holdout"]

_WINDOW_ALIASES: dict[str, frozenset[str]] = {
    "in-sample": frozenset({"in-sample", "insample"}),
    "walk-forward": frozenset({"walk-forward", "walkforward"}),
    "holdout": frozenset({"holdout", "hold-out", "held-out", "out-of-sample", "oos"}),
}


class HistoryError(Failure, ValueError):
    """A ledger entry cannot be read; the message names the cycle and the record."""


def _restore_nan(value: Any, annotation: Any) -> Any:
    """Give back NaN where a record's float field holds null.

    The ledger stores NaN and infinite numbers as JSON null; a field typed ``float`` (a
    Sharpe ratio of a flat series, say) must read back as NaN, not fail validation.
    Fields typed ``float | None`` keep their None.
    """
    if value is None:
        return math.nan if annotation is float else None
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(value, Mapping):
            return value
        fields = annotation.model_fields
        return {k: _restore_nan(v, fields[k].annotation) if k in fields else v
                for k, v in value.items()}
    if origin is dict and isinstance(value, Mapping):
        inner = get_args(annotation)[1]
        return {k: _restore_nan(v, inner) for k, v in value.items()}
    if origin in (list, tuple) and isinstance(value, list | tuple):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return [_restore_nan(v, args[0]) for v in value] if len(args) == 1 else value
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _restore_nan(value, options[0]) if len(options) == 1 else value
    return value


def _window_key(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def _pick_window(metrics: Mapping[str, RunMetrics], window: WindowName) -> RunMetrics | None:
    aliases = _WINDOW_ALIASES[window]
    for key, value in metrics.items():
        if _window_key(key) in aliases:
            return value
    for value in metrics.values():
        if _window_key(value.label) in aliases:
            return value
    return None


class CycleEntry(BaseModel):
    """One cycle's records; stages that did not run (or have not yet) are ``None``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_id: str
    created: datetime | None = None
    plan: PlanRecord | None = None
    quant_review: PerformanceReview | None = None
    hypothesis: Hypothesis | None = None
    implement: Implementation | None = None
    risk_review: RiskReviewRecord | None = None
    merge: MergeRecord | None = None
    deploy: DeployRecord | None = None
    report: ReportRecord | None = None
    summary: CycleSummary | None = None
    other_reviews: dict[str, OtherReviewRecord] = Field(
        default_factory=dict, description="reviews of reviewers other than Risk (the "
                                          "Engineer's, or a reviewer of one's own), by stage "
                                          "(``<role>_review``), in review order")

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any] | BaseModel) -> CycleEntry:
        """Read a ledger envelope (a mapping or a model); see the module docstring."""
        if isinstance(envelope, CycleEntry):
            return envelope
        data = envelope.model_dump() if isinstance(envelope, BaseModel) else dict(envelope)
        cycle_id = data.get("cycle_id")
        if not isinstance(cycle_id, str) or not cycle_id:
            raise HistoryError(f"a ledger entry has no cycle_id (keys: {sorted(data)}); "
                               "is it a cycle envelope from ledger/cycles/?")
        records = data.get("records")
        records = {} if records is None else records
        if not isinstance(records, Mapping):
            raise HistoryError(f"cycle {cycle_id}: 'records' must be an object of stage "
                               f"records, not {type(records).__name__}")
        fields: dict[str, Any] = {"cycle_id": cycle_id, "created": data.get("created")}
        for name, model in STAGE_MODELS.items():
            value = records.get(name)
            if value is None or name not in cls.model_fields:
                continue
            if isinstance(value, BaseModel):
                value = value.model_dump()
            try:
                fields[name] = model.model_validate(_restore_nan(value, model))
            except ValidationError as error:
                raise HistoryError(f"cycle {cycle_id}: the '{name}' record does not match "
                                   f"{model.__name__}: {error}") from None
        others: dict[str, OtherReviewRecord] = {}
        for name, value in records.items():
            if name in cls.model_fields or not name.endswith("_review") or value is None:
                continue
            if isinstance(value, BaseModel):
                value = value.model_dump()
            try:  # a reviewer this version knows is checked by its own model first
                if name in STAGE_MODELS:
                    STAGE_MODELS[name].model_validate(_restore_nan(value, STAGE_MODELS[name]))
                others[name] = OtherReviewRecord.model_validate(value)
            except ValidationError as error:
                raise HistoryError(f"cycle {cycle_id}: the '{name}' record is not a review: "
                                   f"{error}") from None
        fields["other_reviews"] = others
        try:
            return cls.model_validate(fields)
        except ValidationError as error:
            raise HistoryError(f"cycle {cycle_id}: {error}") from None

    # -- what the PM asks of a cycle ------------------------------------------------
    @property
    def number(self) -> int:
        found = re.search(r"(\d+)$", self.cycle_id)
        return int(found.group(1)) if found else -1

    @property
    def task_id(self) -> str | None:
        if self.plan is not None and self.plan.task is not None:
            return self.plan.task.id
        if self.summary is not None and self.summary.task_id:
            return self.summary.task_id
        return self.hypothesis.task_id if self.hypothesis is not None else None

    @property
    def outcome(self) -> Outcome | None:
        return self.summary.outcome if self.summary is not None else None

    @property
    def day(self) -> date | None:
        if self.created is not None:
            return self.created.date()
        return self.plan.clock if self.plan is not None else None

    @property
    def pr_number(self) -> int | None:
        if self.implement is not None:
            return self.implement.pr_number
        return self.summary.pr_number if self.summary is not None else None

    @property
    def escalated_tasks(self) -> tuple[str, ...]:
        """Tasks this cycle's plan escalated to a human."""
        if self.plan is None:
            return ()
        return tuple(e.task_id for e in self.plan.escalations)

    def metrics(self, side: Side, window: WindowName) -> RunMetrics | None:
        """Figures of ``main`` or the branch over a window, as the reviews recorded them.

        Risk's review holds both sides for each window (keys ``in_sample``,
        ``walk_forward`` and ``holdout``); without it, ``main``'s in-sample figures come
        from the Quant's review. ``walk-forward`` figures are the in-sample folds taken
        together; their ``reward`` is the one the Quant aims at.
        """
        if self.risk_review is not None:
            source = (self.risk_review.main_metrics if side == "main"
                      else self.risk_review.branch_metrics)
            found = _pick_window(source, window)
            if found is not None:
                return found
        if side == "main" and window == "in-sample" and self.quant_review is not None:
            return self.quant_review.metrics
        return None

    def veto_reason(self) -> str:
        """Why this cycle's change was refused, in one line."""
        if self.risk_review is not None and self.risk_review.verdict == "veto":
            return " ".join(self.risk_review.summary.split()) or "vetoed by Risk"
        for stage, review in self.other_reviews.items():
            if review.verdict == "veto":
                role = role_title(stage.removesuffix("_review"))
                return f"{role}: " + (" ".join(review.summary.split()) or "vetoed")
        if self.summary is not None and self.summary.message:
            return " ".join(self.summary.message.split())
        return "vetoed (no reason recorded)"


def load_history(entries: Iterable[Mapping[str, Any] | BaseModel]) -> tuple[CycleEntry, ...]:
    """Ledger envelopes as :class:`CycleEntry`, oldest first, one per cycle id.

    When the same cycle appears twice the later one in ``entries`` wins (a resumed
    cycle's newer envelope).
    """
    by_id: dict[str, CycleEntry] = {}
    for envelope in entries:
        entry = CycleEntry.from_envelope(envelope)
        by_id[entry.cycle_id] = entry
    return tuple(sorted(by_id.values(), key=lambda e: (e.number, e.cycle_id)))
