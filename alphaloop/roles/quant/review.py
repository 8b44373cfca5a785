"""The Quant's performance review of ``main``: metrics, attribution and a diagnosis.

The review is the "diagnosis" step of the self-calibration loop: it backtests ``main`` on
the in-sample window only (the Quant's data ends before the held-out window), splits the
return by asset class, by expert and by factor, and turns what it sees into statements
and a *focus*: the tunables the search should favour.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from alphaloop.data.panel import MarketData
from alphaloop.evaluation import Evaluator, fold_scores
from alphaloop.harness import BacktestResult
from alphaloop.records import PerformanceReview
from alphaloop.roles.base import InSample

__all__ = ["attribution", "diagnose", "review_main", "task_focus"]

_CLASS_TUNABLES = {
    "stocks": ("STOCK_WEIGHT_MOMENTUM", "STOCK_WEIGHT_VALUE", "STOCK_WEIGHT_PROFITABILITY"),
    "bonds": ("BOND_WEIGHT_CARRY", "BOND_WEIGHT_MOMENTUM", "BOND_WEIGHT_VALUE"),
    "commodities": ("COMMODITY_WEIGHT_TERM_STRUCTURE", "COMMODITY_WEIGHT_MOMENTUM"),
    "reits": ("REITS_WEIGHT_NAV_DISCOUNT", "REITS_WEIGHT_SECTOR_OUTLOOK"),
    "crypto": ("CRYPTO_WEIGHT_CRASH_RISK", "CRYPTO_WEIGHT_NETWORK_EFFECT"),
}


def attribution(result: BacktestResult, data: MarketData) -> dict[str, dict[str, float]]:
    """Annualised contribution to return by asset class, expert and factor.

    By class: sum over days of yesterday's weight times today's asset return (annualised).
    By expert: the average class tilt each expert caused (``expert_contributions`` of the
    decision records); by factor: the portfolio's average factor exposure
    (``factor_exposures``). Records without those keys contribute nothing.
    """
    first = data.index_of(result.dates[0])
    rows = np.arange(first, first + len(result.dates))
    weights = np.asarray(result.weights)
    held = np.vstack([weights[:1] * 0.0, weights[:-1]])
    contrib = held * data.returns[rows]
    by_class: dict[str, float] = defaultdict(float)
    for col, asset in enumerate(data.assets):
        by_class[asset.asset_class] += float(contrib[:, col].mean() * 252)
    out: dict[str, dict[str, float]] = {"asset_class": dict(by_class)}
    experts: dict[str, list[float]] = defaultdict(list)
    factors: dict[str, list[float]] = defaultdict(list)
    for decision in result.decisions:
        for item in decision.record.get("expert_contributions", []) or []:
            if isinstance(item, Mapping) and isinstance(item.get("class_tilt"), int | float):
                experts[str(item.get("expert"))].append(float(item["class_tilt"]))
        exposures = decision.record.get("factor_exposures", {}) or {}
        if isinstance(exposures, Mapping):
            for name, value in exposures.items():
                if isinstance(value, int | float) and np.isfinite(value):
                    factors[str(name)].append(float(value))
    out["expert"] = {k: float(np.mean(v)) for k, v in sorted(experts.items())}
    out["factor"] = {k: float(np.mean(v)) for k, v in sorted(factors.items())}
    return out


def diagnose(review: PerformanceReview, *, target_volatility: float,
             drawdown_trigger: float) -> tuple[list[str], dict[str, float]]:
    """Statements about ``main`` and the tunables they point at (weights 0-1)."""
    m = review.metrics
    notes: list[str] = []
    focus: dict[str, float] = defaultdict(float)
    worst_fold = max((f.max_drawdown for f in review.folds), default=m.max_drawdown)
    if worst_fold > drawdown_trigger:
        notes.append(f"walk-forward drawdown reaches {worst_fold:.1%}, past the "
                     f"{drawdown_trigger:.0%} trigger: cut exposure sooner in stress")
        for name in ("DRAWDOWN_DERISK_FACTOR", "DRAWDOWN_COOLDOWN_DAYS",
                     "VOLATILITY_SCALING_STRENGTH", "REGIME_TILT_STRENGTH",
                     "HEDGE_VAR_TRIGGER", "HEDGE_VIX_TRIGGER", "HEDGE_MAX_RATIO"):
            focus[name] += 1.0
    if m.annual_volatility > target_volatility:
        notes.append(f"volatility {m.annual_volatility:.1%} is above the "
                     f"{target_volatility:.0%} target")
        for name in ("VOLATILITY_SCALING_STRENGTH", "RISK_AVERSION", "EXPERT_TILT_STRENGTH"):
            focus[name] += 0.7
    if m.turnover > 2.0:
        notes.append(f"turnover of {m.turnover:.1f}x a year costs about "
                     f"{m.turnover * 0.0015:.2%} a year")
        for name in ("REBALANCE_THRESHOLD", "COVARIANCE_LOOKBACK_DAYS",
                     "VOLATILITY_LOOKBACK_DAYS"):
            focus[name] += 0.7
    by_class = review.attribution.get("asset_class", {})
    for cls, value in sorted(by_class.items(), key=lambda kv: kv[1])[:2]:
        if value < 0:
            notes.append(f"{cls} cost {-value:.2%} a year")
            for name in _CLASS_TUNABLES.get(cls, ()):
                focus[name] += 0.5
            focus["EXPERT_TILT_STRENGTH"] += 0.3
    rewards = [f.reward for f in review.folds]
    if len(rewards) >= 2 and np.std(rewards) > abs(np.mean(rewards)):
        notes.append("the reward is unstable across folds: prefer smoother signals")
        for name in ("MOMENTUM_LOOKBACK_DAYS", "COVARIANCE_LOOKBACK_DAYS"):
            focus[name] += 0.4
    if not notes:
        notes.append("no single weakness dominates: explore small moves of any tunable")
    top = max(focus.values(), default=1.0)
    return notes, {k: v / top for k, v in focus.items()}


_GOAL_TUNABLES = {
    "max_drawdown": ("DRAWDOWN_DERISK_FACTOR", "DRAWDOWN_COOLDOWN_DAYS",
                     "VOLATILITY_SCALING_STRENGTH", "REGIME_TILT_STRENGTH",
                     "HEDGE_VAR_TRIGGER", "HEDGE_MAX_RATIO", "HEDGE_VIX_TRIGGER",
                     "CASH_BUFFER"),
    "annual_volatility": ("VOLATILITY_SCALING_STRENGTH", "RISK_AVERSION"),
    "turnover": ("REBALANCE_THRESHOLD", "COVARIANCE_LOOKBACK_DAYS", "MOMENTUM_LOOKBACK_DAYS"),
    "sharpe": ("EXPERT_TILT_STRENGTH", "MOMENTUM_LOOKBACK_DAYS", "RISK_AVERSION"),
    "reward": ("EXPERT_TILT_STRENGTH", "DRAWDOWN_DERISK_FACTOR", "RISK_AVERSION"),
    "annual_return": ("EXPERT_TILT_STRENGTH", "STOCK_WEIGHT_MOMENTUM", "RISK_AVERSION"),
    "calmar": ("DRAWDOWN_DERISK_FACTOR", "EXPERT_TILT_STRENGTH"),
}


def task_focus(goal: str) -> dict[str, float]:
    """Tunables a task's goal points at (``goal`` as written in task.md), weight 1."""
    return {name: 1.0 for metric, names in _GOAL_TUNABLES.items() if metric in goal
            for name in names}


def review_main(evaluator: Evaluator, sha: str, view: InSample, *, target_volatility: float,
                drawdown_trigger: float) -> PerformanceReview:
    """Backtest ``main`` over the in-sample window (cached) and review it."""
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
    notes, focus = diagnose(review, target_volatility=target_volatility,
                            drawdown_trigger=drawdown_trigger)
    return review.model_copy(update={"diagnosis": notes, "focus": focus})
