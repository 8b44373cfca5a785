"""The manager coordinator (spec 4.2): three agents, discussion rounds, one decision.

**Phase 1 - independent analyses.** The portfolio manager decides the allocation; the
position-sizing agent sizes it and the hedging agent assesses its tail risk, each on
the manager's allocation alone.

**Phase 2 - discussion** (at most ``max_rounds`` rounds). Each agent revises in the
light of the other's last answer: sizing re-sizes with the hedge ratio the hedging agent
asked for (its volatility target shrinks by that ratio), then hedging re-assesses the
sized book. The round reaches consensus when the total change of position sizes is below
``sizing_tolerance`` and the hedge ratio moved less than ``hedge_tolerance``
(spec 4.2.2); the discussion stops there.

**Phase 3 - integration** (spec 4.2.3). Per asset, 60% of the manager's weight plus 40%
of the sizing agent's (both include cash, so the blend sums to 1), then the hedge
adjustment of :func:`~strategy.hedging.toolkit.apply_hedge`. The result is an
:class:`~strategy.records.IntegratedDecision`; the risk controller reviews it next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from strategy.hedging.agent import HedgingAgent
from strategy.hedging.toolkit import apply_hedge
from strategy.managers.context import DecisionContext, trades_between
from strategy.managers.portfolio_manager import PortfolioManager
from strategy.managers.position_sizing import PositionSizingAgent
from strategy.records import (
    CASH,
    DiscussionRound,
    HedgingDecision,
    IndividualDecisions,
    IntegratedDecision,
    PortfolioDecision,
    PositionSizingDecision,
)

__all__ = ["CoordinatorSettings", "ManagerCoordinator", "check_consensus", "integrate"]

T = TypeVar("T")


class CoordinatorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_rounds: int = Field(default=2, ge=0)
    sizing_tolerance: float = Field(default=0.05, gt=0)
    hedge_tolerance: float = Field(default=0.02, gt=0)
    manager_share: float = Field(default=0.6, ge=0, le=1)
    stock_floor: float = Field(default=0.10, ge=0, le=1)


def sizing_change(old: PositionSizingDecision, new: PositionSizingDecision) -> float:
    """Total absolute change of position sizes over the old decision's assets (spec)."""
    return sum(abs(old.position_sizes.get(a, 0.0) - new.position_sizes.get(a, 0.0))
               for a in old.position_sizes)


def check_consensus(old_sizing: PositionSizingDecision, new_sizing: PositionSizingDecision,
                    old_hedging: HedgingDecision, new_hedging: HedgingDecision, *,
                    sizing_tolerance: float = 0.05, hedge_tolerance: float = 0.02) -> bool:
    """Spec 4.2.2: sizes moved less than 5% in total and the hedge ratio less than 2%."""
    hedge_diff = abs(old_hedging.hedge_ratio - new_hedging.hedge_ratio)
    return sizing_change(old_sizing, new_sizing) < sizing_tolerance and \
        hedge_diff < hedge_tolerance


def integrate(pm: PortfolioDecision, sizing: PositionSizingDecision, hedging: HedgingDecision,
              ctx: DecisionContext, *, manager_share: float = 0.6, stock_floor: float = 0.10
              ) -> dict[str, float]:
    """Phase 3's allocation by ticker, cash included (sums to 1)."""
    keys = set(pm.target_allocation) | set(sizing.position_sizes) | {CASH}
    blended = {k: manager_share * pm.target_allocation.get(k, 0.0)
               + (1.0 - manager_share) * sizing.position_sizes.get(k, 0.0) for k in keys}
    total = sum(blended.values())
    if total > 0:
        blended = {k: v / total for k, v in blended.items()}
    hedged = apply_hedge(blended, ctx.asset_classes, hedging.hedge_ratio,
                         hedging.hedge_instruments, stock_floor=stock_floor)
    return {k: v for k, v in hedged.items() if v > 1e-12 or k == CASH}


