"""`FactorScreener`: rank any set of symbols by value, quality and momentum (spec 7.3).

The spec's screener scores FMP metrics on fixed scales in ``[0, 1]``; this one reads the
same ideas from a point-in-time view:

- **value** = ``(0.4 / (1 + PE / 20) + 0.3 / (1 + PB / 3)) / 0.7`` with
  ``PE = 1 / earnings_yield`` and ``PB = 1 / book_to_market`` (a non-positive yield or
  book-to-market means no value: 0); with one field only, that field's term alone.
- **quality** = ``ROE / 0.20`` clipped to ``[0, 1]`` (``profitability`` field).
- **momentum** = ``(r + 0.5)`` clipped to ``[0, 1]`` where ``r`` is the 12-1 month return;
  0.5 (neutral) with less than a year of prices, as in the spec.

A score that does not apply (say, value for a bond, whose fields are NaN) is NaN and the
composite averages the factors that do apply, re-weighted; symbols with no applicable
factor sort last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from alphaloop.contract import TRADING_DAYS_PER_YEAR, MarketView

__all__ = ["SCREEN_FACTORS", "FactorScreener"]

SCREEN_FACTORS: tuple[str, ...] = ("value", "quality", "momentum")


def _inverse_term(yield_like: np.ndarray, scale: float) -> np.ndarray:
    """``1 / (1 + multiple / scale)`` with ``multiple = 1 / yield_like``; 0 when <= 0."""
    out = np.full(yield_like.shape, np.nan)
    finite = np.isfinite(yield_like)
    positive = finite & (yield_like > 0)
    out[finite] = 0.0
    out[positive] = 1.0 / (1.0 + 1.0 / (yield_like[positive] * scale))
    return out


class FactorScreener:
    """Multi-factor screen over a :class:`MarketView` (no data access of its own)."""

    def __init__(self, *, momentum_days: int = TRADING_DAYS_PER_YEAR, skip_days: int = 21) -> None:
        if not 0 <= skip_days < momentum_days:
            raise ValueError(f"skip_days ({skip_days}) must be in [0, momentum_days "
                             f"({momentum_days}))")
        self.momentum_days = momentum_days
        self.skip_days = skip_days

    # -- single factors, vectorised over symbols --------------------------------------
    def compute_value_score(self, earnings_yield: np.ndarray | None,
                            book_to_market: np.ndarray | None) -> np.ndarray:
        terms = [(0.4, _inverse_term(np.asarray(earnings_yield, float), 20.0))
                 if earnings_yield is not None else None,
                 (0.3, _inverse_term(np.asarray(book_to_market, float), 3.0))
                 if book_to_market is not None else None]
        present = [t for t in terms if t is not None]
        if not present:
            raise ValueError("value needs earnings_yield or book_to_market")
        weights = np.array([[w] for w, _ in present])
        values = np.vstack([v for _, v in present])
        ok = np.isfinite(values)
        total = np.where(ok, weights, 0.0).sum(axis=0)
        score = np.where(ok, values * weights, 0.0).sum(axis=0)
        return np.where(total > 0, score / np.where(total > 0, total, 1.0), np.nan)

    def compute_quality_score(self, profitability: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(profitability, float) / 0.20, 0.0, 1.0)

    def compute_momentum_score(self, prices: np.ndarray) -> np.ndarray:
        """12-1 month momentum mapped to ``[0, 1]``; 0.5 with under a year of prices."""
        prices = np.asarray(prices, float)
        if prices.shape[0] < self.momentum_days + 1:
            return np.full(prices.shape[1], 0.5)
        ret = prices[-1 - self.skip_days] / prices[-1 - self.momentum_days] - 1.0
        return np.clip(ret + 0.5, 0.0, 1.0)

    # -- the screen ---------------------------------------------------------------------
    def screen_by_factors(
        self,
        view: MarketView,
        symbols: Sequence[str] | None = None,
        factors: Sequence[str] = SCREEN_FACTORS,
        weights: Mapping[str, float] | None = None,
        top_n: int = 50,
    ) -> pd.DataFrame:
        """The ``top_n`` symbols by weighted composite, best first.

        Columns: ``asset_class``, one per factor, ``composite``; indexed by symbol.
        ``weights`` default to equal; they must be non-negative and name only ``factors``.
        """
        chosen = list(symbols) if symbols is not None else list(view.tickers)
        unknown = [f for f in factors if f not in SCREEN_FACTORS]
        if unknown or not factors:
            raise ValueError(f"unknown screen factors {unknown}; choose from "
                             f"{', '.join(SCREEN_FACTORS)}")
        weights = dict(weights) if weights is not None else {f: 1.0 for f in factors}
        stray = sorted(set(weights) - set(factors))
        if stray or any(weights.get(f, 0.0) < 0 for f in factors):
            raise ValueError(f"weights must be >= 0 and name only the factors {list(factors)}"
                             f" (extra: {stray})")
        if sum(weights.get(f, 0.0) for f in factors) <= 0:
            raise ValueError("screen weights sum to 0; give at least one positive weight")
        if top_n < 1:
            raise ValueError(f"top_n must be at least 1, got {top_n}")

        cols = [view.column(s) for s in chosen]
        scores = {f: self._factor(view, f, cols) for f in factors}
        table = pd.DataFrame(scores, index=pd.Index(chosen, name="symbol"))
        w = np.array([weights.get(f, 0.0) for f in factors])
        values = table[list(factors)].to_numpy()
        ok = np.isfinite(values)
        total = np.where(ok, w, 0.0).sum(axis=1)
        composite = np.where(ok, values * w, 0.0).sum(axis=1)
        table["composite"] = np.where(total > 0, composite / np.where(total > 0, total, 1), np.nan)
        table.insert(0, "asset_class", [view.asset_class(s) for s in chosen])
        table = table.sort_values("composite", ascending=False, na_position="last",
                                  kind="mergesort")
        return table.head(top_n)

    def _factor(self, view: MarketView, factor: str, cols: list[int]) -> np.ndarray:
        def field(name: str) -> np.ndarray | None:
            if name not in view.fundamental_fields:
                return None
            return np.asarray(view.fundamental(name)[-1, cols], dtype=float)

        n = len(cols)
        if factor == "momentum":
            return self.compute_momentum_score(view.prices[:, cols])
        if factor == "quality":
            roe = field("profitability")
            return np.full(n, np.nan) if roe is None else self.compute_quality_score(roe)
        ey, bm = field("earnings_yield"), field("book_to_market")
        if ey is None and bm is None:
            return np.full(n, np.nan)
        return self.compute_value_score(ey, bm)
