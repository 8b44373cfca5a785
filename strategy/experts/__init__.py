"""The five asset-class experts, their 9-level actions, records and LLM seam (spec 3, 5).

    from strategy.experts import StockExpert
    report = StockExpert().analyse(view, portfolio)   # factor-only, no network
    report.overall_view, report.sector_allocation

Pass ``llm=`` (any object with ``complete(system, user) -> str``) to blend an LLM's view
with the factor view (60/40 by default).
"""

from collections.abc import Mapping
from types import MappingProxyType

from strategy.experts.actions import Action
from strategy.experts.base import BaseExpert
from strategy.experts.blending import (
    adjust_action,
    adjust_confidence,
    blend_shares,
    determine_overall_view,
    shares_from_actions,
)
from strategy.experts.bond import BondExpert
from strategy.experts.commodity import CommodityExpert
from strategy.experts.crypto import CryptoExpert
from strategy.experts.llm import (
    LLMAnswerError,
    LLMClient,
    LLMExpertAnswer,
    LLMRecommendation,
    ask_expert,
    parse_answer,
)
from strategy.experts.records import (
    AnalysisMode,
    ExpertRecommendation,
    ExpertReport,
    OverallView,
)
from strategy.experts.reits import REITsExpert
from strategy.experts.settings import ExpertSettings
from strategy.experts.stock import StockExpert

__all__ = [
    "EXPERTS",
    "Action",
    "AnalysisMode",
    "BaseExpert",
    "BondExpert",
    "CommodityExpert",
    "CryptoExpert",
    "ExpertRecommendation",
    "ExpertReport",
    "ExpertSettings",
    "LLMAnswerError",
    "LLMClient",
    "LLMExpertAnswer",
    "LLMRecommendation",
    "OverallView",
    "REITsExpert",
    "StockExpert",
    "adjust_action",
    "adjust_confidence",
    "ask_expert",
    "blend_shares",
    "determine_overall_view",
    "parse_answer",
    "shares_from_actions",
]

#: The expert class of each asset class, in the spec's order.
EXPERTS: Mapping[str, type[BaseExpert]] = MappingProxyType({
    "stocks": StockExpert,
    "bonds": BondExpert,
    "commodities": CommodityExpert,
    "reits": REITsExpert,
    "crypto": CryptoExpert,
})
