"""The bond expert: carry, value, low risk and momentum (spec 3.3)."""

from __future__ import annotations

from strategy.experts.base import BaseExpert
from strategy.factors.bond import BondFactorScorer

__all__ = ["BondExpert"]


class BondExpert(BaseExpert):
    asset_class = "bonds"
    name = "Bond Expert"
    asset_label = "bond"
    expertise = (
        "Yield-curve and interest-rate analysis",
        "Carry and roll-down",
        "Credit spreads and credit cycles",
        "Duration and convexity risk",
        "Bond momentum",
    )
    scorer_class = BondFactorScorer