class ManagerCoordinator:
    """Run the three managers through the spec's three phases."""

    def __init__(self, manager: PortfolioManager, sizing: PositionSizingAgent,
                 hedging: HedgingAgent, settings: CoordinatorSettings | None = None, *,
                 timings: Callable[[str, float], None] | None = None) -> None:
        self.manager = manager
        self.sizing = sizing
        self.hedging = hedging
        self.settings = settings or CoordinatorSettings()
        self._timings = timings

    def _timed(self, component: str, call: Callable[[], T]) -> T:
        if self._timings is None:
            return call()
        start = time.perf_counter()
        result = call()
        self._timings(component, time.perf_counter() - start)
        return result

    def run(self, ctx: DecisionContext) -> IntegratedDecision:
        s = self.settings
        pm = self._timed("portfolio_manager", lambda: self.manager.decide(ctx))
        sizing = self._timed("position_sizing", lambda: self.sizing.decide(pm, ctx))
        hedging = self._timed("hedging",
                              lambda: self.hedging.decide(pm.target_allocation, ctx))
        rounds: list[DiscussionRound] = []
        consensus = False
        sizing_ratio: float = 0.0
        hedged_book: dict[str, float] = pm.target_allocation
        for number in range(1, s.max_rounds + 1):
            # Both agents are deterministic: the same input gives the same answer, so an
            # unchanged hedge ratio (or sized book) reuses the answer already given.
            ratio = hedging.hedge_ratio
            new_sizing = sizing if ratio == sizing_ratio else self._timed(
                "position_sizing", lambda r=ratio: self.sizing.decide(pm, ctx, hedge_ratio=r))
            sizing_ratio = ratio
            sized = new_sizing.position_sizes
            new_hedging = hedging if sized == hedged_book else self._timed(
                "hedging", lambda a=sized: self.hedging.decide(a, ctx))
            hedged_book = sized
            consensus = check_consensus(sizing, new_sizing, hedging, new_hedging,
                                        sizing_tolerance=s.sizing_tolerance,
                                        hedge_tolerance=s.hedge_tolerance)
            rounds.append(DiscussionRound(
                round=number, sizing_method=new_sizing.sizing_method,
                sizing_change=sizing_change(sizing, new_sizing),
                hedging_strategy=new_hedging.hedging_strategy,
                hedge_ratio=new_hedging.hedge_ratio,
                hedge_change=abs(new_hedging.hedge_ratio - hedging.hedge_ratio),
                consensus=consensus))
            sizing, hedging = new_sizing, new_hedging
            if consensus:
                break
        allocation = integrate(pm, sizing, hedging, ctx, manager_share=s.manager_share,
                               stock_floor=s.stock_floor)
        class_allocation: dict[str, float] = {}
        for ticker, weight in allocation.items():
            key = CASH if ticker == CASH else ctx.asset_classes[ticker]
            class_allocation[key] = class_allocation.get(key, 0.0) + weight
        w = ctx.vector(allocation)
        model = ctx.model
        reasoning = (f"manager: {pm.reasoning}; sizing: {sizing.sizing_method} "
                     f"({sizing.reasoning}); hedging: {hedging.hedging_strategy} at "
                     f"{hedging.hedge_ratio:.1%} ({hedging.reasoning}); "
                     f"{len(rounds)} discussion round(s), consensus "
                     f"{'reached' if consensus else 'not reached'}")
        return IntegratedDecision(
            timestamp=ctx.timestamp,
            target_allocation=allocation,
            class_allocation=class_allocation,
            pre_risk_allocation=allocation,
            position_sizes=sizing.position_sizes,
            hedging_strategy=hedging.hedging_strategy,
            hedge_ratio=hedging.hedge_ratio,
            hedge_instruments=hedging.hedge_instruments,
            trades=trades_between(ctx.portfolio.weights, allocation, ctx.asset_classes),
            risk_metrics={
                "annual_volatility": model.volatility(w),
                "var_95": model.value_at_risk(w),
                "diversification_ratio": model.diversification_ratio(w),
                "correlation_cluster": model.correlation_cluster(w),
            },
            tail_risk_metrics=hedging.tail_risk_metrics,
            discussion_rounds=len(rounds),
            consensus_reached=consensus,
            individual_decisions=IndividualDecisions(
                portfolio_manager=pm.model_copy(update={"trades": []}), position_sizing=sizing,
                hedging=hedging, rounds=rounds),
            final_reasoning=reasoning,
            fallbacks=[*pm.fallbacks, *sizing.fallbacks, *hedging.fallbacks],
        )
