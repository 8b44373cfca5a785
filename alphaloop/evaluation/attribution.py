"""Where a run's return came from: by asset class, by FinSage expert and by factor.

The Quant's performance review attributes ``main``'s in-sample run with it, and the SRE
the live record of a deployment, which the next cycle's review starts from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.data.panel import MarketData
from alphaloop.harness import BacktestResult

__all__ = ["attribution"]


def attribution(result: BacktestResult, data: MarketData) -> dict[str, dict[str, float]]:
    """Annualised contribution to return by asset class, expert and factor.

    By class: sum over days of yesterday's weight times today's asset return (annualised).
    By expert: the average class tilt each expert caused (``expert_contributions`` of the
    decision records); by factor: the portfolio's average factor exposure
    (``factor_exposures``). Records without those keys contribute nothing.
    """
    first = data.index_of(result.dates[0])
    rows = np.arange(first, first + len(result.dates))
    weights = np.asarray(result.weights)
    held = np.vstack([weights[:1] * 0.0, weights[:-1]])
    contrib = held * data.returns[rows]
    by_class: dict[str, float] = defaultdict(float)
    for col, asset in enumerate(data.assets):
        by_class[asset.asset_class] += float(contrib[:, col].mean() * TRADING_DAYS_PER_YEAR)
    out: dict[str, dict[str, float]] = {"asset_class": dict(by_class)}
    experts: dict[str, list[float]] = defaultdict(list)
    factors: dict[str, list[float]] = defaultdict(list)
    for decision in result.decisions:
        for item in decision.record.get("expert_contributions", []) or []:
            if isinstance(item, Mapping) and isinstance(item.get("class_tilt"), int | float):
                experts[str(item.get("expert"))].append(float(item["class_tilt"]))
        exposures = decision.record.get("factor_exposures", {}) or {}
        if isinstance(exposures, Mapping):
            for name, value in exposures.items():
                if isinstance(value, int | float) and np.isfinite(value):
                    factors[str(name)].append(float(value))
    out["expert"] = {k: float(np.mean(v)) for k, v in sorted(experts.items())}
    out["factor"] = {k: float(np.mean(v)) for k, v in sorted(factors.items())}
    return out
