"""Reading the experts' reports into the :class:`ClassView` the managers use.

A report's per-asset action becomes a strength in [-1, 1] (its weight adjustment:
``SELL_100`` is -1, ``BUY_50`` is +0.5), its confidence and factor alpha are kept, and
its factor exposures are kept for attribution. Assets the expert spoke about but the
screen excluded are simply never weighted by the managers.
"""

from __future__ import annotations

from collections.abc import Iterable

from strategy.experts.records import ExpertReport
from strategy.managers.context import ClassView

__all__ = ["class_view", "class_views"]


def class_view(report: ExpertReport) -> ClassView:
    """One report as a :class:`ClassView`."""
    strengths: dict[str, float] = {}
    confidences: dict[str, float] = {}
    alphas: dict[str, float] = {}
    exposures: dict[str, dict[str, float]] = {}
    for rec in report.recommendations:
        strengths[rec.symbol] = rec.action.weight_adjustment
        confidences[rec.symbol] = rec.confidence
        if rec.factor_alpha is not None:
            alphas[rec.symbol] = rec.factor_alpha
        if rec.factor_score is not None:
            exposures[rec.symbol] = dict(rec.factor_score.exposures)
    return ClassView(
        asset_class=report.asset_class, expert=report.expert_name, view=report.overall_view,
        confidence=report.confidence, strengths=strengths, confidences=confidences,
        alphas=alphas, exposures=exposures, top_picks=tuple(report.top_picks(3)),
        source=report.mode)


def class_views(reports: Iterable[ExpertReport]) -> dict[str, ClassView]:
    """Class -> view for every report."""
    return {r.asset_class: class_view(r) for r in reports}
