"""Stocks: the Fama-French five factors (spec 5.4.1).

| factor | field(s) | attractive when | time-series part |
| --- | --- | --- | --- |
| profitability | ``profitability`` (ROE) | high | ROE against its own history |
| value | ``book_to_market``, ``earnings_yield`` | high (cheap) | both against own history |
| size | ``market_cap`` (proxy: dollar volume) | small | none (a ranking only) |
| investment | ``investment`` (asset growth) | low (conservative) | against own history |
| momentum | prices | high 12-1 month return | the trend's t-statistic |
"""

from __future__ import annotations

import numpy as np

from strategy.factors import kernels
from strategy.factors.base import FactorInputs, FactorScorer, RawFactor
from strategy.factors.common import MISSING_FIELD, field_level, momentum_factor

__all__ = ["StockFactorScorer"]


def _mean_finite(stack: np.ndarray) -> np.ndarray:
    """Column means over the finite entries of a ``[row, asset]`` array (NaN if none)."""
    finite = np.isfinite(stack)
    count = finite.sum(axis=0)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


class StockFactorScorer(FactorScorer):
    asset_class = "stocks"
    factors = ("profitability", "value", "size", "investment", "momentum")
    fields = ("profitability", "book_to_market", "earnings_yield", "market_cap", "investment")

    def compute(self, inputs: FactorInputs) -> tuple[list[RawFactor], dict[str, str]]:
        out: list[RawFactor] = []
        missing: dict[str, str] = {}

        roe = field_level(inputs, "profitability")
        if roe is None:
            missing["profitability"] = MISSING_FIELD.format(field="profitability")
        else:
            out.append(RawFactor("profitability", roe, roe, inputs.history_z["profitability"],
                                 "profitability"))

        value_fields = [f for f in ("book_to_market", "earnings_yield") if f in inputs.levels]
        if not value_fields:
            missing["value"] = MISSING_FIELD.format(field="book_to_market")
        else:
            levels = np.vstack([inputs.levels[f] for f in value_fields])
            ranks, _ = kernels.cross_sectional(levels)
            history = np.vstack([inputs.history_z[f] for f in value_fields])
            out.append(RawFactor("value", _mean_finite(ranks), levels[0],
                                 _mean_finite(history), "+".join(value_fields)))

        cap = field_level(inputs, "market_cap")
        if cap is not None:
            out.append(RawFactor("size", -np.log(np.where(cap > 0, cap, np.nan)), cap, None,
                                 "market_cap"))
        else:
            traded = inputs.dollar_volume(inputs.settings.volatility_lookback_days)
            if traded is None:
                missing["size"] = "field 'market_cap' not in the data and no volumes"
            else:
                out.append(RawFactor("size", -np.log(np.where(traded > 0, traded, np.nan)),
                                     traded, None, "dollar_volume (proxy for market_cap)"))

        growth = field_level(inputs, "investment")
        if growth is None:
            missing["investment"] = MISSING_FIELD.format(field="investment")
        else:
            out.append(RawFactor("investment", -growth, growth, -inputs.history_z["investment"],
                                 "investment"))

        mom = momentum_factor(inputs)
        if isinstance(mom, str):
            missing["momentum"] = mom
        else:
            out.append(mom)
        return out, missing
