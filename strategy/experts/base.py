"""`BaseExpert`: one asset class's analyst (spec 3.2), factor-driven with an optional LLM.

``analyse(view, portfolio)`` always scores the class with its factor scorer first. The
factor view alone (the default) sets each asset's action from its composite z-score
(nearest of the nine levels, at least a quarter step in the direction of a BUY / SELL
signal, HOLD when the signal is HOLD) and its confidence from the factor conviction.

With an :class:`~strategy.experts.llm.LLMClient`, the expert also sends the spec's prompt
(market data, fundamentals and factor scores of each candidate), validates the JSON
answer (asking again on invalid JSON, ``LLM_MAX_RETRIES`` times) and blends both views
with the rules of :mod:`strategy.experts.blending`. If no valid answer comes back the
report falls back to the factor view and says so (``mode`` and ``llm_error``).

Within the class, target weights (``sector_allocation``) start equal and are scaled by
``1 + weight adjustment`` of each action; how much the class as a whole gets is the
portfolio manager's decision, informed by ``overall_view``, ``confidence`` and
``net_signal``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar, Self

import numpy as np

from alphaloop.contract import TRADING_DAYS_PER_YEAR, ContractError, MarketView, PortfolioState
from strategy.config import FinSageConfig
from strategy.experts import blending, prompts
from strategy.experts.actions import Action
from strategy.experts.llm import (
    LLMAnswerError,
    LLMClient,
    LLMExpertAnswer,
    LLMRecommendation,
    ask_expert,
)
from strategy.experts.records import AnalysisMode, ExpertRecommendation, ExpertReport
from strategy.experts.settings import ExpertSettings
from strategy.factors.base import FactorScorer
from strategy.factors.records import ClassFactorScores, FactorScore

__all__ = ["BaseExpert"]

_MACRO_FORMATS = (("VIX", "{:.1f}"), ("rate_10y", "{:.2%}"), ("rate_2y", "{:.2%}"),
                  ("inflation", "{:.2%}"))


class BaseExpert:
    """Subclasses set the class attributes below; the behaviour is shared."""

    asset_class: ClassVar[str]
    name: ClassVar[str]
    asset_label: ClassVar[str]  # how the prompt names the class ("stock", "bond", ...)
    expertise: ClassVar[tuple[str, ...]]
    scorer_class: ClassVar[type[FactorScorer]]

    def __init__(self, symbols: Sequence[str] | None = None, *, llm: LLMClient | None = None,
                 settings: ExpertSettings | None = None) -> None:
        if not hasattr(type(self), "scorer_class"):
            raise TypeError("BaseExpert is a base class; use StockExpert, BondExpert, "
                            "CommodityExpert, REITsExpert or CryptoExpert")
        if llm is not None and not isinstance(llm, LLMClient):
            raise TypeError(f"llm must have a complete(system, user) -> str method, got "
                            f"{type(llm).__name__}")
        self.symbols: tuple[str, ...] | None = tuple(symbols) if symbols is not None else None
        self.llm = llm
        self.settings = settings or ExpertSettings.default()
        self.scorer = self.scorer_class(self.settings.factors)

    @classmethod
    def from_config(cls, config: FinSageConfig, *, llm: LLMClient | None = None) -> Self:
        """The expert for ``config``: its class's default universe and the config's params."""
        return cls(config.assets.default_universe.get(cls.asset_class, ()), llm=llm,
                   settings=ExpertSettings.from_params(config.params))

    @property
    def lookback(self) -> int:
        """Days of history the expert reads (the view may be longer)."""
        return self.settings.factors.history_days

    def __repr__(self) -> str:
        mode = "llm+factor" if self.llm is not None else "factor"
        return f"{type(self).__name__}(symbols={self.symbols}, mode={mode!r})"

    # -- analysis -----------------------------------------------------------------------
    def analyse(self, view: MarketView, portfolio: PortfolioState | None = None
                ) -> ExpertReport:
        """Analyse this expert's class at ``view.as_of``; uses no data after it."""
        symbols, absent = self._symbols(view)
        scores = self.scorer.score(view, symbols)
        held = dict(portfolio.weights) if portfolio is not None else {}
        actions = {s: _factor_action(scores.scores[s]) for s in symbols}
        shares = blending.shares_from_actions(actions)
        recs = [self._factor_recommendation(scores.scores[s], actions[s], shares[s],
                                            held.get(s, 0.0)) for s in symbols]
        mode: AnalysisMode = "factor"
        attempts, error, answer = 0, None, None
        if self.llm is not None and symbols:
            try:
                answer, attempts = ask_expert(
                    self.llm, self.system_prompt(), self.build_prompt(view, scores, held),
                    max_retries=self.settings.llm_max_retries)
            except LLMAnswerError as exc:
                mode, attempts, error = "factor (llm fallback)", exc.attempts, str(exc)
            else:
                mode = "llm+factor"
                recs = self._blend(recs, answer)
        return self._report(view, scores, recs, mode=mode, absent=absent, attempts=attempts,
                            error=error, answer=answer)

    def _symbols(self, view: MarketView) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self.symbols is None:
            return view.tickers_in(self.asset_class), ()
        present = set(view.tickers)
        chosen, absent = [], []
        for symbol in self.symbols:
            if symbol not in present:
                absent.append(symbol)
                continue
            actual = view.asset_class(symbol)
            if actual != self.asset_class:
                raise ContractError(
                    f"{self.name} was given {symbol!r}, which the data lists under {actual!r}"
                    f", not {self.asset_class!r}; fix the universe in the configuration")
            chosen.append(symbol)
        return tuple(chosen), tuple(absent)

    def _factor_recommendation(self, score: FactorScore, action: Action, share: float,
                               weight: float) -> ExpertRecommendation:
        top = sorted(score.exposures.items(), key=lambda kv: -abs(kv[1]) * score.weights[kv[0]])
        evidence = ", ".join(f"{k} {v:+.2f}" for k, v in top[:2])
        return ExpertRecommendation(
            asset_class=self.asset_class, symbol=score.symbol, action=action,
            confidence=score.confidence, target_weight=min(1.0, share), current_weight=weight,
            reasoning=(f"factor composite {score.composite:+.2f} ({score.signal})"
                       + (f"; strongest: {evidence}" if evidence else "")),
            market_view={"source": "factor", "signal": score.signal},
            risk_assessment={"volatility": score.volatility},
            factor_score=score, factor_signal=score.signal, factor_alpha=score.expected_alpha)

    def _blend(self, recs: list[ExpertRecommendation], answer: LLMExpertAnswer
               ) -> list[ExpertRecommendation]:
        fw = self.settings.factor_weight
        by_symbol: dict[str, LLMRecommendation] = {}
        for item in answer.recommendations:
            by_symbol.setdefault(item.symbol.strip().upper(), item)
        out: list[ExpertRecommendation] = []
        llm_targets: dict[str, float | None] = {}
        for rec in recs:
            llm_rec = by_symbol.get(rec.symbol.upper())
            score = rec.factor_score
            if llm_rec is None or score is None:
                out.append(rec)
                continue
            llm_targets[rec.symbol] = llm_rec.target_weight
            out.append(rec.model_copy(update={
                "action": blending.adjust_action(llm_rec.action, score.signal, fw),
                "confidence": blending.adjust_confidence(
                    llm_rec.confidence, llm_rec.action, score.confidence, score.signal, fw),
                "reasoning": llm_rec.reasoning or rec.reasoning,
                "market_view": {"source": "llm+factor", "signal": score.signal,
                                "llm_action": llm_rec.action.value,
                                "llm_confidence": llm_rec.confidence,
                                "risk_level": llm_rec.risk_level},
            }))
        return self._with_shares(out, llm_targets)

    def _with_shares(self, recs: list[ExpertRecommendation],
                     llm_targets: Mapping[str, float | None]) -> list[ExpertRecommendation]:
        shares = blending.shares_from_actions({r.symbol: r.action for r in recs})
        if llm_targets:
            shares = blending.blend_shares(llm_targets, shares, self.settings.factor_weight)
        return [r.model_copy(update={"target_weight": min(1.0, shares[r.symbol])})
                for r in recs]

    def _report(self, view: MarketView, scores: ClassFactorScores,
                recs: list[ExpertRecommendation], *, mode: AnalysisMode,
                absent: tuple[str, ...], attempts: int, error: str | None,
                answer: LLMExpertAnswer | None) -> ExpertReport:
        overall = blending.determine_overall_view(recs)
        side = [r for r in recs if (overall == "bullish" and r.action.is_buy)
                or (overall == "bearish" and r.action.is_sell)] or recs
        confidence = sum(r.confidence for r in side) / len(side) if side else 0.0
        net = (sum(r.confidence * r.action.weight_adjustment for r in recs) / len(recs)
               if recs else 0.0)
        key = list(answer.key_factors) if answer is not None else []
        key += _factor_highlights(scores)
        return ExpertReport(
            expert_name=self.name, asset_class=self.asset_class,
            timestamp=str(view.as_of.date()), recommendations=recs, overall_view=overall,
            sector_allocation={r.symbol: r.target_weight for r in recs}, key_factors=key,
            confidence=min(1.0, confidence), net_signal=max(-1.0, min(1.0, net)), mode=mode,
            factors_used=scores.factors_used, factors_missing=scores.factors_missing,
            symbols_missing=absent, llm_attempts=attempts, llm_error=error,
            llm_overall_view=answer.overall_view if answer is not None else None)

    # -- prompts ------------------------------------------------------------------------
    def system_prompt(self) -> str:
        return prompts.SYSTEM_TEMPLATE.format(
            asset_label=self.asset_label,
            expertise="\n".join(f"- {item}" for item in self.expertise))

    def build_prompt(self, view: MarketView, scores: ClassFactorScores,
                     weights: Mapping[str, float]) -> str:
        macro = []
        for name, fmt in _MACRO_FORMATS:
            if name in view.macro_series:
                value = float(view.macro(name)[-1])
                if math.isfinite(value):
                    macro.append(prompts.MACRO_LINE_TEMPLATE.format(name=name,
                                                                    value=fmt.format(value)))
        fields = [f for f in self.scorer.fields if f in view.fundamental_fields]
        lines = []
        for symbol, score in scores.scores.items():
            column = view.column(symbol)
            prices = view.prices[:, column]
            shown = ""
            for field in fields:
                value = float(view.fundamental(field)[-1, column])
                if math.isfinite(value):
                    shown += f"{field} {value:.4g}; "
            lines.append(prompts.ASSET_LINE_TEMPLATE.format(
                symbol=symbol, price=prices[-1], ret_1m=_trailing(prices, 21),
                ret_12m=_trailing(prices, TRADING_DAYS_PER_YEAR), volatility=score.volatility,
                weight=weights.get(symbol, 0.0), fields=shown, composite=score.composite,
                signal=score.signal))
        return prompts.USER_TEMPLATE.format(
            title=self.asset_label.capitalize(), as_of=view.as_of.date(),
            macro="\n".join(macro) or "- no macro data", assets="\n".join(lines),
            factors=", ".join(scores.factors_used) or "no factors")


def _factor_action(score: FactorScore) -> Action:
    if score.signal == "HOLD":
        return Action.HOLD
    action = Action.from_strength(score.composite)
    if score.signal in ("BUY", "STRONG_BUY") and not action.is_buy:
        return Action.BUY_25
    if score.signal in ("SELL", "STRONG_SELL") and not action.is_sell:
        return Action.SELL_25
    return action


def _trailing(prices: np.ndarray, days: int) -> float:
    days = min(days, prices.shape[0] - 1)
    return float(prices[-1] / prices[-1 - days] - 1.0) if days > 0 else 0.0


def _factor_highlights(scores: ClassFactorScores, n: int = 3) -> list[str]:
    """The factors with the largest mean exposure across the class, as short phrases."""
    means = []
    for name, detail in scores.factors.items():
        values = detail.exposure.values()
        if values:
            means.append((name, sum(values) / len(values), detail.source))
    means.sort(key=lambda item: -abs(item[1]))
    return [f"{name} {mean:+.2f} across the class ({source})" for name, mean, source in means[:n]]
