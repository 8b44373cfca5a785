"""Risk layer of the FinSage engine: risk model, universe screen, limits and controller."""

from strategy.risk.alerts import AlertHandler, AlertSettings, bar_alerts
from strategy.risk.controller import (
    ControllerSettings,
    DrawdownState,
    RiskController,
    RiskOutcome,
)
from strategy.risk.limits import (
    HARD_TOLERANCE,
    RiskLimits,
    enforce_hard_limits,
    hard_limit_breaches,
)
from strategy.risk.model import RiskModel, clean_returns, estimate_risk_model
from strategy.risk.screen import UniverseScreen, screen_universe

__all__ = [
    "HARD_TOLERANCE",
    "AlertHandler",
    "AlertSettings",
    "ControllerSettings",
    "DrawdownState",
    "RiskController",
    "RiskLimits",
    "RiskModel",
    "RiskOutcome",
    "UniverseScreen",
    "bar_alerts",
    "clean_returns",
    "enforce_hard_limits",
    "estimate_risk_model",
    "hard_limit_breaches",
    "screen_universe",
]
