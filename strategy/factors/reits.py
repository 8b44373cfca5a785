"""REITs: NAV discount, sector outlook and idiosyncratic risk (spec 5.4.4).

| factor | field | attractive when | time-series part |
| --- | --- | --- | --- |
| nav_discount | ``nav_discount`` (price / NAV - 1) | cheaper than usual | the same z-score |
| sector_outlook | ``sector_outlook`` in [-1, 1] | positive | ``outlook / 0.5`` |
| idiosyncratic_risk | prices | low residual volatility vs the class | none |

When neither fundamental field is in the data, 12-1 month momentum stands in for them
(recorded with source ``price (fallback)``), so the class still has a view on timing.
"""

from __future__ import annotations

import numpy as np

from strategy.factors import kernels
from strategy.factors.base import FactorInputs, FactorScorer, RawFactor
from strategy.factors.common import MISSING_FIELD, field_level, momentum_factor

__all__ = ["OUTLOOK_SCALE", "REITsFactorScorer"]

#: A sector outlook of this size counts as a one-standard-deviation view.
OUTLOOK_SCALE = 0.5


class REITsFactorScorer(FactorScorer):
    asset_class = "reits"
    factors = ("nav_discount", "sector_outlook", "idiosyncratic_risk", "momentum")
    fields = ("nav_discount", "sector_outlook")

    def compute(self, inputs: FactorInputs) -> tuple[list[RawFactor], dict[str, str]]:
        out: list[RawFactor] = []
        missing: dict[str, str] = {}

        nav = field_level(inputs, "nav_discount")
        if nav is None:
            missing["nav_discount"] = MISSING_FIELD.format(field="nav_discount")
        else:
            cheapness = -inputs.history_z["nav_discount"]
            out.append(RawFactor("nav_discount", cheapness, nav, cheapness, "nav_discount"))

        outlook = field_level(inputs, "sector_outlook")
        if outlook is None:
            missing["sector_outlook"] = MISSING_FIELD.format(field="sector_outlook")
        else:
            series = np.clip(outlook / OUTLOOK_SCALE, -kernels.CLIP, kernels.CLIP)
            out.append(RawFactor("sector_outlook", outlook, outlook, series, "sector_outlook"))

        idio = kernels.idiosyncratic_volatility(inputs.returns)
        if np.isfinite(idio).any():
            out.append(RawFactor("idiosyncratic_risk", -idio, idio, None, "price"))
        else:
            missing["idiosyncratic_risk"] = "too few returns for residual volatility"

        if nav is None and outlook is None:
            mom = momentum_factor(inputs, source="price (fallback)")
            if isinstance(mom, str):
                missing["momentum"] = mom
            else:
                out.append(mom)
        return out, missing
