"""Commodities: term structure, momentum and basis (spec 5.4.3).

| factor | field | attractive when | time-series part |
| --- | --- | --- | --- |
| term_structure | ``roll_yield`` | backwardation (> 0) | level over its typical size |
| momentum | prices | high 12-1 month return | the trend's t-statistic |
| basis | ``basis`` | spot above the front future (> 0) | level over its typical size |

The time-series part of the two curve factors keeps the level's sign (backwardation is
bullish whatever its past), scaled by the root-mean-square of the window.
"""

from __future__ import annotations

from strategy.factors import kernels
from strategy.factors.base import FactorInputs, FactorScorer, RawFactor
from strategy.factors.common import MISSING_FIELD, field_level, momentum_factor

__all__ = ["CommodityFactorScorer"]


class CommodityFactorScorer(FactorScorer):
    asset_class = "commodities"
    factors = ("term_structure", "momentum", "basis")
    fields = ("roll_yield", "basis")

    def compute(self, inputs: FactorInputs) -> tuple[list[RawFactor], dict[str, str]]:
        out: list[RawFactor] = []
        missing: dict[str, str] = {}
        for name, field in (("term_structure", "roll_yield"), ("basis", "basis")):
            level = field_level(inputs, field)
            if level is None:
                missing[name] = MISSING_FIELD.format(field=field)
                continue
            window = inputs.fundamentals[field][-inputs.settings.fundamental_history_days:]
            out.append(RawFactor(name, level, level, kernels.scaled_level(window), field))
        mom = momentum_factor(inputs)
        if isinstance(mom, str):
            missing["momentum"] = mom
        else:
            out.append(mom)
        order = {name: i for i, name in enumerate(self.factors)}
        return sorted(out, key=lambda f: order[f.name]), missing
