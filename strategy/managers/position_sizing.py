"""The position-sizing agent (spec 4.4): how big each of the manager's positions is.

It re-sizes the assets the portfolio manager holds, class by class within the
manager's class budgets, by one of five methods:

=================  ============================================================
equal_weight       each held asset of a class gets an equal share of its budget
risk_parity        shares proportional to ``1 / sigma_i`` (the spec's formula)
volatility_target  the manager's weights scaled by ``min(1, target / sigma_p)``
kelly              half Kelly, ``f_i = 0.5 mu_i / sigma_i^2`` (annual), at most the
                   class budget; a class with no positive edge is left in cash
max_sharpe         the maximum-Sharpe weights of the class (optimiser library)
=================  ============================================================

Selection rule (unless an LLM client chooses): the manager's ex-ante volatility above
the target -> ``volatility_target``; mean expert confidence at least
``kelly_confidence`` -> ``kelly``; at least ``sharpe_confidence`` -> ``max_sharpe``;
below ``equal_weight_confidence`` -> ``equal_weight``; otherwise the configured default
(tunable ``SIZING_METHOD``). The volatility target is lowered by the hedge ratio the
hedging agent asks for (``target * (1 - hedge_ratio)``), which is how the two agents
talk in the coordinator's discussion rounds. Single-asset caps always hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from strategy.managers.context import DecisionContext
from strategy.managers.llm import LLMClient, ask_json
from strategy.managers.returns import asset_alphas, expected_returns
from strategy.optimizers import optimize, redistribute_to_bounds
from strategy.records import (
    CASH,
    Fallback,
    PortfolioDecision,
    PositionSizingDecision,
    SizingMethod,
)

__all__ = ["MethodAnswer", "PositionSizingAgent", "SizingSettings", "build_sizing_prompt"]

Source = Literal["rules", "llm"]

SYSTEM_PROMPT = ("You are the position-sizing agent of a multi-asset fund. You choose how "
                 "positions are sized. Answer with JSON only.")


class SizingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default_method: SizingMethod = "risk_parity"
    target_volatility: float = Field(default=0.12, gt=0)
    kelly_fraction: float = Field(default=0.5, gt=0, le=1)
    kelly_confidence: float = Field(default=0.7, ge=0, le=1)
    sharpe_confidence: float = Field(default=0.55, ge=0, le=1)
    equal_weight_confidence: float = Field(default=0.3, ge=0, le=1)
    max_single_asset: float = Field(default=0.15, gt=0, le=1)
    risk_aversion: float = Field(default=2.5, gt=0)
    information_coefficient: float = Field(default=0.05, ge=0)
    llm_retries: int = Field(default=2, ge=0)


class MethodAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    method: SizingMethod
    reasoning: str = ""


def build_sizing_prompt(ctx: DecisionContext, volatility: float, confidence: float,
                        target: float) -> str:
    methods = ("- equal_weight: no clear preference\n- risk_parity: equal risk, w ~ 1/vol\n"
               "- volatility_target: scale exposure to the volatility target\n"
               "- kelly: half Kelly for high-confidence signals\n"
               "- max_sharpe: efficiency")
    return (f"## Position sizing method\n\n- VIX: {ctx.vix:.1f} ({ctx.regime} volatility)\n"
            f"- portfolio volatility (ex ante): {volatility:.1%}\n- volatility target: "
            f"{target:.1%}\n- mean expert confidence: {confidence:.0%}\n\n### Methods\n"
            f"{methods}\n\nJSON: {{\"method\": \"risk_parity\", \"reasoning\": \"...\"}}")


class PositionSizingAgent:
    """Re-size the portfolio manager's positions (see the module docstring)."""

    def __init__(self, settings: SizingSettings | None = None, *,
                 llm: LLMClient | None = None) -> None:
        self.settings = settings or SizingSettings()
        self.llm = llm

    @staticmethod
    def _classes(pm: PortfolioDecision, ctx: DecisionContext
                 ) -> Iterator[tuple[str, list[str], np.ndarray, float]]:
        """(class, held tickers, model columns, class budget) for each held class."""
        by_class: dict[str, list[str]] = {}
        for ticker, weight in pm.target_allocation.items():
            if ticker != CASH and weight > 1e-12 and ticker in ctx.model.position:
                by_class.setdefault(ctx.class_of[ticker], []).append(ticker)
        for asset_class, tickers in by_class.items():
            cols = np.array([ctx.model.position[t] for t in tickers], dtype=int)
            budget = float(sum(pm.target_allocation[t] for t in tickers))
            yield asset_class, tickers, cols, budget

    def mean_confidence(self, pm: PortfolioDecision, ctx: DecisionContext) -> float:
        weights = [(w, ctx.views[c].confidence) for c, w in pm.class_allocation.items()
                   if c in ctx.views and w > 0]
        total = sum(w for w, _ in weights)
        return sum(w * c for w, c in weights) / total if total > 0 else 0.0

    def target(self, hedge_ratio: float) -> float:
        return self.settings.target_volatility * (1.0 - min(max(hedge_ratio, 0.0), 0.9))

    def select_method(self, pm: PortfolioDecision, ctx: DecisionContext, hedge_ratio: float
                      ) -> tuple[SizingMethod, str, Source, list[Fallback]]:
        s = self.settings
        volatility = ctx.model.volatility(ctx.vector(pm.target_allocation))
        confidence = self.mean_confidence(pm, ctx)
        target = self.target(hedge_ratio)
        method: SizingMethod
        if volatility > target:
            method, why = "volatility_target", (f"ex-ante volatility {volatility:.1%} above "
                                                f"the target {target:.1%}")
        elif confidence >= s.kelly_confidence:
            method, why = "kelly", f"high expert confidence ({confidence:.0%})"
        elif confidence >= s.sharpe_confidence:
            method, why = "max_sharpe", f"good expert confidence ({confidence:.0%})"
        elif confidence < s.equal_weight_confidence:
            method, why = "equal_weight", f"little expert conviction ({confidence:.0%})"
        else:
            method, why = s.default_method, "no rule applies: the configured default"
        if self.llm is None:
            return method, why, "rules", []
        answer, problem = ask_json(
            self.llm, system=SYSTEM_PROMPT,
            prompt=build_sizing_prompt(ctx, volatility, confidence, target),
            schema=MethodAnswer, retries=s.llm_retries)
        if answer is None:
            return method, why, "rules", [Fallback(component="position_sizing.llm",
                                                   reason=problem, action=f"used {method}")]
        return answer.method, answer.reasoning, "llm", []

    def size(self, method: SizingMethod, pm: PortfolioDecision, ctx: DecisionContext,
             hedge_ratio: float = 0.0) -> tuple[dict[str, float], list[Fallback]]:
        """Position sizes by ticker, cash included (sums to 1)."""
        s = self.settings
        model = ctx.model
        out: dict[str, float] = {}
        fallbacks: list[Fallback] = []
        if method == "volatility_target":
            w = ctx.vector(pm.target_allocation)
            volatility = model.volatility(w)
            scale = min(1.0, self.target(hedge_ratio) / volatility) if volatility > 0 else 1.0
            out = {t: v * scale for t, v in pm.target_allocation.items() if t != CASH}
        else:
            reference = ctx.vector(pm.target_allocation)
            alphas = asset_alphas(model, ctx.views, s.information_coefficient)
            mu = expected_returns(model, reference, alphas, risk_aversion=s.risk_aversion)
            for asset_class, tickers, cols, budget in self._classes(pm, ctx):
                n = len(tickers)
                lower, upper = np.zeros(n), np.full(n, s.max_single_asset)
                vols = model.daily_volatility[cols]
                if method == "equal_weight":
                    w = redistribute_to_bounds(np.ones(n), lower, upper, budget)
                elif method == "risk_parity":
                    w = redistribute_to_bounds(1.0 / np.maximum(vols, 1e-8), lower, upper, budget)
                elif method == "kelly":
                    annual_mu = mu[cols] * TRADING_DAYS_PER_YEAR
                    annual_var = np.maximum(vols**2 * TRADING_DAYS_PER_YEAR, 1e-8)
                    f = np.clip(s.kelly_fraction * annual_mu / annual_var, 0.0, None)
                    exposure = min(budget, float(f.sum()))
                    if exposure <= 1e-9:
                        w = np.zeros(n)
                        fallbacks.append(Fallback(
                            component="position_sizing.kelly",
                            reason=f"no {asset_class} asset has a positive expected edge",
                            action=f"{asset_class} budget held in cash"))
                    else:
                        w = redistribute_to_bounds(f, lower, upper, exposure)
                else:  # max_sharpe
                    result = optimize("max_sharpe",
                                      covariance=model.covariance[np.ix_(cols, cols)],
                                      expected_returns=mu[cols], bounds=(0.0, s.max_single_asset),
                                      budget=min(budget, 1.0))
                    w = np.array(result.weights)
                    if result.fallback:
                        fallbacks.append(Fallback(
                            component="position_sizing.max_sharpe",
                            reason=result.message or "max_sharpe did not converge",
                            action=f"used {result.fallback} for {asset_class}"))
                out.update({t: float(x) for t, x in zip(tickers, w, strict=True)})
        out[CASH] = max(0.0, 1.0 - sum(out.values()))
        return out, fallbacks

    def decide(self, pm: PortfolioDecision, ctx: DecisionContext, *,
               hedge_ratio: float = 0.0) -> PositionSizingDecision:
        method, why, source, fallbacks = self.select_method(pm, ctx, hedge_ratio)
        sizes, size_fallbacks = self.size(method, pm, ctx, hedge_ratio)
        w = ctx.vector(sizes)
        contributions = ctx.model.risk_contributions(w)
        held = np.flatnonzero(w > 0)
        return PositionSizingDecision(
            timestamp=ctx.timestamp, position_sizes=sizes, sizing_method=method,
            source=source, reasoning=why,
            risk_contribution={ctx.model.tickers[i]: float(contributions[i]) for i in held},
            fallbacks=fallbacks + size_fallbacks,
        )
