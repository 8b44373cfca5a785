"""Asset-class allocation rules of the portfolio manager (spec 4.3.2).

:func:`allocate_classes` turns the profile's allocation bounds, the experts' class
views and the volatility regime into class weights (cash included) that sum to 1:

1. **Capacity.** A class's maximum is capped by the hard class limit and by what its
   tradable assets can hold under the single-asset limit; a class with no tradable
   asset gets nothing (a recorded fallback).
2. **Views.** A bullish class moves from its default toward its maximum, a bearish one
   toward its minimum, by ``tilt_strength * confidence`` of the distance; neutral stays
   at the default.
3. **Regime.** In a high-volatility regime risky classes move ``regime_tilt`` of the
   way to their minimum and bonds and cash the same share of the way to their maximum.
4. **Budget.** The targets are projected (Euclidean) onto ``min <= w <= max``,
   ``sum(w) = 1``; when the capped maxima cannot hold the whole portfolio, cash's
   maximum is raised to take the rest (a recorded fallback).

:func:`project_allocation` (step 4) is also applied to an LLM's proposed allocation, so
no answer can leave the bounds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from strategy.managers.context import ClassView
from strategy.optimizers import project_to_bounds
from strategy.records import CASH, Fallback

__all__ = [
    "DEFENSIVE_CLASSES",
    "AllocationSettings",
    "ClassRange",
    "allocate_classes",
    "class_ranges",
    "project_allocation",
]

DEFENSIVE_CLASSES = ("bonds", CASH)


class AllocationSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tilt_strength: float = Field(default=0.5, ge=0, le=1)
    regime_tilt: float = Field(default=0.5, ge=0, le=1)
    max_single_asset: float = Field(default=0.15, gt=0, le=1)
    max_asset_class: float = Field(default=0.50, gt=0, le=1)


class ClassRange(BaseModel):
    """A class's effective range after capacity limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float
    high: float
    default: float


def class_ranges(
    bounds: Mapping[str, object],
    tradable_counts: Mapping[str, int],
    settings: AllocationSettings,
) -> tuple[dict[str, ClassRange], list[Fallback]]:
    """Effective ranges per class (steps 1 and 4's cash relief)."""
    ranges: dict[str, ClassRange] = {}
    fallbacks: list[Fallback] = []
    for asset_class, b in bounds.items():
        low, high, default = (float(getattr(b, k)) for k in ("min", "max", "default"))
        if asset_class != CASH:
            n = int(tradable_counts.get(asset_class, 0))
            capacity = min(settings.max_asset_class, n * settings.max_single_asset)
            if n == 0 and high > 0:
                fallbacks.append(Fallback(
                    component="portfolio_manager.allocation",
                    reason=f"no tradable {asset_class} asset in the view",
                    action=f"{asset_class} gets 0 and its weight goes to the other classes"))
            high = min(high, capacity)
            low = min(low, high)
            default = min(max(default, low), high)
        ranges[asset_class] = ClassRange(low=low, high=high, default=default)
    ranges.setdefault(CASH, ClassRange(low=0.0, high=1.0, default=0.0))
    room = sum(r.high for r in ranges.values())
    if room < 1.0:
        cash = ranges[CASH]
        ranges[CASH] = ClassRange(low=cash.low, high=cash.high + (1.0 - room),
                                  default=cash.default)
        fallbacks.append(Fallback(
            component="portfolio_manager.allocation",
            reason=(f"the classes can hold only {room:.1%} of the portfolio within their "
                    "bounds and the risk limits"),
            action=f"cash's maximum raised to {ranges[CASH].high:.1%}"))
    return ranges, fallbacks


def project_allocation(targets: Mapping[str, float],
                       ranges: Mapping[str, ClassRange]) -> dict[str, float]:
    """The allocation within ``ranges`` summing to 1 nearest to ``targets``."""
    names = list(ranges)
    values = np.array([float(targets.get(n, ranges[n].default)) for n in names])
    values = np.where(np.isfinite(values), values, 0.0)
    lower = np.array([ranges[n].low for n in names])
    upper = np.array([ranges[n].high for n in names])
    weights = project_to_bounds(values, lower, upper, 1.0)
    return {n: float(w) for n, w in zip(names, weights, strict=True)}


def allocate_classes(
    bounds: Mapping[str, object],
    views: Mapping[str, ClassView],
    regime: str,
    tradable_counts: Mapping[str, int],
    settings: AllocationSettings,
) -> tuple[dict[str, float], list[str], list[Fallback]]:
    """Class weights incl. cash (sum 1), the reasons in words, and any fallbacks.

    ``bounds`` maps each class (and ``"cash"``) to an object with ``min``, ``max`` and
    ``default`` (e.g. :class:`strategy.config.ClassBounds`).
    """
    ranges, fallbacks = class_ranges(bounds, tradable_counts, settings)
    targets: dict[str, float] = {}
    reasons: list[str] = []
    for asset_class, r in ranges.items():
        target = r.default
        view = views.get(asset_class)
        if view is not None and asset_class != CASH and r.high > 0:
            k = settings.tilt_strength * float(np.clip(view.confidence, 0.0, 1.0))
            if view.view == "bullish":
                target = r.default + k * (r.high - r.default)
            elif view.view == "bearish":
                target = r.default - k * (r.default - r.low)
            if view.view != "neutral":
                reasons.append(f"{asset_class} {view.view} ({view.confidence:.0%}) -> "
                               f"{target:.1%} from default {r.default:.1%}")
        if regime == "high" and settings.regime_tilt > 0:
            s = settings.regime_tilt
            if asset_class in DEFENSIVE_CLASSES:
                target += s * (r.high - target)
            else:
                target -= s * (target - r.low)
        targets[asset_class] = target
    if regime == "high" and settings.regime_tilt > 0:
        reasons.append("high-volatility regime: bonds and cash raised, risky classes cut")
    return project_allocation(targets, ranges), reasons, fallbacks
