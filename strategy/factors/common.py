"""Factors several asset classes share: price momentum and price-based proxies."""

from __future__ import annotations

import numpy as np

from strategy.factors import kernels
from strategy.factors.base import FactorInputs, RawFactor

__all__ = ["MISSING_FIELD", "field_level", "momentum_factor", "volatility_factor"]

MISSING_FIELD = "field {field!r} not in the data and no price proxy"


def momentum_factor(inputs: FactorInputs, name: str = "momentum",
                    source: str = "price") -> RawFactor | str:
    """12-1 month momentum (windows from the settings): cross-section on the return,
    time series on its t-statistic. Returns the reason as a string when history is short."""
    s = inputs.settings
    result = kernels.momentum(inputs.prices, s.momentum_lookback_days, s.momentum_skip_days)
    if result is None:
        return (f"needs more than {s.momentum_skip_days + kernels.MIN_MOMENTUM_DAYS} days of "
                f"prices, the view holds {inputs.prices.shape[0]}")
    total, t_stat = result
    return RawFactor(name=name, values=total, raw=total, time_series=t_stat, source=source)


def volatility_factor(inputs: FactorInputs, name: str, source: str) -> RawFactor | str:
    """Low realised volatility is attractive (a price-only low-risk factor)."""
    vol = kernels.realised_volatility(inputs.returns, inputs.settings.volatility_lookback_days)
    if not np.isfinite(vol).any():
        return "too few returns for realised volatility"
    return RawFactor(name=name, values=-vol, raw=vol, time_series=None, source=source)


def field_level(inputs: FactorInputs, field: str) -> np.ndarray | None:
    """The latest finite value of a fundamental field per asset, or ``None`` if absent."""
    return inputs.levels.get(field)
