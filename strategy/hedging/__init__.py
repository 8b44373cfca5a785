"""Hedging for the FinSage engine: tail risk, strategy choice, hedge-asset selection."""

from strategy.hedging.agent import HedgingAgent, HedgingSettings, build_hedging_prompt
from strategy.hedging.selector import DynamicHedgeSelector, SelectorSettings, liquidity_and_cost
from strategy.hedging.tail_risk import assess_tail_risk, conditional_value_at_risk, max_drawdown
from strategy.hedging.toolkit import (
    BASE_HEDGE_RATIOS,
    HEDGED_CLASSES,
    apply_hedge,
    basket_weights,
    canonical_tool,
    hedge_ratio,
    tool_for,
)

__all__ = [
    "BASE_HEDGE_RATIOS",
    "HEDGED_CLASSES",
    "DynamicHedgeSelector",
    "HedgingAgent",
    "HedgingSettings",
    "SelectorSettings",
    "apply_hedge",
    "assess_tail_risk",
    "basket_weights",
    "build_hedging_prompt",
    "canonical_tool",
    "conditional_value_at_risk",
    "hedge_ratio",
    "liquidity_and_cost",
    "max_drawdown",
    "tool_for",
]
