"""Bonds: carry, value, low risk and momentum (spec 5.4.2).

| factor | field(s) | attractive when | time-series part |
| --- | --- | --- | --- |
| carry | ``yield`` minus macro ``rate_2y`` | high | carry against its own history |
| value | ``credit_spread`` | wide of its own history (cheap) | the same z-score |
| low_risk | ``duration`` (proxy: realised volatility) | short / calm | none |
| momentum | prices | high 12-1 month return | the trend's t-statistic |

Without ``rate_2y`` carry is the yield itself (the short rate is common to all bonds, so
the ranking is unchanged; only the time-series part loses the curve's level).
"""

from __future__ import annotations

import numpy as np

from strategy.factors import kernels
from strategy.factors.base import FactorInputs, FactorScorer, RawFactor
from strategy.factors.common import (
    MISSING_FIELD,
    field_level,
    momentum_factor,
    volatility_factor,
)

__all__ = ["BondFactorScorer"]


class BondFactorScorer(FactorScorer):
    asset_class = "bonds"
    factors = ("carry", "value", "low_risk", "momentum")
    fields = ("yield", "credit_spread", "duration")
    macro_series = ("rate_2y",)

    def compute(self, inputs: FactorInputs) -> tuple[list[RawFactor], dict[str, str]]:
        out: list[RawFactor] = []
        missing: dict[str, str] = {}

        ytm = inputs.field("yield")
        if ytm is None:
            missing["carry"] = MISSING_FIELD.format(field="yield")
        else:
            short = inputs.macro.get("rate_2y")
            source = "yield"
            carry = ytm
            if short is not None and np.isfinite(short).any():
                carry = ytm - short[-ytm.shape[0]:, None]
                source = "yield-rate_2y"
            level = kernels.last_valid(carry)
            history = carry[-inputs.settings.fundamental_history_days:]
            out.append(RawFactor("carry", level, level, kernels.own_history_z(history), source))

        spread = field_level(inputs, "credit_spread")
        if spread is None:
            missing["value"] = MISSING_FIELD.format(field="credit_spread")
        else:
            cheapness = inputs.history_z["credit_spread"]
            out.append(RawFactor("value", cheapness, spread, cheapness, "credit_spread"))

        duration = field_level(inputs, "duration")
        if duration is not None:
            out.append(RawFactor("low_risk", -duration, duration, None, "duration"))
        else:
            proxy = volatility_factor(inputs, "low_risk", "volatility (proxy for duration)")
            if isinstance(proxy, str):
                missing["low_risk"] = proxy
            else:
                out.append(proxy)

        mom = momentum_factor(inputs)
        if isinstance(mom, str):
            missing["momentum"] = mom
        else:
            out.append(mom)
        return out, missing
