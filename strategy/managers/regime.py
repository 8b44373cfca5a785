"""The market's volatility regime, read from VIX or, without it, from prices.

The managers tilt toward bonds and cash when volatility is high and the hedging agent
picks safe-haven hedges then. Both read the level from :func:`volatility_index`: the
latest ``VIX`` of the view's macro series when there is one, otherwise a price-only
proxy (100 times the annualised 21-day realised volatility of an equal-weight basket of
the view's stocks, or of all tradable assets when there are no stocks), so data
without macro series still gives a regime.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from alphaloop.contract import TRADING_DAYS_PER_YEAR, MarketView
from strategy.risk.model import RiskModel

__all__ = [
    "HIGH_VIX",
    "LOW_VIX",
    "VolatilityReading",
    "tail_level",
    "volatility_index",
    "volatility_regime",
]

LOW_VIX = 15.0
HIGH_VIX = 25.0
_PROXY_DAYS = 21


class VolatilityReading(BaseModel):
    """A volatility-index level and where it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: float
    source: Literal["VIX", "realised_volatility_proxy", "default"]


def volatility_index(view: MarketView, model: RiskModel) -> VolatilityReading:
    """The latest VIX, or the realised-volatility proxy described in the module docstring."""
    if "VIX" in view.macro_series:
        series = view.macro("VIX")
        finite = series[np.isfinite(series)]
        if finite.size:
            return VolatilityReading(level=float(finite[-1]), source="VIX")
    columns = model.columns_of("stocks")
    if columns.size == 0:
        columns = np.arange(model.n_assets)
    recent = model.returns[-_PROXY_DAYS:, columns] if columns.size else np.zeros((0, 0))
    if recent.shape[0] < 5 or recent.shape[1] == 0:
        return VolatilityReading(level=20.0, source="default")
    basket = recent.mean(axis=1)
    level = 100.0 * float(basket.std(ddof=1)) * np.sqrt(TRADING_DAYS_PER_YEAR)
    return VolatilityReading(level=level, source="realised_volatility_proxy")


def volatility_regime(level: float, *, high: float = HIGH_VIX,
                      low: float = LOW_VIX) -> Literal["low", "normal", "high"]:
    if level >= high:
        return "high"
    if level < low:
        return "low"
    return "normal"


def tail_level(level: float) -> Literal["low", "moderate", "high", "extreme"]:
    """The spec's VIX wording for tail-risk reports."""
    if level < LOW_VIX:
        return "low"
    if level < HIGH_VIX:
        return "moderate"
    if level < 35.0:
        return "high"
    return "extreme"
