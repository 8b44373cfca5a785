"""The REITs expert: NAV discount, sector outlook and idiosyncratic risk (spec 3.3)."""

from __future__ import annotations

from strategy.experts.base import BaseExpert
from strategy.factors.reits import REITsFactorScorer

__all__ = ["REITsExpert"]


class REITsExpert(BaseExpert):
    asset_class = "reits"
    name = "REITs Expert"
    asset_label = "REIT"
    expertise = (
        "Net asset value premiums and discounts",
        "Property-sector outlook (office, retail, logistics, data centres)",
        "Interest-rate sensitivity of real estate",
        "Idiosyncratic and concentration risk",
    )
    scorer_class = REITsFactorScorer
