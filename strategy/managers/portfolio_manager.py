"""The portfolio manager (spec 4.3): class budgets, then the assets inside each class.

1. **Class allocation** by the rules of :mod:`strategy.managers.allocation` (or, with an
   LLM client, by the spec's dynamic-allocation prompt, projected back into the bounds).
2. **Tool choice** per class among the optimiser library (:data:`TOOLS`): one asset ->
   ``equal_weight``; high-volatility regime -> ``min_variance``; a confident,
   non-neutral expert -> ``black_litterman`` (its views become BL views); otherwise the
   configured default (tunable ``PORTFOLIO_OPTIMIZER``). With an LLM client the spec's
   tool-selection prompt decides and unknown answers fall back to the rule.
3. **Within-class weights** from :func:`strategy.optimizers.optimize`, capped so no asset
   exceeds the single-asset limit, then tilted by each expert action
   (``w *= 1 + strength * confidence``: ``SELL_100`` at full confidence removes an asset,
   ``BUY_50`` at 80% adds 40%) and redistributed within the caps. What a class cannot
   hold under the caps is left in cash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from strategy.managers.allocation import (
    AllocationSettings,
    ClassRange,
    allocate_classes,
    class_ranges,
    project_allocation,
)
from strategy.managers.context import DecisionContext, trades_between
from strategy.managers.llm import LLMClient, ask_json
from strategy.managers.returns import asset_alphas, expected_returns
from strategy.optimizers import (
    METHODS,
    canonical_method,
    method_options,
    optimize,
    redistribute_to_bounds,
)
from strategy.records import CASH, Fallback, PortfolioDecision

__all__ = [
    "TOOLS",
    "AllocationAnswer",
    "ManagerSettings",
    "PortfolioManager",
    "ToolAnswer",
    "build_dynamic_allocation_prompt",
    "build_tool_selection_prompt",
]

TOOLS: Mapping[str, str] = {
    "mean_variance": "mean-variance: balance of risk and return",
    "min_variance": "minimum variance: conservative",
    "max_sharpe": "maximum Sharpe ratio: risk-adjusted return",
    "risk_parity": "risk parity: equal risk contributions",
    "black_litterman": "Black-Litterman: blends the experts' views with equilibrium",
    "max_diversification": "maximum diversification",
    "equal_weight": "equal weight: no preference",
    "inverse_volatility": "inverse volatility: low-volatility tilt",
    "cvar": "minimum CVaR: controls tail risk",
    "hrp": "hierarchical risk parity: clusters assets",
    "robust": "robust optimisation: uncertain parameters",
}
"""The optimiser library's methods with the spec's one-line uses (spec 4.3.1)."""

Source = Literal["rules", "llm"]

_NEEDS_RETURNS = frozenset({"mean_variance", "max_sharpe", "black_litterman", "robust"})

SYSTEM_PROMPT = ("You are the portfolio manager of a multi-asset fund. You set asset-class "
                 "weights and choose portfolio optimisers. Answer with JSON only.")


class ManagerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allocation: AllocationSettings = Field(default_factory=AllocationSettings)
    default_tool: str = "risk_parity"
    conviction_confidence: float = Field(default=0.6, ge=0, le=1)
    risk_aversion: float = Field(default=2.5, gt=0)
    information_coefficient: float = Field(default=0.05, ge=0)
    llm_retries: int = Field(default=2, ge=0)


class AllocationAnswer(BaseModel):
    """The dynamic-allocation prompt's JSON answer."""

    model_config = ConfigDict(extra="ignore")

    allocation: dict[str, float]
    reasoning: str = ""


class ToolAnswer(BaseModel):
    """The tool-selection prompt's JSON answer: one optimiser per class."""

    model_config = ConfigDict(extra="ignore")

    tools: dict[str, str]
    reasoning: str = ""


def build_dynamic_allocation_prompt(ctx: DecisionContext, ranges: Mapping[str, ClassRange]
                                    ) -> str:
    """The spec's dynamic-allocation prompt (4.3.2) for this decision."""
    lines = []
    for asset_class, view in ctx.views.items():
        r = ranges.get(asset_class)
        if r is None:
            continue
        lines.append(f"- {asset_class.upper()} expert:\n  view: {view.view} (confidence: "
                     f"{view.confidence:.0%})\n  top picks: {', '.join(view.top_picks) or '-'}"
                     f"\n  weight range: {r.low:.0%} - {r.high:.0%} (default {r.default:.0%})")
    cash = ranges[CASH]
    lines.append(f"- CASH: weight range {cash.low:.0%} - {cash.high:.0%}")
    return (
        "## Dynamic asset allocation\n\n### Market\n"
        f"- VIX: {ctx.vix:.1f} ({ctx.regime} volatility)\n\n### Expert views\n"
        + "\n".join(lines)
        + "\n\n### Task\nSet the target weight of each asset class.\n"
        "Rules:\n1. bullish classes move toward their max\n2. bearish classes toward their "
        "min\n3. neutral classes keep their default\n4. in high volatility raise bonds and "
        "cash\n5. the weights, cash included, sum to 1.0\n\nJSON: {\"allocation\": "
        "{\"stocks\": 0.40, \"bonds\": 0.25, \"commodities\": 0.15, \"reits\": 0.10, "
        "\"crypto\": 0.05, \"cash\": 0.05}, \"reasoning\": \"...\"}"
    )


