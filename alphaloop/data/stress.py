"""Named stress scenarios for the Risk gate, drawn with the synthetic market's factor model.

A scenario is a scripted shock to the market factors: over ``fall_days`` the equity,
commodity, crypto and REIT factors move by the stated amounts, yields and the high-yield
spread change by the stated amounts and VIX climbs to its peak; over ``recovery_days``
they move again to the end state. Day-to-day the paths are as bumpy as the named regime's
volatility (scaled by ``noise``), yet each phase ends exactly at its stated total, so a
scenario always does what its description says. Assets respond through the same
loadings as in :mod:`alphaloop.data.synthetic` (any ticker works: unknown tickers take
their class's profile).

:func:`stress_panel` keeps the data up to the shock start unchanged, so a strategy has
its normal history, and appends the shocked days. The result is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.data._stress_paths import shocked_panel
from alphaloop.data.panel import DataError, MarketData

__all__ = ["STRESS_SCENARIOS", "StressScenario", "StressWindow", "stress_panel"]

Phases = tuple[float, float]


class StressScenario(BaseModel):
    """A scripted market shock. Each pair is (fall phase, recovery phase).

    Factor moves (``equity``, ``commodity``, ``crypto``, ``reits``) are simple returns of
    the factor over the phase; ``reits`` is the REIT factor on top of their equity beta.
    Rates, spread and inflation moves are changes of the level, in fractions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    fall_days: int = Field(ge=1)
    recovery_days: int = Field(ge=0)
    equity: Phases = (0.0, 0.0)
    commodity: Phases = (0.0, 0.0)
    crypto: Phases = (0.0, 0.0)
    reits: Phases = (0.0, 0.0)
    rate_10y: Phases = (0.0, 0.0)
    rate_2y: Phases = (0.0, 0.0)
    hy_spread: Phases = (0.0, 0.0)
    inflation: Phases = (0.0, 0.0)
    vix_peak: float = Field(gt=0)
    vix_end: float = Field(gt=0)
    regime: Literal["calm", "volatile", "crash"] = "crash"
    noise: float = Field(default=0.5, ge=0, description="day-to-day noise, x regime vol")
    seed: int = 0

    @property
    def length(self) -> int:
        return self.fall_days + self.recovery_days


class StressWindow(BaseModel):
    """The evaluation window of a stressed panel: from the last normal day to the end."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    end: date
    label: str


def _scenarios() -> Mapping[str, StressScenario]:
    rows = (
        StressScenario(
            name="crash_2008",
            description="a 2008-style crisis: equities fall ~52% over nine months while "
                        "the high-yield spread widens by 12 points and treasuries rally "
                        "(10y -150bp, 2y -250bp); VIX peaks at 65",
            fall_days=190, recovery_days=60,
            equity=(-0.52, 0.12), commodity=(-0.45, 0.05), crypto=(-0.60, 0.10),
            reits=(-0.15, 0.0), rate_10y=(-0.015, 0.003), rate_2y=(-0.025, 0.0),
            hy_spread=(0.12, -0.03), inflation=(-0.03, 0.005),
            vix_peak=65.0, vix_end=35.0, regime="crash", noise=0.6, seed=2008),
        StressScenario(
            name="vol_shock_2020",
            description="a 2020-style volatility shock: equities fall 35% in 23 trading "
                        "days with VIX near 80, then rebound 40% over three months",
            fall_days=23, recovery_days=63,
            equity=(-0.35, 0.40), commodity=(-0.30, 0.15), crypto=(-0.45, 0.60),
            reits=(-0.12, 0.03), rate_10y=(-0.012, 0.001), rate_2y=(-0.013, 0.0),
            hy_spread=(0.05, -0.03), inflation=(-0.01, 0.0),
            vix_peak=80.0, vix_end=28.0, regime="crash", noise=0.35, seed=2020),
        StressScenario(
            name="rates_shock",
            description="a 2022-style rates shock: 2-year yields rise 300bp and 10-year "
                        "yields 150bp (bear flattening) over six months, long treasuries "
                        "lose ~20%, equities fall ~18% and inflation rises 2 points",
            fall_days=126, recovery_days=21,
            equity=(-0.18, 0.02), commodity=(0.08, 0.0), crypto=(-0.35, 0.0),
            reits=(-0.08, 0.0), rate_10y=(0.015, 0.0), rate_2y=(0.03, 0.0),
            hy_spread=(0.015, 0.0), inflation=(0.02, 0.0),
            vix_peak=32.0, vix_end=26.0, regime="volatile", noise=0.5, seed=2022),
        StressScenario(
            name="crypto_crash",
            description="a crypto winter: crypto assets lose ~75% over six months while "
                        "other markets barely move",
            fall_days=120, recovery_days=30,
            equity=(-0.05, 0.02), crypto=(-0.75, 0.05), hy_spread=(0.005, 0.0),
            vix_peak=24.0, vix_end=20.0, regime="volatile", noise=0.5, seed=2018),
    )
    return MappingProxyType({s.name: s for s in rows})


STRESS_SCENARIOS: Mapping[str, StressScenario] = _scenarios()
"""Scenario name -> :class:`StressScenario` (read-only)."""


def stress_panel(data: MarketData, name: str, *,
                 start: pd.Timestamp | date | str | None = None
                 ) -> tuple[MarketData, StressWindow]:
    """``data`` up to ``start`` (default: its last day) followed by scenario ``name``.

    The shock begins the business day after ``start``; the returned window runs from
    ``start`` (the last normal day, where a strategy rebalances before the shock) to the
    last shocked day. Works on any panel; fields and series it does not model are held
    at their last value.
    """
    scenario = STRESS_SCENARIOS.get(name)
    if scenario is None:
        raise DataError(f"unknown stress scenario {name!r}; choose one of "
                        f"{', '.join(STRESS_SCENARIOS)}")
    anchor = data.n_days - 1 if start is None else data.index_of(start)
    history = data if anchor == data.n_days - 1 else data.slice(end=data.dates[anchor])
    stressed = shocked_panel(history, scenario)
    window = StressWindow(start=history.dates[-1].date(), end=stressed.dates[-1].date(),
                          label=f"stress:{name}")
    return stressed, window
