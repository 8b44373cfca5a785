"""FinSage's management layer: the portfolio manager, position sizing and what they share.

The manager coordinator (:mod:`strategy.managers.coordinator`) and the engine settings
(:mod:`strategy.managers.settings`) sit above the hedging package, which itself uses this
layer's context, regime and LLM helpers; they are imported from their modules (or from
``strategy``) so that importing this package never pulls in hedging.
"""

from strategy.managers.allocation import (
    AllocationSettings,
    ClassRange,
    allocate_classes,
    class_ranges,
    project_allocation,
)
from strategy.managers.context import ClassView, DecisionContext, trades_between
from strategy.managers.llm import LLMClient, ask_json, extract_json
from strategy.managers.portfolio_manager import (
    TOOLS,
    ManagerSettings,
    PortfolioManager,
    build_dynamic_allocation_prompt,
    build_tool_selection_prompt,
)
from strategy.managers.position_sizing import (
    PositionSizingAgent,
    SizingSettings,
    build_sizing_prompt,
)
from strategy.managers.regime import VolatilityReading, volatility_index, volatility_regime
from strategy.managers.returns import asset_alphas, expected_returns
from strategy.managers.views import class_view, class_views

__all__ = [
    "TOOLS",
    "AllocationSettings",
    "ClassRange",
    "ClassView",
    "DecisionContext",
    "LLMClient",
    "ManagerSettings",
    "PortfolioManager",
    "PositionSizingAgent",
    "SizingSettings",
    "VolatilityReading",
    "allocate_classes",
    "ask_json",
    "asset_alphas",
    "build_dynamic_allocation_prompt",
    "build_sizing_prompt",
    "build_tool_selection_prompt",
    "class_ranges",
    "class_view",
    "class_views",
    "expected_returns",
    "extract_json",
    "project_allocation",
    "trades_between",
    "volatility_index",
    "volatility_regime",
]
