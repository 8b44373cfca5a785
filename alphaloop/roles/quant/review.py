"""The Quant's performance review of ``main``: metrics, attribution and a diagnosis.

The review is the "diagnosis" step of the self-calibration loop: it backtests ``main`` on
the in-sample window only (the Quant's data ends before the held-out window), splits the
return by asset class, by expert and by factor, and turns what it sees into statements
and a *focus*: the tunables the search should favour.

The focus names no tunable here. Each weakness asks for the tags the strategy declares on
its tunables (``tags`` in ``strategy/parameters.py``): a drawdown past the trigger for
``drawdown`` (what acts as losses mount), volatility above target for
``annual_volatility`` and ``conviction``, heavy turnover for ``rebalancing`` and
``risk-window``, a losing asset class for that class's ``driver`` tunables and
``conviction``, unstable folds for ``smoothing``; a task's goal for the tag of each
metric it names. A strategy that tags nothing gets no focus: the search explores evenly.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from alphaloop.evaluation import Evaluator, fold_scores
from alphaloop.evaluation.attribution import attribution
from alphaloop.evaluation.space import ParamSpace
from alphaloop.records import LiveRecord, PerformanceReview
from alphaloop.roles.base import InSample

__all__ = ["GOAL_METRICS", "attribution", "diagnose", "review_main", "task_focus"]

GOAL_METRICS: tuple[str, ...] = ("max_drawdown", "annual_volatility", "turnover", "sharpe",
                                 "reward", "annual_return", "calmar")
"""Metrics a task's goal may name; each is also the tag of the tunables that move it."""


def diagnose(review: PerformanceReview, *, space: ParamSpace, target_volatility: float,
             drawdown_trigger: float) -> tuple[list[str], dict[str, float]]:
    """Statements about ``main`` and the tunables of ``space`` they point at (weights 0-1),
    found by their tags."""
    m = review.metrics
    notes: list[str] = []
    focus: dict[str, float] = defaultdict(float)
    worst_fold = max((f.max_drawdown for f in review.folds), default=m.max_drawdown)
    if worst_fold > drawdown_trigger:
        notes.append(f"walk-forward drawdown reaches {worst_fold:.1%}, past the "
                     f"{drawdown_trigger:.0%} trigger: cut exposure sooner in stress")
        for name in space.tagged("drawdown"):
            focus[name] += 1.0
    if m.annual_volatility > target_volatility:
        notes.append(f"volatility {m.annual_volatility:.1%} is above the "
                     f"{target_volatility:.0%} target")
        for name in space.tagged("annual_volatility", "conviction"):
            focus[name] += 0.7
    if m.turnover > 2.0:
        notes.append(f"turnover of {m.turnover:.1f}x a year costs about "
                     f"{m.turnover * 0.0015:.2%} a year")
        for name in space.tagged("rebalancing", "risk-window"):
            focus[name] += 0.7
    by_class = review.attribution.get("asset_class", {})
    for cls, value in sorted(by_class.items(), key=lambda kv: kv[1])[:2]:
        if value < 0:
            notes.append(f"{cls} cost {-value:.2%} a year")
            for name in space.tagged("driver", asset_class=cls):
                focus[name] += 0.5
            for name in space.tagged("conviction"):
                focus[name] += 0.3
    rewards = [f.reward for f in review.folds]
    if len(rewards) >= 2 and np.std(rewards) > abs(np.mean(rewards)):
        notes.append("the reward is unstable across folds: prefer smoother signals")
        for name in space.tagged("smoothing"):
            focus[name] += 0.4
    if not notes:
        notes.append("no single weakness dominates: explore small moves of any tunable")
    top = max(focus.values(), default=1.0)
    return notes, {k: v / top for k, v in focus.items()}


def task_focus(goal: str, space: ParamSpace) -> dict[str, float]:
    """Tunables of ``space`` a task's goal points at (``goal`` as written in task.md),
    weight 1: those tagged with a metric the goal names."""
    return {name: 1.0 for metric in GOAL_METRICS if metric in goal
            for name in space.tagged(metric)}


def review_main(evaluator: Evaluator, sha: str, view: InSample, *, target_volatility: float,
                drawdown_trigger: float, space: ParamSpace | None = None,
                live: LiveRecord | None = None) -> PerformanceReview:
    """Backtest ``main`` over the in-sample window (cached) and review it.

    ``space`` is ``main``'s declared parameter space, whose tags the diagnosis reads
    (default: read from ``sha`` through the evaluator). ``live`` is what the running
    deployment did over its last live period: the review starts from it.
    """
    started = time.monotonic()
    data = view.data
    cached = evaluator.is_cached(sha, data, view.window)
    result = evaluator.backtest(sha, data, view.window)
    lam = evaluator.settings.reward_lambda
    folds = fold_scores(result, view.folds, lam)
    review = PerformanceReview(
        sha=sha, tree_hash=evaluator.strategy_tree(sha), data_hash=data.content_hash(),
        metrics=evaluator.metrics(result, "in_sample"), folds=folds,
        reward=float(np.mean([f.reward for f in folds])) if folds else float("nan"),
        attribution=attribution(result, data), diagnosis=[], cached=cached,
        duration_s=time.monotonic() - started)
    notes, focus = diagnose(review, space=space or evaluator.param_space(sha),
                            target_volatility=target_volatility,
                            drawdown_trigger=drawdown_trigger)
    if live is not None and live.metrics is not None:
        notes = [_live_note(live), *notes]
    return review.model_copy(update={"diagnosis": notes, "focus": focus, "live": live})


def _live_note(live: LiveRecord) -> str:
    """One line on the last live period: its reward, drawdown and best and worst class."""
    m = live.metrics
    assert m is not None
    ranked = sorted(live.attribution.items(), key=lambda kv: kv[1])
    classes = (f"; best {ranked[-1][0]} ({ranked[-1][1]:+.1%} a year), worst {ranked[0][0]} "
               f"({ranked[0][1]:+.1%})" if len(ranked) > 1 else "")
    return (f"live {live.start} .. {live.end} ({live.bars} bars, {live.backend}): reward "
            f"{m.reward:+.3f}, return {m.annual_return:+.1%} a year, max drawdown "
            f"{m.max_drawdown:.1%}{classes}")
