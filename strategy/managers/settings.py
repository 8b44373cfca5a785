"""How a :class:`~strategy.config.FinSageConfig` becomes the engine components' settings.

One place maps the config's sections and tunables onto the typed settings of the
portfolio manager, position sizing, hedging agent, coordinator and risk controller, so
each component stays independent of the config's layout.

=============================  ===========================================
tunable / config field         setting
=============================  ===========================================
risk.*                         ``RiskLimits`` (hard and soft limits)
COVARIANCE_LOOKBACK_DAYS       risk-model window (and controller window)
COVARIANCE_SHRINKAGE           covariance estimator
EXPERT_TILT_STRENGTH           class tilt toward a bullish / bearish view
REGIME_TILT_STRENGTH           tilt toward bonds and cash in high volatility
PORTFOLIO_OPTIMIZER            default within-class optimiser
CONVICTION_CONFIDENCE          confidence that switches a class to Black-Litterman
RISK_AVERSION                  risk aversion of the optimisers and the prior
FACTOR_INFORMATION_COEFFICIENT alpha of an expert action without a factor alpha
SIZING_METHOD, KELLY_FRACTION  position sizing default and Kelly fraction
HEDGE_*, HEDGING_OPTIMIZER     hedging triggers, size cap and basket optimiser
MAX_DISCUSSION_ROUNDS,         coordinator rounds and consensus tolerances
CONSENSUS_*
DRAWDOWN_DERISK_FACTOR,        de-risking depth and duration
DRAWDOWN_COOLDOWN_DAYS
VOLATILITY_SCALING_STRENGTH    soft volatility-target adjustment
REBALANCE_THRESHOLD            largest weight move the engine leaves untraded
DIVERSIFICATION_BLEND          soft diversification adjustment
LLM_MAX_RETRIES                retries after an invalid LLM answer
trading.transaction_cost +     cost per unit of turnover (expected hedge cost)
trading.slippage
=============================  ===========================================
"""

from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from strategy.config import FinSageConfig
from strategy.hedging.agent import HedgingSettings
from strategy.managers.allocation import AllocationSettings
from strategy.managers.coordinator import CoordinatorSettings
from strategy.managers.portfolio_manager import ManagerSettings
from strategy.managers.position_sizing import SizingSettings
from strategy.records import SizingMethod
from strategy.risk.controller import ControllerSettings
from strategy.risk.limits import RiskLimits

__all__ = ["EngineSettings"]


class EngineSettings(BaseModel):
    """Every component's settings for one configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(ge=2, description="days of returns behind the risk model")
    shrinkage: Literal["ledoit_wolf", "sample"] = "ledoit_wolf"
    min_history: int = Field(default=60, ge=1, description="valid prices an asset needs")
    stale_days: int = Field(default=10, ge=0, description="unchanged prices that mean stale")
    costs: float = Field(ge=0, description="commission + slippage per unit of turnover")
    rebalance_threshold: float = Field(default=0.0, ge=0,
                                       description="weight move below which holdings are kept")
    limits: RiskLimits
    manager: ManagerSettings
    sizing: SizingSettings
    hedging: HedgingSettings
    coordinator: CoordinatorSettings
    controller: ControllerSettings

    @classmethod
    def from_config(cls, config: FinSageConfig) -> EngineSettings:
        p = config.params
        limits = RiskLimits.from_config(config.risk)
        window = int(p["COVARIANCE_LOOKBACK_DAYS"])
        retries = int(p["LLM_MAX_RETRIES"])
        risk_aversion = float(p["RISK_AVERSION"])
        ic = float(p["FACTOR_INFORMATION_COEFFICIENT"])
        return cls(
            window=window,
            shrinkage=cast(Literal["ledoit_wolf", "sample"], p["COVARIANCE_SHRINKAGE"]),
            costs=config.trading.transaction_cost + config.trading.slippage,
            rebalance_threshold=float(p["REBALANCE_THRESHOLD"]),
            limits=limits,
            manager=ManagerSettings(
                allocation=AllocationSettings(
                    tilt_strength=float(p["EXPERT_TILT_STRENGTH"]),
                    regime_tilt=float(p["REGIME_TILT_STRENGTH"]),
                    max_single_asset=limits.max_single_asset,
                    max_asset_class=limits.max_asset_class),
                default_tool=str(p["PORTFOLIO_OPTIMIZER"]),
                conviction_confidence=float(p["CONVICTION_CONFIDENCE"]),
                risk_aversion=risk_aversion, information_coefficient=ic, llm_retries=retries),
            sizing=SizingSettings(
                default_method=cast(SizingMethod, p["SIZING_METHOD"]),
                target_volatility=limits.target_volatility,
                kelly_fraction=float(p["KELLY_FRACTION"]),
                max_single_asset=limits.max_single_asset, risk_aversion=risk_aversion,
                information_coefficient=ic, llm_retries=retries),
            hedging=HedgingSettings(
                vix_trigger=float(p["HEDGE_VIX_TRIGGER"]),
                skew_trigger=float(p["HEDGE_SKEW_TRIGGER"]),
                kurtosis_trigger=float(p["HEDGE_KURTOSIS_TRIGGER"]),
                var_trigger=float(p["HEDGE_VAR_TRIGGER"]),
                max_ratio=float(p["HEDGE_MAX_RATIO"]),
                tool=str(p["HEDGING_OPTIMIZER"]), risk_aversion=risk_aversion,
                llm_retries=retries),
            coordinator=CoordinatorSettings(
                max_rounds=int(p["MAX_DISCUSSION_ROUNDS"]),
                sizing_tolerance=float(p["CONSENSUS_SIZING_TOLERANCE"]),
                hedge_tolerance=float(p["CONSENSUS_HEDGE_TOLERANCE"])),
            controller=ControllerSettings(
                derisk_factor=float(p["DRAWDOWN_DERISK_FACTOR"]),
                cooldown_days=int(p["DRAWDOWN_COOLDOWN_DAYS"]),
                volatility_scaling=float(p["VOLATILITY_SCALING_STRENGTH"]),
                diversification_blend=float(p["DIVERSIFICATION_BLEND"]),
                window=window),
        )
