"""Blending the LLM's view with the factor view (spec 5.3), and the class view (3.2.4).

The rules are the spec's, with ``factor_weight`` (tunable ``FACTOR_WEIGHT``, 0.4):

- **confidence**: ``llm * (1 - fw) + factor * fw``, then times 1.1 (capped at 1) when
  both sides agree on being bullish or not, else times 0.9 (floored at 0.1); rounded to
  three decimals. The factor side's confidence is its conviction in its own direction.
- **action**: the LLM's strength (BUY_100 = 2 ... SELL_100 = -2) and the factor signal's
  (STRONG_BUY = 2, BUY = 1, HOLD = 0, SELL = -1, STRONG_SELL = -2) are averaged with the
  same weights and mapped back: >= 1.5 BUY_75, >= 1 BUY_50, >= 0.5 BUY_25, > -0.5 HOLD,
  > -1 SELL_25, > -1.5 SELL_50, else SELL_75 (a blend never goes all in or all out).
- **overall view**: bullish when the confidence summed over BUY actions exceeds 1.5
  times that over SELL actions, bearish in the mirror case, neutral otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from strategy.experts.actions import Action
from strategy.experts.records import ExpertRecommendation, OverallView
from strategy.factors.records import FactorSignal

__all__ = [
    "FACTOR_SIGNAL_STRENGTH",
    "adjust_action",
    "adjust_confidence",
    "blend_shares",
    "determine_overall_view",
    "shares_from_actions",
]

FACTOR_SIGNAL_STRENGTH: Mapping[str, float] = MappingProxyType({
    "STRONG_BUY": 2.0, "BUY": 1.0, "HOLD": 0.0, "SELL": -1.0, "STRONG_SELL": -2.0,
})


def adjust_confidence(llm_confidence: float, llm_action: Action, factor_confidence: float,
                      factor_signal: FactorSignal, factor_weight: float) -> float:
    combined = llm_confidence * (1 - factor_weight) + factor_confidence * factor_weight
    llm_bullish = llm_action.is_buy
    factor_bullish = factor_signal in ("STRONG_BUY", "BUY")
    combined = min(combined * 1.1, 1.0) if llm_bullish == factor_bullish else max(
        combined * 0.9, 0.1)
    return round(combined, 3)


def adjust_action(llm_action: Action, factor_signal: FactorSignal,
                  factor_weight: float) -> Action:
    combined = (llm_action.strength * (1 - factor_weight)
                + FACTOR_SIGNAL_STRENGTH[factor_signal] * factor_weight)
    if combined >= 1.5:
        return Action.BUY_75
    if combined >= 1.0:
        return Action.BUY_50
    if combined >= 0.5:
        return Action.BUY_25
    if combined > -0.5:
        return Action.HOLD
    if combined > -1.0:
        return Action.SELL_25
    if combined > -1.5:
        return Action.SELL_50
    return Action.SELL_75


def determine_overall_view(recommendations: Iterable[ExpertRecommendation]) -> OverallView:
    buy = sell = 0.0
    for rec in recommendations:
        if rec.action.is_buy:
            buy += rec.confidence
        elif rec.action.is_sell:
            sell += rec.confidence
    if buy > sell * 1.5:
        return "bullish"
    if sell > buy * 1.5:
        return "bearish"
    return "neutral"


def _normalised(values: Mapping[str, float]) -> dict[str, float]:
    total = sum(values.values())
    if total <= 0:
        return {k: 1.0 / len(values) for k in values} if values else {}
    return {k: v / total for k, v in values.items()}


def shares_from_actions(actions: Mapping[str, Action]) -> dict[str, float]:
    """Shares of the class: equal, each scaled by ``1 + weight adjustment``, normalised.

    SELL_100 gives 0, BUY_100 twice the equal share; if every asset is sold outright the
    shares stay equal (the class's total is the managers' decision, not the expert's).
    """
    return _normalised({s: 1.0 + a.weight_adjustment for s, a in actions.items()})


def blend_shares(llm: Mapping[str, float | None], factor: Mapping[str, float],
                 factor_weight: float) -> dict[str, float]:
    """Blend the LLM's target shares with the factor shares, symbol by symbol.

    The LLM's shares are renormalised over the symbols it gave one for; a symbol without
    one takes its factor share. The result is normalised to sum to 1.
    """
    given = {s: w for s, w in llm.items() if w is not None and s in factor}
    llm_shares = _normalised(given) if sum(given.values()) > 0 else {}
    scale = sum(factor[s] for s in llm_shares) if llm_shares else 0.0
    mixed = {
        s: ((1 - factor_weight) * llm_shares[s] * scale + factor_weight * f)
        if s in llm_shares else f
        for s, f in factor.items()
    }
    return _normalised(mixed)
