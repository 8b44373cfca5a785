"""Stress scenarios for the Risk gate: real crisis windows and synthetic shocks.

Two kinds, listed for a panel by :func:`stress_scenarios`:

- **real**: where the panel covers a real crisis of :data:`~alphaloop.data.crises.CRISIS_WINDOWS`
  (2008-09, February-March 2020, 2022) with enough history before it, the real window is
  replayed: the panel up to the crisis' last day, evaluated from the session before it
  began. A crisis the panel does not cover is skipped, and :func:`skipped_crises` says why.
- **synthetic**: scripted shocks to asset-class indices (:data:`STRESS_SCENARIOS`),
  propagated to every asset through the panel's own covariance and betas (see
  :mod:`alphaloop.data._stress_paths`). Their names say ``synthetic``; they are appended
  after the panel's last day and are never stamped with a real crisis' dates.

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
from alphaloop.data.crises import (
    CRISIS_WINDOWS,
    DEFAULT_HISTORY,
    CrisisWindow,
    crisis_coverage,
)
from alphaloop.data.panel import DataError, MarketData

__all__ = ["STRESS_SCENARIOS", "Scenario", "StressScenario", "StressWindow",
           "real_scenario", "skipped_crises", "stress_panel", "stress_scenarios"]

Phases = tuple[float, float]


class StressScenario(BaseModel):
    """A scripted synthetic shock. ``moves`` maps an asset class to the simple return of
    its equal-weighted index over (the fall phase, the recovery phase); classes left out
    move as the panel's covariance says they move with the scripted ones. Rates moves
    (changes of the level, in fractions) and the VIX path apply to panels that carry
    those macro series."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    fall_days: int = Field(ge=1)
    recovery_days: int = Field(ge=0)
    moves: dict[str, Phases]
    rate_10y: Phases = (0.0, 0.0)
    rate_2y: Phases = (0.0, 0.0)
    vix_peak: float = Field(gt=0)
    vix_end: float = Field(gt=0)
    noise: float = Field(default=1.5, ge=0, description="day-to-day noise, x the panel's")
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
            name="synthetic_crash",
            description="synthetic deep crash: the equity index falls 50% over nine months "
                        "(commodities -40%, REITs -55%, crypto -60%), then recovers a little; "
                        "every other asset moves with them as the data's covariance says",
            fall_days=190, recovery_days=60,
            moves={"stocks": (-0.50, 0.12), "commodities": (-0.40, 0.05),
                   "reits": (-0.55, 0.10), "crypto": (-0.60, 0.10)},
            rate_10y=(-0.015, 0.003), rate_2y=(-0.025, 0.0),
            vix_peak=65.0, vix_end=35.0, noise=1.5, seed=11),
        StressScenario(
            name="synthetic_vol_shock",
            description="synthetic volatility shock: the equity index falls 35% in 23 "
                        "sessions (REITs -40%, crypto -45%), then rebounds 40% over three "
                        "months",
            fall_days=23, recovery_days=63,
            moves={"stocks": (-0.35, 0.40), "commodities": (-0.30, 0.15),
                   "reits": (-0.40, 0.30), "crypto": (-0.45, 0.60)},
            rate_10y=(-0.012, 0.001), rate_2y=(-0.013, 0.0),
            vix_peak=80.0, vix_end=28.0, noise=2.0, seed=12),
        StressScenario(
            name="synthetic_rates_shock",
            description="synthetic rates shock: the bond index loses 15% over six months "
                        "as yields rise (2-year +300bp, 10-year +150bp) and the equity "
                        "index falls 18%",
            fall_days=126, recovery_days=21,
            moves={"bonds": (-0.15, 0.0), "stocks": (-0.18, 0.02)},
            rate_10y=(0.015, 0.0), rate_2y=(0.03, 0.0),
            vix_peak=32.0, vix_end=26.0, noise=1.2, seed=13),
        StressScenario(
            name="synthetic_crypto_crash",
            description="synthetic crypto winter: the crypto index loses 75% over six "
                        "months; other assets move only as much as the data links them",
            fall_days=120, recovery_days=30,
            moves={"crypto": (-0.75, 0.05)},
            vix_peak=24.0, vix_end=20.0, noise=1.2, seed=14),
    )
    return MappingProxyType({s.name: s for s in rows})


STRESS_SCENARIOS: Mapping[str, StressScenario] = _scenarios()
"""Synthetic scenario name -> :class:`StressScenario` (read-only)."""


class Scenario(BaseModel):
    """One stress test for a panel: the panel to backtest and the window to judge."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    kind: Literal["real", "synthetic"]
    panel: MarketData
    window: StressWindow
    description: str


def stress_panel(data: MarketData, name: str, *,
                 start: pd.Timestamp | date | str | None = None
                 ) -> tuple[MarketData, StressWindow]:
    """``data`` up to ``start`` (default: its last day) followed by scenario ``name``.

    The shock begins the business day after ``start``; the returned window runs from
    ``start`` (the last normal day, where a strategy rebalances before the shock) to the
    last shocked day. Works on any panel holding an asset of a class the scenario
    shocks; fields and series it does not model are held at their last value.
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


def real_scenario(data: MarketData, crisis: CrisisWindow) -> Scenario:
    """Replay ``crisis`` on ``data`` (which must cover it, see :func:`crisis_coverage`)."""
    start = int(data.dates.searchsorted(pd.Timestamp(crisis.start), side="left"))
    if start == 0:
        raise DataError(f"{data.source}: no session before {crisis.start} to start from")
    panel = data.slice(end=crisis.end)
    window = StressWindow(start=panel.dates[start - 1].date(),
                          end=panel.dates[-1].date(), label=f"stress:{crisis.name}")
    return Scenario(name=crisis.name, kind="real", panel=panel, window=window,
                    description=f"real window {crisis.start} to {crisis.end}: "
                                f"{crisis.description}")


def skipped_crises(data: MarketData, *, history: int = DEFAULT_HISTORY) -> dict[str, str]:
    """Real crisis windows ``data`` cannot replay, each with the reason."""
    out = {}
    for crisis in CRISIS_WINDOWS.values():
        coverage = crisis_coverage(data, crisis, history=history)
        if not coverage.covered:
            out[crisis.name] = coverage.reason
    return out


def stress_scenarios(data: MarketData, *, history: int = DEFAULT_HISTORY) -> list[Scenario]:
    """Every stress test for ``data``: the real crises it covers, then the synthetic
    shocks that apply to its assets (a shock to classes the panel does not hold is left
    out). ``history`` is the number of sessions a real window needs before it."""
    out = [real_scenario(data, crisis) for crisis in CRISIS_WINDOWS.values()
           if crisis_coverage(data, crisis, history=history).covered]
    classes = {a.asset_class for a, on in zip(data.assets, data.listed[-1], strict=True)
               if on}
    for name, scenario in STRESS_SCENARIOS.items():
        if not classes & set(scenario.moves):
            continue
        panel, window = stress_panel(data, name)
        out.append(Scenario(name=name, kind="synthetic", panel=panel, window=window,
                            description=scenario.description))
    return out
