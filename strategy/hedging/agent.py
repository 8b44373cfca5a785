"""The hedging agent (spec 4.5): assess tail risk, pick a strategy, size and build the hedge.

Strategy rule (unless an LLM client chooses with the spec's prompt, 4.5.3), first match:

1. VIX at or above ``vix_trigger`` -> ``safe_haven`` (options are dear when VIX is high);
2. skew below ``skew_trigger`` and raw kurtosis above ``kurtosis_trigger`` -> ``tail_hedge``;
3. daily 95% VaR above ``var_trigger`` -> ``put_protection`` (VIX below 20) or ``collar``;
4. the window's drawdown past half the drawdown trigger -> ``dynamic_hedge``;
5. held assets' mean correlation above the correlation limit -> ``diversification``;
6. otherwise ``none``.

The hedge ratio is the strategy's base ratio (:data:`~strategy.hedging.toolkit.BASE_HEDGE_RATIOS`)
times a severity (the worst of VaR / trigger, drawdown / drawdown trigger and
VIX / VIX trigger, clipped to [0.5, 2]), capped at ``max_ratio`` and cut further if the
hedge's expected cost exceeds ``max_hedge_cost``. The basket comes from the dynamic
selector; expected protection is the relative fall of daily CVaR 95% once the hedge
adjustment (:func:`~strategy.hedging.toolkit.apply_hedge`) is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from strategy.hedging.selector import DynamicHedgeSelector
from strategy.hedging.tail_risk import assess_tail_risk, conditional_value_at_risk
from strategy.hedging.toolkit import apply_hedge, hedge_ratio, tool_for
from strategy.managers.context import DecisionContext
from strategy.managers.llm import LLMClient, ask_json
from strategy.records import (
    CASH,
    Fallback,
    HedgeInstrument,
    HedgeRecommendation,
    HedgeStrategy,
    HedgingDecision,
    TailRiskMetrics,
)
from strategy.risk.limits import RiskLimits

__all__ = ["HedgingAgent", "HedgingSettings", "StrategyAnswer", "build_hedging_prompt"]

Source = Literal["rules", "llm"]

SYSTEM_PROMPT = ("You are the hedging agent of a multi-asset fund. You choose how to protect "
                 "the portfolio against tail risk. Answer with JSON only.")


class HedgingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vix_trigger: float = Field(default=25.0, gt=0)
    skew_trigger: float = Field(default=-0.5, le=0)
    kurtosis_trigger: float = Field(default=6.0, ge=0)
    var_trigger: float = Field(default=0.02, gt=0)
    max_ratio: float = Field(default=0.25, ge=0, le=1)
    max_hedge_cost: float = Field(default=0.005, gt=0, description="one-off, fraction")
    tool: str = "min_variance"
    stock_floor: float = Field(default=0.10, ge=0, le=1)
    use_dynamic_selection: bool = True
    risk_aversion: float = Field(default=2.5, gt=0)
    llm_retries: int = Field(default=2, ge=0)


class StrategyAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    strategy: HedgeStrategy
    reasoning: str = ""


def build_hedging_prompt(tail: TailRiskMetrics, limits: RiskLimits, max_cost: float) -> str:
    """The spec's strategy-selection prompt (4.5.3)."""
    return (
        "## Hedging strategy selection\n\n### Tail risk\n"
        f"- VIX: {tail.vix:.1f} ({tail.vix_level})\n- daily VaR (95%): {tail.var_95:.2%}\n"
        f"- daily CVaR (95%): {tail.cvar_95:.2%}\n- max drawdown (window): "
        f"{tail.max_drawdown:.2%}\n- skewness: {tail.skewness:.2f} (negative = left tail)\n"
        f"- kurtosis: {tail.kurtosis:.2f} (>3 = fat tails)\n\n### Risk limits\n"
        f"- drawdown tolerance: {limits.max_drawdown_trigger:.1%}\n- target volatility: "
        f"{limits.target_volatility:.1%}\n- max hedge cost: {max_cost:.1%}\n\n"
        "### Strategies\n- put_protection\n- collar\n- tail_hedge\n- dynamic_hedge\n"
        "- diversification\n- safe_haven\n- none\n\n### Task\nChoose the strategy that fits "
        "the current risk.\n1. with a high VIX options are expensive: avoid buying them\n"
        "2. negative skew and high kurtosis call for tail protection\n3. if risk is within "
        "limits choose \"none\"\n\nJSON: {\"strategy\": \"...\", \"reasoning\": \"...\"}"
    )


