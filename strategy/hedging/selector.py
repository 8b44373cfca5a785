"""Dynamic hedge-asset selection from the universe in the view (spec 6.4).

Every tradable asset of the view is a candidate. Each is scored on four things, each
brought to roughly [-1, 1]:

- **negative correlation** with the portfolio (``-corr``, from the shrunk covariance);
- **hedge effectiveness**: its mean return on the portfolio's worst 5% days, in units
  of its own daily volatility (positive when it rose while the portfolio fell);
- **liquidity**: dollar ADV over the last 21 days, ``log10(ADV / min_adv_usd) / 3``
  capped to [0, 1] (0.5 when the data has no volumes);
- **cost**: the quoted spread (``spread_bps`` when the data has it, else
  ``default_spread_bps``), ``spread / 50 bps`` capped at 1, counted against.

``score = 0.5 (-corr) + 0.3 effectiveness + 0.1 liquidity - 0.1 cost``. Candidates with
a correlation above ``max_correlation``, an ADV below ``min_adv_usd``, or whose hedge
position would exceed ``max_participation`` of their ADV are dropped; safe-haven hedges
consider only the bond and commodity classes. The best ``max_instruments`` with a
positive score form the basket, weighted by the toolkit.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import MarketView
from strategy.hedging.toolkit import basket_weights, canonical_tool
from strategy.optimizers import OptimizationResult
from strategy.records import HedgeCandidate, HedgeInstrument, HedgeRecommendation, HedgeStrategy
from strategy.risk.model import MIN_OBSERVATIONS, RiskModel, quantile

__all__ = ["DynamicHedgeSelector", "SelectorSettings", "candidate_scores", "liquidity_and_cost"]

SAFE_HAVEN_CLASSES = ("bonds", "commodities")
SCALE_FREE_TOOLS = frozenset({"equal_weight", "inverse_volatility", "risk_parity",
                              "max_diversification", "hrp", "cvar"})
"""Optimisers whose weights scale with the budget (``w(b) = b w(1)``)."""
_ADV_DAYS = 21


class SelectorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_instruments: int = Field(default=3, ge=1)
    max_correlation: float = Field(default=0.2, ge=-1, le=1)
    min_adv_usd: float = Field(default=1e6, ge=0)
    max_participation: float = Field(default=0.05, gt=0)
    default_spread_bps: float = Field(default=10.0, ge=0)


def liquidity_and_cost(view: MarketView, tickers: tuple[str, ...],
                       default_spread_bps: float) -> tuple[np.ndarray, np.ndarray]:
    """Dollar ADV (NaN when unknown) and quoted spread in bps for ``tickers``."""
    cols = [view.column(t) for t in tickers]
    prices = view.prices[-_ADV_DAYS:, cols]
    volumes = view.volumes[-_ADV_DAYS:, cols]
    dollar = prices * volumes
    known = np.isfinite(dollar)
    counts = known.sum(axis=0)
    adv = np.where(counts > 0, np.where(known, dollar, 0.0).sum(axis=0) / np.maximum(counts, 1),
                   np.nan)
    spreads = np.full(len(cols), default_spread_bps)
    if "spread_bps" in view.fundamental_fields:
        recent = view.fundamental("spread_bps")[-_ADV_DAYS:, cols]
        for j in range(len(cols)):
            finite = recent[np.isfinite(recent[:, j]), j]
            if finite.size:
                spreads[j] = float(finite[-1])
    return adv, spreads


def candidate_scores(correlation: np.ndarray, tail: np.ndarray, volatility: np.ndarray,
                     adv: np.ndarray, spreads: np.ndarray, min_adv_usd: float) -> np.ndarray:
    """Every asset's hedge score (see the module notes), one per asset.

    ``0.5 (-corr) + 0.3 effectiveness + 0.1 liquidity - 0.1 cost`` with effectiveness
    ``clip(tail / vol, -1, 1)`` (0 without volatility), liquidity
    ``clip(log10(max(ADV, 1) / max(min_adv_usd, 1)) / 3, 0, 1)`` (0.5 when ADV is
    unknown) and cost ``min(1, spread / 50)``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(volatility > 0, np.clip(tail / volatility, -1.0, 1.0), 0.0)
        liquidity = np.where(
            np.isfinite(adv),
            np.clip(np.log10(np.maximum(adv, 1.0) / max(min_adv_usd, 1.0)) / 3.0, 0.0, 1.0),
            0.5)
    cost = np.minimum(1.0, spreads / 50.0)
    return 0.5 * -correlation + 0.3 * effect + 0.1 * liquidity - 0.1 * cost


