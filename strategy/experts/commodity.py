"""The commodity expert: term structure, momentum and basis (spec 3.3)."""

from __future__ import annotations

from strategy.experts.base import BaseExpert
from strategy.factors.commodity import CommodityFactorScorer

__all__ = ["CommodityExpert"]


class CommodityExpert(BaseExpert):
    asset_class = "commodities"
    name = "Commodity Expert"
    asset_label = "commodity"
    expertise = (
        "Futures term structure (backwardation and contango)",
        "Roll yield and carry",
        "Spot-futures basis",
        "Commodity momentum and trend following",
        "Supply and demand cycles",
    )
    scorer_class = CommodityFactorScorer
