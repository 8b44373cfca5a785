"""What the managers share on one decision date: data, risk model, regime and expert views.

The engine builds one :class:`DecisionContext` per decision (screen the universe,
estimate the risk model, read the volatility regime, summarise the experts' reports)
and hands it to the portfolio manager, the position-sizing agent and the hedging agent,
so all three work from the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from alphaloop.contract import MarketView, PortfolioState
from strategy.records import CASH, Trade
from strategy.risk.model import RiskModel
from strategy.risk.screen import UniverseScreen

__all__ = ["ClassView", "DecisionContext", "trades_between"]

View = Literal["bullish", "bearish", "neutral"]


@dataclass(frozen=True)
class ClassView:
    """One expert's opinion of its asset class, reduced to what the managers use.

    ``strengths`` are per-ticker action strengths in [-1, 1] (``SELL_100`` is -1,
    ``BUY_50`` is +0.5); ``alphas`` annualised expected excess returns where the expert
    gave them.
    """

    asset_class: str
    expert: str
    view: View
    confidence: float
    strengths: Mapping[str, float] = field(default_factory=dict)
    confidences: Mapping[str, float] = field(default_factory=dict)
    alphas: Mapping[str, float] = field(default_factory=dict)
    exposures: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    top_picks: tuple[str, ...] = ()
    source: str = "factors"


@dataclass(frozen=True, eq=False)
class DecisionContext:
    """Everything a manager may read on one decision date."""

    view: MarketView
    portfolio: PortfolioState
    model: RiskModel
    screen: UniverseScreen
    vix: float
    vix_source: str
    regime: Literal["low", "normal", "high"]
    views: Mapping[str, ClassView]
    costs: float = 0.0015
    """Commission plus slippage per unit of turnover (for expected hedge cost)."""

    @property
    def timestamp(self) -> str:
        return str(self.view.as_of.date())

    @cached_property
    def class_of(self) -> dict[str, str]:
        """Ticker -> asset class for the tradable assets."""
        return dict(zip(self.model.tickers, self.model.classes, strict=True))

    @cached_property
    def asset_classes(self) -> dict[str, str]:
        """Ticker -> asset class for every asset of the view (tradable or not)."""
        return {a.ticker: a.asset_class for a in self.view.assets}

    @cached_property
    def _tradable_by_class(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for ticker, asset_class in self.class_of.items():
            out.setdefault(asset_class, []).append(ticker)
        return {c: tuple(tickers) for c, tickers in out.items()}

    def tradable_in(self, asset_class: str) -> tuple[str, ...]:
        """The tradable tickers of ``asset_class``, in view order."""
        return self._tradable_by_class.get(asset_class, ())

    def vector(self, allocation: Mapping[str, float]) -> np.ndarray:
        """A ticker allocation (``"cash"`` ignored) as a model-order vector."""
        return self.model.vector({k: v for k, v in allocation.items() if k != CASH})


def trades_between(current: Mapping[str, float], target: Mapping[str, float],
                   class_of: Mapping[str, str], *, minimum: float = 1e-6) -> list[Trade]:
    """The trades that move ``current`` weights to ``target`` (cash not listed)."""
    out = []
    for ticker in sorted(set(current) | set(target)):
        if ticker == CASH:
            continue
        now, then = float(current.get(ticker, 0.0)), float(target.get(ticker, 0.0))
        delta = then - now
        if abs(delta) > minimum:
            out.append(Trade(ticker=ticker, asset_class=class_of.get(ticker, "unknown"),
                             current_weight=now, target_weight=then, delta=delta,
                             side="buy" if delta > 0 else "sell"))
    return out
