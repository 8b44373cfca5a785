"""The risk controller: the last word on every target the engine returns (spec 2.4, E).

Three layers, in this order, on each decision:

1. **Drawdown trigger** (hard, :mod:`strategy.risk.drawdown`): once the portfolio has
   fallen ``max_drawdown_trigger`` from its peak, every weight is scaled by
   ``derisk_factor`` (full de-risking keeps that share of risky exposure) for at least
   ``cooldown_days`` trading days, and until the drawdown is back within the trigger
   or the sell-off has stopped.
2. **Soft limits** (warn and adjust): a diversification ratio below the minimum or a
   correlation cluster above the maximum moves ``diversification_blend`` of the way to
   the most diversified portfolio of the same assets and exposure; an ex-ante volatility
   above the target scales exposure by ``(target / vol) ** volatility_scaling``.
3. **Hard limits** (veto): :func:`~strategy.risk.limits.enforce_hard_limits` clips single
   assets and classes and scales down to the VaR limit, moving the excess to cash.
   Assets the screen excluded (no usable data) get zero weight.

Alerts raised on the way, and the latest bar's checks (:mod:`strategy.risk.alerts`),
go to the alert handlers. The drawdown state is the controller's only state; it is
saved and restored with :meth:`RiskController.get_state` / :meth:`set_state`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR, MarketView, PortfolioState
from strategy.optimizers import optimize
from strategy.records import CASH, Fallback, RiskAlert, RiskCheck, RiskReport
from strategy.risk.alerts import AlertHandler, AlertSettings, bar_alerts
from strategy.risk.drawdown import DrawdownState, apply_drawdown_rule, current_drawdown
from strategy.risk.limits import RiskLimits, enforce_hard_limits
from strategy.risk.model import RiskModel, estimate_risk_model
from strategy.risk.screen import UniverseScreen, screen_universe

__all__ = ["ControllerSettings", "DrawdownState", "RiskController", "RiskOutcome"]


class ControllerSettings(BaseModel):
    """How the controller adjusts (the limits themselves are :class:`RiskLimits`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    derisk_factor: float = Field(default=0.25, ge=0, le=1)
    cooldown_days: int = Field(default=21, ge=0)
    volatility_scaling: float = Field(default=1.0, ge=0, le=1)
    diversification_blend: float = Field(default=0.5, ge=0, le=1)
    window: int = Field(default=TRADING_DAYS_PER_YEAR, ge=2,
                        description="days behind the risk model")
    alerts: AlertSettings = Field(default_factory=AlertSettings)


@dataclass(frozen=True)
class RiskOutcome:
    """The controller's answer: final weights by ticker (no cash key) and its report."""

    weights: dict[str, float]
    report: RiskReport


class RiskController:
    """Apply the drawdown rule, soft limits and hard limits to target weights."""

    def __init__(
        self,
        limits: RiskLimits | None = None,
        settings: ControllerSettings | None = None,
        *,
        alert_handlers: Sequence[AlertHandler] = (),
    ) -> None:
        self.limits = limits or RiskLimits()
        self.settings = settings or ControllerSettings()
        self.alert_handlers = tuple(alert_handlers)
        self._state = DrawdownState()

    # -- state ------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return self._state.model_dump(mode="json")

    def set_state(self, state: Mapping[str, Any]) -> None:
        self._state = DrawdownState.model_validate(dict(state))

    # -- monitoring -------------------------------------------------------------------
    def monitor(self, view: MarketView, portfolio: PortfolioState,
                model: RiskModel | None = None) -> list[RiskAlert]:
        """Run the latest bar's checks for the held portfolio and notify the handlers."""
        model = model or estimate_risk_model(
            view, screen_universe(view, window=self.settings.window).tradable,
            window=self.settings.window)
        alerts = bar_alerts(view, portfolio.weights, self._peek_drawdown(portfolio),
                            self.limits, model, self.settings.alerts)
        self._notify(alerts)
        return alerts

    def _notify(self, alerts: Sequence[RiskAlert]) -> None:
        for alert in alerts:
            for handler in self.alert_handlers:
                handler(alert)

    # -- drawdown rule ----------------------------------------------------------------
    def _peek_drawdown(self, portfolio: PortfolioState) -> float:
        return current_drawdown(portfolio)

    # -- soft limits ------------------------------------------------------------------
    def _diversify(self, w: np.ndarray, model: RiskModel, as_of: str
                   ) -> tuple[np.ndarray, list[RiskCheck], list[RiskAlert], list[Fallback]]:
        limits, blend = self.limits, self.settings.diversification_blend
        ratio, cluster = model.diversification_ratio(w), model.correlation_cluster(w)
        held = np.flatnonzero(w > 1e-9)
        low_ratio = held.size >= 2 and ratio < limits.min_diversification_ratio
        clustered = held.size >= 2 and cluster > limits.max_correlation_cluster
        fallbacks: list[Fallback] = []
        out = w
        if (low_ratio or clustered) and blend > 0:
            budget = float(w[held].sum())
            cap = min(limits.max_single_asset, budget)
            if cap * held.size >= budget:
                result = optimize("max_diversification",
                                  covariance=model.covariance[np.ix_(held, held)],
                                  bounds=(0.0, cap), budget=budget)
                out = w.copy()
                out[held] = (1 - blend) * w[held] + blend * result.weights
                if result.fallback:
                    fallbacks.append(Fallback(
                        component="risk_controller.diversification",
                        reason=result.message or "max_diversification did not converge",
                        action=f"used {result.fallback} weights for the blend"))
        status = "adjusted" if out is not w else "warning"
        checks = [
            RiskCheck(name="diversification_ratio", kind="soft",
                      limit=limits.min_diversification_ratio, before=ratio,
                      after=model.diversification_ratio(out),
                      status=status if low_ratio else "ok",
                      message=(f"diversification ratio {ratio:.2f} below "
                               f"{limits.min_diversification_ratio:g}; add assets")
                      if low_ratio else ""),
            RiskCheck(name="correlation_cluster", kind="soft",
                      limit=limits.max_correlation_cluster, before=cluster,
                      after=model.correlation_cluster(out),
                      status=status if clustered else "ok",
                      message=(f"held assets' mean correlation {cluster:.2f} above "
                               f"{limits.max_correlation_cluster:g}; diversify")
                      if clustered else ""),
        ]
        alerts = [RiskAlert(as_of=as_of, code=c.name, severity=1, value=c.before,
                            limit=c.limit, message=c.message)
                  for c in checks if c.status != "ok"]
        return out, checks, alerts, fallbacks

    def _target_volatility(self, w: np.ndarray, model: RiskModel, as_of: str
                           ) -> tuple[np.ndarray, RiskCheck, list[RiskAlert]]:
        target, strength = self.limits.target_volatility, self.settings.volatility_scaling
        vol = model.volatility(w)
        if vol <= target:
            return w, RiskCheck(name="target_volatility", kind="soft", limit=target,
                                before=vol, after=vol, status="ok"), []
        out = w * (target / vol) ** strength
        after = model.volatility(out)
        message = (f"ex-ante volatility {vol:.1%} above the target {target:.0%}; "
                   f"exposure scaled to {after:.1%}")
        check = RiskCheck(name="target_volatility", kind="soft", limit=target, before=vol,
                          after=after, status="adjusted" if strength > 0 else "warning",
                          message=message)
        alert = RiskAlert(as_of=as_of, code="target_volatility", severity=1, value=vol,
                          limit=target, message=message)
        return out, check, [alert]

    # -- the decision step ------------------------------------------------------------
    def review(
        self,
        weights: Mapping[str, float],
        view: MarketView,
        portfolio: PortfolioState,
        *,
        model: RiskModel | None = None,
        screen: UniverseScreen | None = None,
    ) -> RiskOutcome:
        """Make ``weights`` (by ticker; a ``"cash"`` key is ignored) safe to trade.

        ``model`` and ``screen`` are the engine's own estimates when it has them; the
        controller builds them from ``view`` otherwise. The returned weights respect every
        hard limit as measured by ``model``.
        """
        as_of = str(view.as_of.date())
        screen = screen or screen_universe(view, window=self.settings.window)
        model = model or estimate_risk_model(view, screen.tradable, window=self.settings.window)
        fallbacks: list[Fallback] = []
        if model.fallback:
            fallbacks.append(Fallback(component="risk_controller.model", reason=model.fallback,
                                      action="limits checked against the prior"))
        dropped = sorted(t for t, v in weights.items()
                         if t != CASH and t not in model.position and abs(float(v)) > 0)
        if dropped:
            fallbacks.append(Fallback(
                component="risk_controller.screen",
                reason=f"no usable data for {', '.join(dropped)}",
                action="their weight was moved to cash"))
        w0 = np.clip(np.nan_to_num(model.vector(
            {k: v for k, v in weights.items() if k != CASH}), nan=0.0), 0.0, None)
        if w0.sum() > 1.0:
            fallbacks.append(Fallback(
                component="risk_controller.gross",
                reason=f"target weights sum to {w0.sum():.6g}, more than 1",
                action="scaled down to a fully invested portfolio"))
            w0 = w0 / w0.sum()
        before = self._metrics(w0, model)
        checks: list[RiskCheck] = []
        alerts: list[RiskAlert] = []

        proposed = {t: float(x) for t, x in zip(model.tickers, w0, strict=True) if x > 0}
        rule = apply_drawdown_rule(
            self._state, view, portfolio, proposed, trigger=self.limits.max_drawdown_trigger,
            derisk_factor=self.settings.derisk_factor, cooldown_days=self.settings.cooldown_days)
        derisk, drawdown = rule.derisk, rule.drawdown
        checks.append(rule.check)
        alerts += rule.alerts
        w = w0
        if derisk:
            w = w0 * self.settings.derisk_factor
        else:
            w, soft_checks, soft_alerts, soft_fallbacks = self._diversify(w, model, as_of)
            checks += soft_checks
            alerts += soft_alerts
            fallbacks += soft_fallbacks
            w, vol_check, vol_alerts = self._target_volatility(w, model, as_of)
            checks.append(vol_check)
            alerts += vol_alerts

        w, hard_checks = enforce_hard_limits(w, model.classes, self.limits,
                                             model.value_at_risk)
        checks += hard_checks
        alerts += [RiskAlert(as_of=as_of, code=c.name, severity=2, value=c.before,
                             limit=c.limit, message=c.message)
                   for c in hard_checks if c.status == "adjusted"]
        alerts += bar_alerts(view, portfolio.weights, drawdown, self.limits, model,
                             self.settings.alerts)
        self._notify(alerts)
        report = RiskReport(
            checks=checks, alerts=alerts,
            severity=max((a.severity for a in alerts), default=0),
            derisked=derisk, drawdown=drawdown,
            metrics_before=before, metrics_after=self._metrics(w, model),
            fallbacks=fallbacks,
        )
        final = {t: float(x) for t, x in zip(model.tickers, w, strict=True) if x > 0}
        return RiskOutcome(weights=final, report=report)

    @staticmethod
    def _metrics(w: np.ndarray, model: RiskModel) -> dict[str, float]:
        if model.n_assets == 0:
            return {"exposure": 0.0}
        return {
            "exposure": float(w.sum()),
            "annual_volatility": model.volatility(w),
            "var_95": model.value_at_risk(w),
            "diversification_ratio": model.diversification_ratio(w),
            "correlation_cluster": model.correlation_cluster(w),
            "max_weight": float(w.max()),
        }