class DynamicHedgeSelector:
    """Score the view's assets as hedges of a portfolio and pick the basket."""

    def __init__(self, settings: SelectorSettings | None = None) -> None:
        self.settings = settings or SelectorSettings()
        self._last_basket: tuple[tuple[object, ...], OptimizationResult] | None = None

    def candidates(self, portfolio: np.ndarray, model: RiskModel, view: MarketView,
                   strategy: HedgeStrategy, position_usd: float) -> list[HedgeCandidate]:
        """Every eligible candidate with its score, best first."""
        s = self.settings
        sigma_p = float(np.sqrt(model.variance(portfolio)))
        if model.n_assets == 0 or sigma_p <= 0.0:
            return []
        vols = np.where(model.daily_volatility > 0, model.daily_volatility, np.inf)
        correlation = (model.covariance @ portfolio) / (vols * sigma_p)
        if model.n_obs >= MIN_OBSERVATIONS:
            port = model.portfolio_returns(portfolio)
            worst = port <= quantile(port, 0.05)
            tail = model.returns[worst].mean(axis=0)
        else:
            tail = np.zeros(model.n_assets)
        adv, spreads = liquidity_and_cost(view, model.tickers, s.default_spread_bps)
        scores = candidate_scores(correlation, tail, model.daily_volatility, adv, spreads,
                                  s.min_adv_usd)
        known = np.isfinite(adv)
        eligible = ~(correlation > s.max_correlation) & (
            ~known | ~((adv < s.min_adv_usd) | (position_usd > s.max_participation * adv)))
        if strategy == "safe_haven":
            eligible &= np.array([c in SAFE_HAVEN_CLASSES for c in model.classes])
        out: list[HedgeCandidate] = []
        for i in np.flatnonzero(eligible).tolist():
            out.append(HedgeCandidate(
                ticker=model.tickers[i], asset_class=model.classes[i],
                correlation=float(correlation[i]), tail_return=float(tail[i]),
                adv_usd=float(adv[i]) if known[i] else -1.0,
                spread_bps=float(spreads[i]), score=float(scores[i])))
        out.sort(key=lambda c: c.score, reverse=True)
        return out

    def recommend(
        self,
        portfolio: np.ndarray,
        model: RiskModel,
        view: MarketView,
        *,
        strategy: HedgeStrategy,
        ratio: float,
        tool: str,
        portfolio_value: float,
        risk_aversion: float = 2.5,
    ) -> HedgeRecommendation:
        """The scored candidates and the basket for a hedge of size ``ratio``.

        Half of ``ratio`` is planned for the basket (the other half goes to cash); each
        instrument's ``weight`` is its share of the portfolio.
        """
        budget = 0.5 * ratio
        candidates = self.candidates(portfolio, model, view, strategy,
                                     budget * portfolio_value / self.settings.max_instruments)
        chosen = [c for c in candidates if c.score > 0][: self.settings.max_instruments]
        if not chosen or budget <= 0:
            return HedgeRecommendation(
                strategy=strategy, hedge_ratio=ratio, tool=tool, candidates=candidates[:5],
                reasoning=("no candidate in the view hedges this portfolio (none has a "
                           "positive score); the hedge goes to cash") if budget > 0 else
                          "no hedge requested")
        columns = [model.position[c.ticker] for c in chosen]
        result, scale = self._basket(tool, model, columns, portfolio, min(budget, 1.0),
                                     risk_aversion)
        instruments = [
            HedgeInstrument(ticker=c.ticker, asset_class=c.asset_class, weight=float(w) * scale,
                            correlation=c.correlation, cost_bps=c.spread_bps / 2.0,
                            role=f"{strategy} hedge")
            for c, w in zip(chosen, result.weights, strict=True) if w * scale > 1e-9
        ]
        note = f" ({result.message})" if result.fallback else ""
        return HedgeRecommendation(
            strategy=strategy, hedge_ratio=ratio, tool=result.fallback or result.method,
            candidates=candidates[:5], selected=instruments,
            reasoning=(f"{len(instruments)} of {len(candidates)} eligible assets chosen by "
                       f"score; weighted with {result.method}{note}"))

    def _basket(self, tool: str, model: RiskModel, columns: list[int], portfolio: np.ndarray,
                budget: float, risk_aversion: float) -> tuple[OptimizationResult, float]:
        """Basket weights and the factor to scale them by.

        Methods whose answer scales with the budget are solved for a budget of 1 and
        remembered (the last problem only, keyed by its exact covariance), since the
        coordinator's discussion rounds ask for the same basket at different sizes.
        """
        tool = canonical_tool(tool)
        if tool not in SCALE_FREE_TOOLS:
            return basket_weights(tool, model, columns, portfolio, budget,
                                  risk_aversion=risk_aversion), 1.0
        cols = np.asarray(columns, dtype=int)
        key = (tool, tuple(cols.tolist()), model.covariance[np.ix_(cols, cols)].tobytes())
        if self._last_basket is None or self._last_basket[0] != key:
            result = basket_weights(tool, model, columns, portfolio, 1.0,
                                    risk_aversion=risk_aversion)
            self._last_basket = (key, result)
        return self._last_basket[1], budget
