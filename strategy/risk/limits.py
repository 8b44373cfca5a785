"""Risk limits and the projection that makes any weights respect the hard ones.

Hard limits (spec 2.4 and appendix E.1) are never broken by the engine's output:

- a single asset holds at most ``max_single_asset`` of the portfolio;
- an asset class (cash excluded) holds at most ``max_asset_class``;
- the portfolio's daily 95% VaR is at most ``max_portfolio_var_95``;
- weights are non-negative and sum to at most 1 (the rest is cash).

(The drawdown trigger is a rule on the portfolio's history, applied by the controller.)

:func:`enforce_hard_limits` only ever *removes* weight, and what it removes goes to
cash: it clips single assets, scales down classes over their cap, then scales the whole
book down until VaR fits (VaR is positively homogeneous, so one scale is exact). None of
these steps can undo an earlier one, yet the result is verified and the loop repeated
in case of rounding; if it still failed the answer would be all cash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from strategy.records import RiskCheck

__all__ = ["HARD_TOLERANCE", "RiskLimits", "enforce_hard_limits", "hard_limit_breaches"]

HARD_TOLERANCE = 1e-9
"""Slack allowed when checking a hard limit (rounding only)."""

_MARGIN = 1e-10


class RiskLimits(BaseModel):
    """The controller's limits; defaults are the spec's (section 2.4)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_single_asset: float = Field(default=0.15, gt=0, le=1)
    max_asset_class: float = Field(default=0.50, gt=0, le=1)
    max_drawdown_trigger: float = Field(default=0.15, gt=0, lt=1)
    max_portfolio_var_95: float = Field(default=0.03, gt=0)
    target_volatility: float = Field(default=0.12, gt=0)
    max_correlation_cluster: float = Field(default=0.60, gt=-1, le=1)
    min_diversification_ratio: float = Field(default=1.2, ge=1)

    @classmethod
    def from_config(cls, risk: object) -> RiskLimits:
        """Read the same-named attributes of a config section (e.g. ``FinSageConfig.risk``)."""
        values = {name: getattr(risk, name) for name in cls.model_fields if hasattr(risk, name)}
        return cls(**values)


def _class_sums(w: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    sums: dict[str, float] = {}
    for weight, asset_class in zip(w, classes, strict=True):
        sums[asset_class] = sums.get(asset_class, 0.0) + float(weight)
    return sums


def hard_limit_breaches(
    w: np.ndarray,
    classes: Sequence[str],
    limits: RiskLimits,
    value_at_risk: Callable[[np.ndarray], float],
) -> list[str]:
    """Every hard limit ``w`` breaks, in words (empty when it respects them all)."""
    out: list[str] = []
    if not np.all(np.isfinite(w)):
        return ["weights hold NaN or infinite values"]
    if np.any(w < -HARD_TOLERANCE):
        out.append(f"negative weight {float(w.min()):.6g}")
    if float(w.sum()) > 1.0 + HARD_TOLERANCE:
        out.append(f"weights sum to {float(w.sum()):.6g} > 1")
    if w.size and float(w.max()) > limits.max_single_asset + HARD_TOLERANCE:
        out.append(f"single asset at {float(w.max()):.6g} > {limits.max_single_asset:g}")
    for asset_class, total in _class_sums(w, classes).items():
        if asset_class != "cash" and total > limits.max_asset_class + HARD_TOLERANCE:
            out.append(f"class {asset_class} at {total:.6g} > {limits.max_asset_class:g}")
    var = value_at_risk(w)
    if var > limits.max_portfolio_var_95 + HARD_TOLERANCE:
        out.append(f"95% VaR {var:.6g} > {limits.max_portfolio_var_95:g}")
    return out


def _project_once(w: np.ndarray, classes: Sequence[str], limits: RiskLimits,
                  value_at_risk: Callable[[np.ndarray], float]) -> np.ndarray:
    w = np.where(np.isfinite(w), w, 0.0)
    w = np.clip(w, 0.0, None)
    total = float(w.sum())
    if total > 1.0:
        w = w / total * (1.0 - _MARGIN)
    w = np.minimum(w, limits.max_single_asset)
    cls = np.asarray(classes)
    for asset_class, class_total in _class_sums(w, classes).items():
        if asset_class != "cash" and class_total > limits.max_asset_class:
            w[cls == asset_class] *= limits.max_asset_class / class_total * (1.0 - _MARGIN)
    var = value_at_risk(w)
    if var > limits.max_portfolio_var_95:
        w = w * (limits.max_portfolio_var_95 / var) * (1.0 - 1e-9)
    return w


def enforce_hard_limits(
    weights: np.ndarray,
    classes: Sequence[str],
    limits: RiskLimits,
    value_at_risk: Callable[[np.ndarray], float],
) -> tuple[np.ndarray, list[RiskCheck]]:
    """Project ``weights`` onto the hard limits, moving what is removed to cash.

    Args:
        weights: one weight per asset (NaN counts as zero).
        classes: the asset class of each weight.
        limits: the limits to meet.
        value_at_risk: daily 95% VaR of a weight vector, positively homogeneous.

    Returns:
        The projected weights and one :class:`RiskCheck` per hard rule.
    """
    before = np.where(np.isfinite(weights), np.asarray(weights, dtype=float), 0.0)
    before = np.clip(before, 0.0, None)
    w = before.copy()
    for _ in range(5):
        w = _project_once(w, classes, limits, value_at_risk)
        if not hard_limit_breaches(w, classes, limits, value_at_risk):
            break
    else:
        w = np.zeros_like(w)
    return w, _checks(before, w, classes, limits, value_at_risk)


def _checks(before: np.ndarray, after: np.ndarray, classes: Sequence[str], limits: RiskLimits,
            value_at_risk: Callable[[np.ndarray], float]) -> list[RiskCheck]:
    def biggest_class(w: np.ndarray) -> float:
        sums = [v for k, v in _class_sums(w, classes).items() if k != "cash"]
        return max(sums, default=0.0)

    rules = (
        ("single_asset", limits.max_single_asset,
         lambda w: float(w.max()) if w.size else 0.0),
        ("asset_class", limits.max_asset_class, biggest_class),
        ("var_95", limits.max_portfolio_var_95, value_at_risk),
        ("gross_exposure", 1.0, lambda w: float(w.sum())),
    )
    out = []
    for name, limit, measure in rules:
        b, a = float(measure(before)), float(measure(after))
        adjusted = b > limit + HARD_TOLERANCE
        out.append(RiskCheck(
            name=name, kind="hard", limit=float(limit), before=b, after=a,
            status="adjusted" if adjusted else "ok",
            message=(f"{name} was {b:.4g}, above the limit {limit:g}; reduced to {a:.4g} "
                     "with the excess held in cash") if adjusted else "",
        ))
    return out
