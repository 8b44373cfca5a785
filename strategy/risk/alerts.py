"""Intraday monitoring: alerts raised on the latest bar and the observers that receive them.

An *alert handler* is any callable taking one :class:`~strategy.records.RiskAlert`. The
risk controller calls every handler it was given, in order, for each alert it raises
(rule breaches during a decision, and the bar checks of :func:`bar_alerts`). A live
deployment calls :meth:`~strategy.risk.controller.RiskController.monitor` on every new
bar between rebalances to get the same checks without a decision.

Checks on the latest bar (severity on the Risk-MAS scale, 0 pass to 3 block):

- ``intraday_loss`` (2): the held portfolio lost more than the VaR limit in one day;
- ``vix_spike`` (1, or 2 at extreme levels): VIX jumped by ``vix_jump`` over a week;
- ``asset_shock`` (1): a held asset moved more than ``shock_sigma`` daily deviations;
- ``drawdown_warning`` (1): drawdown passed ``warning_fraction`` of the trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import MarketView
from strategy.records import RiskAlert
from strategy.risk.limits import RiskLimits
from strategy.risk.model import RiskModel

__all__ = ["AlertHandler", "AlertSettings", "bar_alerts"]

AlertHandler = Callable[[RiskAlert], None]


class AlertSettings(BaseModel):
    """Thresholds of the bar checks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vix_jump: float = Field(default=0.30, gt=0, description="relative rise over 5 days")
    vix_extreme: float = Field(default=40.0, gt=0)
    shock_sigma: float = Field(default=6.0, gt=0)
    warning_fraction: float = Field(default=0.8, gt=0, le=1)


def bar_alerts(
    view: MarketView,
    held: Mapping[str, float],
    drawdown: float,
    limits: RiskLimits,
    model: RiskModel,
    settings: AlertSettings,
) -> list[RiskAlert]:
    """The checks of the latest bar of ``view`` for a portfolio holding ``held``."""
    as_of = str(view.as_of.date())
    alerts: list[RiskAlert] = []
    if view.n_days >= 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            last = view.prices[-1] / view.prices[-2] - 1.0
        day_return = 0.0
        for ticker, weight in held.items():
            if ticker in model.position:
                r = float(last[view.column(ticker)])
                if np.isfinite(r):
                    day_return += weight * r
                    sigma = float(model.daily_volatility[model.position[ticker]])
                    if sigma > 0 and weight > 0 and abs(r) > settings.shock_sigma * sigma:
                        alerts.append(RiskAlert(
                            as_of=as_of, code="asset_shock", severity=1, value=r,
                            limit=settings.shock_sigma * sigma,
                            message=(f"{ticker} moved {r:+.2%} today, more than "
                                     f"{settings.shock_sigma:g} daily deviations")))
        if -day_return > limits.max_portfolio_var_95:
            alerts.append(RiskAlert(
                as_of=as_of, code="intraday_loss", severity=2, value=-day_return,
                limit=limits.max_portfolio_var_95,
                message=(f"the portfolio lost {-day_return:.2%} today, more than the VaR "
                         f"limit {limits.max_portfolio_var_95:.2%}")))
    if "VIX" in view.macro_series:
        vix = view.macro("VIX")
        now = float(vix[-1])
        before = float(vix[-6]) if vix.size >= 6 else float(vix[0])
        if np.isfinite(now) and np.isfinite(before) and before > 0:
            jump = now / before - 1.0
            if jump >= settings.vix_jump or now >= settings.vix_extreme:
                alerts.append(RiskAlert(
                    as_of=as_of, code="vix_spike",
                    severity=2 if now >= settings.vix_extreme else 1, value=now,
                    limit=settings.vix_extreme,
                    message=f"VIX at {now:.1f} ({jump:+.0%} over the last 5 days)"))
    trigger = limits.max_drawdown_trigger
    if settings.warning_fraction * trigger <= drawdown < trigger:
        alerts.append(RiskAlert(
            as_of=as_of, code="drawdown_warning", severity=1, value=drawdown, limit=trigger,
            message=(f"drawdown {drawdown:.1%} is approaching the de-risking trigger "
                     f"{trigger:.0%}")))
    return alerts
