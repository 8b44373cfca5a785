"""Crypto: network effect, adoption and crash risk (spec 5.4.5).

| factor | field | attractive when | time-series part |
| --- | --- | --- | --- |
| network_effect | ``active_addresses`` (proxy: dollar volume) | fast growth | growth / its size |
| adoption | ``adoption`` (transaction-volume index) | fast growth | growth / its size |
| crash_risk | prices | low Cornish-Fisher 99% VaR | calm: 21-day vol below its history |

Growth is the log change over ``GROWTH_HORIZON_DAYS``, its time-series part that growth
over the root-mean-square of the growth rates in the window. Crash risk folds volatility,
skewness and kurtosis into one modified value at risk; its time-series part is minus the
z-score of the 21-day volatility against its history in the window (a volatility spike
warns of crashes).
"""

from __future__ import annotations

import numpy as np

from strategy.factors import kernels
from strategy.factors.base import FactorInputs, FactorScorer, RawFactor
from strategy.factors.common import MISSING_FIELD

__all__ = ["CryptoFactorScorer"]

_SMOOTHING_DAYS = 21  # dollar volume is averaged over this many days before its growth


def _growth_factor(name: str, series: np.ndarray, horizon: int, source: str
                   ) -> RawFactor | str:
    result = kernels.log_growth(series, horizon)
    if result is None:
        return f"needs more than {horizon + 1} days of {source}"
    last, scaled = result
    return RawFactor(name, last, last, scaled, source)


def _smoothed_dollar_volume(inputs: FactorInputs) -> np.ndarray | None:
    traded = inputs.prices * inputs.volumes
    if not np.isfinite(traded).any():
        return None
    clean = np.where(np.isfinite(traded), traded, 0.0)
    csum = np.vstack([np.zeros((1, clean.shape[1])), np.cumsum(clean, axis=0)])
    if clean.shape[0] <= _SMOOTHING_DAYS:
        return None
    return (csum[_SMOOTHING_DAYS:] - csum[:-_SMOOTHING_DAYS]) / _SMOOTHING_DAYS


class CryptoFactorScorer(FactorScorer):
    asset_class = "crypto"
    factors = ("network_effect", "adoption", "crash_risk")
    fields = ("active_addresses", "adoption")

    def compute(self, inputs: FactorInputs) -> tuple[list[RawFactor], dict[str, str]]:
        out: list[RawFactor] = []
        missing: dict[str, str] = {}
        horizon = inputs.settings.growth_horizon_days

        addresses = inputs.field("active_addresses")
        if addresses is not None:
            network = _growth_factor("network_effect", addresses, horizon, "active_addresses")
        else:
            traded = _smoothed_dollar_volume(inputs)
            network = ("field 'active_addresses' not in the data and no volumes"
                       if traded is None else
                       _growth_factor("network_effect", traded, horizon,
                                      "dollar_volume (proxy for active_addresses)"))
        if isinstance(network, str):
            missing["network_effect"] = network
        else:
            out.append(network)

        index = inputs.field("adoption")
        adoption = (MISSING_FIELD.format(field="adoption") if index is None
                    else _growth_factor("adoption", index, horizon, "adoption"))
        if isinstance(adoption, str):
            missing["adoption"] = adoption
        else:
            out.append(adoption)

        var = kernels.cornish_fisher_var(inputs.returns)
        if np.isfinite(var).any():
            calm = -kernels.volatility_regime_z(inputs.returns)
            out.append(RawFactor("crash_risk", -var, var, calm, "price"))
        else:
            missing["crash_risk"] = "too few returns for a tail-risk estimate"
        return out, missing
