"""The stock expert: Fama-French five factors (spec 3.3.1)."""

from __future__ import annotations

from strategy.experts.base import BaseExpert
from strategy.factors.stock import StockFactorScorer

__all__ = ["StockExpert"]


class StockExpert(BaseExpert):
    asset_class = "stocks"
    name = "Stock Expert"
    asset_label = "stock"
    expertise = (
        "Equity fundamental analysis",
        "The Fama-French five-factor model",
        "Sector rotation",
        "Valuation (P/E, P/B, EV/EBITDA)",
        "Earnings quality",
    )
    scorer_class = StockFactorScorer