class HedgingAgent:
    """Tail-risk assessment, strategy choice and hedge construction."""

    def __init__(self, limits: RiskLimits, settings: HedgingSettings | None = None, *,
                 selector: DynamicHedgeSelector | None = None,
                 llm: LLMClient | None = None) -> None:
        self.limits = limits
        self.settings = settings or HedgingSettings()
        self.selector = selector or DynamicHedgeSelector()
        self.llm = llm

    def rule_strategy(self, tail: TailRiskMetrics, cluster: float) -> tuple[HedgeStrategy, str]:
        s, limits = self.settings, self.limits
        if tail.vix >= s.vix_trigger:
            return "safe_haven", f"VIX {tail.vix:.1f} >= {s.vix_trigger:g}: options are dear"
        if tail.skewness < s.skew_trigger and tail.kurtosis > s.kurtosis_trigger:
            return "tail_hedge", (f"skew {tail.skewness:.2f} and kurtosis {tail.kurtosis:.1f} "
                                  "show a fat left tail")
        if tail.var_95 > s.var_trigger:
            strategy: HedgeStrategy = "put_protection" if tail.vix < 20 else "collar"
            return strategy, f"daily VaR {tail.var_95:.2%} above {s.var_trigger:.2%}"
        if tail.max_drawdown >= 0.5 * limits.max_drawdown_trigger:
            return "dynamic_hedge", (f"window drawdown {tail.max_drawdown:.1%} past half the "
                                     f"trigger {limits.max_drawdown_trigger:.0%}")
        if cluster > limits.max_correlation_cluster:
            return "diversification", f"held assets' mean correlation {cluster:.2f} is high"
        return "none", "tail risk within limits"

    def choose(self, tail: TailRiskMetrics, cluster: float
               ) -> tuple[HedgeStrategy, str, Source, list[Fallback]]:
        strategy, why = self.rule_strategy(tail, cluster)
        if self.llm is None:
            return strategy, why, "rules", []
        s = self.settings
        answer, problem = ask_json(
            self.llm, system=SYSTEM_PROMPT,
            prompt=build_hedging_prompt(tail, self.limits, s.max_hedge_cost),
            schema=StrategyAnswer, retries=s.llm_retries)
        if answer is None:
            return strategy, why, "rules", [Fallback(component="hedging.llm", reason=problem,
                                                     action=f"used {strategy}")]
        return answer.strategy, answer.reasoning, "llm", []

    def severity(self, tail: TailRiskMetrics) -> float:
        s = self.settings
        return max(tail.var_95 / s.var_trigger,
                   tail.max_drawdown / self.limits.max_drawdown_trigger,
                   tail.vix / s.vix_trigger)

    def decide(self, allocation: Mapping[str, float], ctx: DecisionContext) -> HedgingDecision:
        """Hedge the ticker ``allocation`` (cash included) of this decision."""
        s, model = self.settings, ctx.model
        w = ctx.vector(allocation)
        tail = assess_tail_risk(model, w, ctx.vix)
        strategy, why, source, fallbacks = self.choose(tail, model.correlation_cluster(w))
        ratio = hedge_ratio(strategy, self.severity(tail), s.max_ratio)
        recommendation: HedgeRecommendation | None = None
        instruments: list[HedgeInstrument] = []
        if ratio > 0 and s.use_dynamic_selection:
            recommendation = self.selector.recommend(
                w, model, ctx.view, strategy=strategy, ratio=ratio,
                tool=tool_for(strategy, s.tool), portfolio_value=ctx.portfolio.value,
                risk_aversion=s.risk_aversion)
            instruments = list(recommendation.selected)
        hedged, cost = self._hedged(allocation, ctx, ratio, instruments)
        if cost > s.max_hedge_cost and ratio > 0:
            ratio *= s.max_hedge_cost / cost
            why += f"; ratio cut to {ratio:.1%} to keep the cost within {s.max_hedge_cost:.2%}"
            scale = 0.5 * ratio / max(sum(i.weight for i in instruments), 1e-12)
            instruments = [i.model_copy(update={"weight": i.weight * scale})
                           for i in instruments]
            hedged, cost = self._hedged(allocation, ctx, ratio, instruments)
        before = conditional_value_at_risk(model, w)
        after = conditional_value_at_risk(model, ctx.vector(hedged))
        protection = float(np.clip(1.0 - after / before, -1.0, 1.0)) if before > 0 else 0.0
        if ratio > 0 and not instruments:
            fallbacks.append(Fallback(
                component="hedging.selector",
                reason=(recommendation.reasoning if recommendation else
                        "dynamic selection is off"),
                action="the hedge is carried in cash only"))
        return HedgingDecision(
            timestamp=ctx.timestamp, hedging_strategy=strategy, hedge_ratio=ratio,
            hedge_instruments=instruments, expected_cost=cost, expected_protection=protection,
            source=source, reasoning=why, tail_risk_metrics=tail,
            dynamic_recommendation=recommendation, fallbacks=fallbacks)

    def _hedged(self, allocation: Mapping[str, float], ctx: DecisionContext, ratio: float,
                instruments: list[HedgeInstrument]) -> tuple[dict[str, float], float]:
        hedged = apply_hedge(allocation, ctx.asset_classes, ratio, instruments,
                             stock_floor=self.settings.stock_floor)
        turnover = sum(abs(hedged.get(t, 0.0) - allocation.get(t, 0.0))
                       for t in set(hedged) | set(allocation) if t != CASH)
        spread = sum(abs(hedged.get(i.ticker, 0.0) - allocation.get(i.ticker, 0.0))
                     * i.cost_bps / 1e4 for i in instruments)
        return hedged, turnover * ctx.costs + spread
