"""The rebalance threshold (spec 2.3, ``rebalance_threshold``: 2% triggers a rebalance).

After the risk controller has made its target safe, the engine compares it with the
weights the portfolio holds now (drifted by prices since the last trade). When no weight,
cash included, would move by more than ``REBALANCE_THRESHOLD`` the portfolio keeps its
holdings: the engine returns the held weights and trades nothing. It trades anyway when
the holdings themselves break a hard limit or hold an asset the screen excluded, so the
threshold never keeps a breach. The harness still accounts for every day either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from strategy.records import CASH
from strategy.risk.limits import RiskLimits, hard_limit_breaches
from strategy.risk.model import RiskModel

__all__ = ["RebalanceCheck", "check_rebalance", "largest_move"]


@dataclass(frozen=True)
class RebalanceCheck:
    """Whether to trade, the largest weight move the target asks for, and why."""

    trade: bool
    largest_move: float
    reason: str


def largest_move(target: Mapping[str, float], held: Mapping[str, float]) -> float:
    """The largest ``|target - held|`` over both sets of tickers and cash (what neither
    set invests), so a change of total exposure counts even when spread thinly."""
    tickers = sorted((set(target) | set(held)) - {CASH})
    moves = [abs(float(target.get(t, 0.0)) - float(held.get(t, 0.0))) for t in tickers]
    invested = [sum(float(w.get(t, 0.0)) for t in tickers) for w in (target, held)]
    return max([*moves, abs(invested[0] - invested[1])])


def check_rebalance(target: Mapping[str, float], held: Mapping[str, float], threshold: float,
                    model: RiskModel, limits: RiskLimits) -> RebalanceCheck:
    """Decide whether moving from ``held`` to ``target`` (weights by ticker) is worth a trade."""
    move = largest_move(target, held)
    if threshold <= 0 or move > threshold:
        return RebalanceCheck(True, move, f"largest weight move {move:.2%} is above the "
                              f"rebalance threshold {threshold:.2%}" if threshold > 0 else
                              "no rebalance threshold")
    risky = {t: float(w) for t, w in held.items() if t != CASH and float(w) > 0}
    unknown = sorted(t for t in risky if t not in model.position)
    if unknown:
        return RebalanceCheck(True, move, f"holdings include {', '.join(unknown)}, which the "
                              "screen excluded")
    breaches = hard_limit_breaches(model.vector(risky), model.classes, limits,
                                   model.value_at_risk)
    if breaches:
        return RebalanceCheck(True, move, "holdings break a hard limit: " + "; ".join(breaches))
    return RebalanceCheck(False, move, f"largest weight move {move:.2%} is within the "
                          f"rebalance threshold {threshold:.2%}: holdings kept")