def build_tool_selection_prompt(ctx: DecisionContext, allocation: Mapping[str, float]) -> str:
    """The tool-selection prompt: which optimiser to use inside each class."""
    tools = "\n".join(f"- {name}: {use}" for name, use in TOOLS.items())
    classes = []
    for asset_class, weight in allocation.items():
        n = len(ctx.tradable_in(asset_class))
        if asset_class == CASH or weight <= 0 or n == 0:
            continue
        view = ctx.views.get(asset_class)
        opinion = f"{view.view} ({view.confidence:.0%})" if view else "no view"
        classes.append(f"- {asset_class}: weight {weight:.1%}, {n} assets, expert {opinion}")
    return (
        "## Optimiser selection\n\n### Market\n"
        f"- VIX: {ctx.vix:.1f} ({ctx.regime} volatility)\n\n### Classes\n" + "\n".join(classes)
        + f"\n\n### Tools\n{tools}\n\n### Task\nChoose one tool per class.\n\n"
        "JSON: {\"tools\": {\"stocks\": \"risk_parity\", ...}, \"reasoning\": \"...\"}"
    )


class PortfolioManager:
    """Class budgets within the profile's bounds, then optimised assets inside them."""

    def __init__(self, bounds: Mapping[str, object], settings: ManagerSettings | None = None,
                 *, llm: LLMClient | None = None) -> None:
        self.bounds = dict(bounds)
        self.settings = settings or ManagerSettings()
        self.llm = llm
        self._takes_risk_aversion = frozenset(
            m for m in METHODS if "risk_aversion" in method_options(m))

    # -- step 1 -----------------------------------------------------------------------
    def allocate(self, ctx: DecisionContext
                 ) -> tuple[dict[str, float], Source, list[str], list[Fallback]]:
        """Class weights incl. cash, their source (rules or llm), reasons, fallbacks."""
        counts = {c: len(ctx.tradable_in(c)) for c in self.bounds}
        allocation, reasons, fallbacks = allocate_classes(
            self.bounds, ctx.views, ctx.regime, counts, self.settings.allocation)
        if self.llm is None:
            return allocation, "rules", reasons, fallbacks
        ranges, _ = class_ranges(self.bounds, counts, self.settings.allocation)
        answer, problem = ask_json(
            self.llm, system=SYSTEM_PROMPT, prompt=build_dynamic_allocation_prompt(ctx, ranges),
            schema=AllocationAnswer, retries=self.settings.llm_retries)
        if answer is None:
            fallbacks.append(Fallback(component="portfolio_manager.llm_allocation",
                                      reason=problem, action="used the rule-based allocation"))
            return allocation, "rules", reasons, fallbacks
        projected = project_allocation(answer.allocation, ranges)
        return projected, "llm", [answer.reasoning or "allocation proposed by the LLM"], fallbacks

    # -- step 2 -----------------------------------------------------------------------
    def rule_tool(self, ctx: DecisionContext, asset_class: str) -> str:
        n = len(ctx.tradable_in(asset_class))
        view = ctx.views.get(asset_class)
        if n == 1:
            return "equal_weight"
        if ctx.regime == "high":
            return "min_variance"
        if view is not None and view.view != "neutral" and \
                view.confidence >= self.settings.conviction_confidence:
            return "black_litterman"
        return canonical_method(self.settings.default_tool)

    def choose_tools(self, ctx: DecisionContext, allocation: Mapping[str, float]
                     ) -> tuple[dict[str, str], Source, list[Fallback]]:
        classes = [c for c, w in allocation.items()
                   if c != CASH and w > 0 and ctx.tradable_in(c)]
        tools = {c: self.rule_tool(ctx, c) for c in classes}
        if self.llm is None or not classes:
            return tools, "rules", []
        answer, problem = ask_json(
            self.llm, system=SYSTEM_PROMPT, prompt=build_tool_selection_prompt(ctx, allocation),
            schema=ToolAnswer, retries=self.settings.llm_retries)
        if answer is None:
            return tools, "rules", [Fallback(component="portfolio_manager.llm_tools",
                                             reason=problem, action="used the rule-based tools")]
        fallbacks = []
        for asset_class in classes:
            proposed = answer.tools.get(asset_class, "")
            name = proposed.strip().lower().replace("-", "_")
            try:
                tools[asset_class] = canonical_method(name)
            except ValueError:
                fallbacks.append(Fallback(
                    component="portfolio_manager.llm_tools",
                    reason=f"unknown tool {proposed!r} for {asset_class}; known: "
                           f"{', '.join(METHODS)}",
                    action=f"used {tools[asset_class]}"))
        return tools, "llm", fallbacks

    # -- step 3 -----------------------------------------------------------------------
    def weight_class(self, ctx: DecisionContext, asset_class: str, class_weight: float,
                     tool: str, mu: np.ndarray) -> tuple[dict[str, float], list[Fallback]]:
        """Absolute weights of the class's assets (summing to at most ``class_weight``)."""
        model = ctx.model
        tickers = ctx.tradable_in(asset_class)
        cols = np.array([model.position[t] for t in tickers], dtype=int)
        cap = min(1.0, self.settings.allocation.max_single_asset / class_weight)
        budget = min(1.0, cap * len(cols))
        fallbacks: list[Fallback] = []
        if budget < 1.0 - 1e-12:
            fallbacks.append(Fallback(
                component="portfolio_manager.weights",
                reason=(f"{len(cols)} {asset_class} assets capped at "
                        f"{self.settings.allocation.max_single_asset:.0%} each cannot hold "
                        f"{class_weight:.1%}"),
                action="the rest of the class budget stays in cash"))
        returns = model.returns[:, cols] if model.n_obs >= 2 else None
        if tool == "cvar" and returns is None:
            fallbacks.append(Fallback(component="portfolio_manager.weights",
                                      reason="cvar needs return history; the view has none",
                                      action="used inverse_volatility"))
            tool = "inverse_volatility"
        options = {}
        if tool in self._takes_risk_aversion:
            options["risk_aversion"] = self.settings.risk_aversion
        result = optimize(
            tool, covariance=model.covariance[np.ix_(cols, cols)],
            expected_returns=mu[cols] if tool in _NEEDS_RETURNS else None,
            returns=returns if tool == "cvar" else None, bounds=(0.0, cap), budget=budget,
            **options)
        if result.fallback:
            fallbacks.append(Fallback(component=f"portfolio_manager.{tool}",
                                      reason=result.message or f"{tool} did not converge",
                                      action=f"used {result.fallback}"))
        weights = np.array(result.weights, dtype=float)
        view = ctx.views.get(asset_class)
        if view is not None:
            tilt = np.array([
                max(0.0, 1.0 + float(view.strengths.get(t, 0.0))
                    * float(view.confidences.get(t, view.confidence)))
                for t in tickers])
            tilted = weights * tilt
            if tilted.sum() > 1e-12:
                weights = redistribute_to_bounds(tilted, np.zeros(len(cols)),
                                                 np.full(len(cols), cap), budget)
        return {t: class_weight * float(w) for t, w in zip(tickers, weights, strict=True)}, \
            fallbacks

    # -- the decision ------------------------------------------------------------------
    def decide(self, ctx: DecisionContext) -> PortfolioDecision:
        allocation, source, reasons, fallbacks = self.allocate(ctx)
        tools, tool_source, tool_fallbacks = self.choose_tools(ctx, allocation)
        fallbacks += tool_fallbacks
        model = ctx.model
        reference = np.zeros(model.n_assets)
        for asset_class, weight in allocation.items():
            cols = model.columns_of(asset_class)
            if cols.size and asset_class != CASH:
                reference[cols] = weight / cols.size
        alphas = asset_alphas(model, ctx.views, self.settings.information_coefficient)
        mu = expected_returns(model, reference, alphas, risk_aversion=self.settings.risk_aversion)
        target: dict[str, float] = {}
        for asset_class, tool in tools.items():
            weights, class_fallbacks = self.weight_class(
                ctx, asset_class, allocation[asset_class], tool, mu)
            target.update(weights)
            fallbacks += class_fallbacks
        invested = sum(target.values())
        target[CASH] = max(0.0, 1.0 - invested)
        class_allocation = {c: 0.0 for c in allocation}
        for ticker, weight in target.items():
            key = CASH if ticker == CASH else ctx.class_of[ticker]
            class_allocation[key] = class_allocation.get(key, 0.0) + weight
        w = ctx.vector(target)
        largest = max(tools, key=lambda c: allocation[c], default="")
        summary = {c: (f"{v.view} ({v.confidence:.0%})"
                       + (f"; picks {', '.join(v.top_picks)}" if v.top_picks else ""))
                   for c, v in ctx.views.items()}
        return PortfolioDecision(
            timestamp=ctx.timestamp,
            class_allocation=class_allocation,
            target_allocation=target,
            trades=trades_between(ctx.portfolio.weights, target, ctx.asset_classes),
            hedging_tool_used=tools.get(largest, "none"),
            tools=tools,
            allocation_source=source,
            tool_source=tool_source,
            volatility_regime=ctx.regime,
            reasoning="; ".join(reasons) or "all classes at their default weights",
            risk_metrics={
                "expected_return": float(mu @ w) * TRADING_DAYS_PER_YEAR,
                "annual_volatility": model.volatility(w),
                "var_95": model.value_at_risk(w),
                "diversification_ratio": model.diversification_ratio(w),
            },
            expert_summary=summary,
            fallbacks=fallbacks,
        )
