"""The risk policy (``policies/risk.toml``): limits, portfolio checks and guards."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alphaloop.contract import WeightPolicy

__all__ = [
    "ComplianceRules",
    "HardLimits",
    "ImprovementTests",
    "LimitException",
    "LiquidityRules",
    "LookaheadRules",
    "OverfittingGuards",
    "PortfolioChecks",
    "ProcessRules",
    "RiskPolicy",
    "SoftLimits",
    "StressLimits",
    "Threshold",
    "WeightRules",
]

Fraction = float


class _Section(BaseModel):
    # inf and nan are no limits: a policy number is always finite
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class HardLimits(_Section):
    """Limits that veto a change (severity 3) when a backtest breaks them."""

    max_single_asset: Fraction = Field(gt=0, le=1)
    max_asset_class: Fraction = Field(gt=0, le=1)
    max_drawdown_trigger: Fraction = Field(gt=0, le=1)
    max_portfolio_var_95: Fraction = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _class_covers_asset(self) -> HardLimits:
        if self.max_asset_class < self.max_single_asset:
            raise ValueError(
                f"max_asset_class ({self.max_asset_class}) is below max_single_asset "
                f"({self.max_single_asset}); one asset alone would break its class limit")
        return self


class SoftLimits(_Section):
    """Limits that warn (severity 1)."""

    target_volatility: Fraction = Field(gt=0, le=2)
    max_correlation_cluster: float = Field(gt=-1, le=1)
    min_diversification_ratio: float = Field(ge=1)


class WeightRules(_Section):
    """What the harness accepts from a strategy on every rebalance."""

    allow_short: bool = False
    max_gross: float = Field(default=1.0, gt=0)

    @field_validator("max_gross")
    @classmethod
    def _no_leverage_when_long_only(cls, value: float, info: ValidationInfo) -> float:
        if not info.data.get("allow_short", False) and value > 1:
            raise ValueError(f"max_gross = {value} asks for leverage, but allow_short = "
                             "false keeps a long-only book within 1; use at most 1 or "
                             "allow shorts")
        return value


class Threshold(_Section):
    """A warn/restrict pair for one measure; ``kind`` says which side is bad."""

    kind: Literal["max", "min"]
    warn: float
    restrict: float

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.kind == "max" and self.warn > self.restrict:
            raise ValueError(f"for a maximum, warn ({self.warn}) must not exceed "
                             f"restrict ({self.restrict})")
        if self.kind == "min" and self.warn < self.restrict:
            raise ValueError(f"for a minimum, warn ({self.warn}) must not be below "
                             f"restrict ({self.restrict})")
        return self

    def grade(self, value: float) -> int:
        """0 within limits, 1 past ``warn``, 2 past ``restrict`` (NaN grades 2)."""
        if value != value:  # NaN: the measure could not be computed
            return 2
        if self.kind == "max":
            return 2 if value > self.restrict else 1 if value > self.warn else 0
        return 2 if value < self.restrict else 1 if value < self.warn else 0


class PortfolioChecks(_Section):
    """Concentration and diversification checks of Risk-MAS."""

    hhi: Threshold
    top_weight: Threshold
    effective_n: Threshold


class LiquidityRules(_Section):
    """How quickly positions can be sold and what it costs to cross the spread."""

    participation_rate: Fraction = Field(gt=0, le=1)
    adv_days: int = Field(ge=1, le=260)
    days_to_liquidate: Threshold
    spread_bps: Threshold


class StressLimits(_Section):
    """Worst drawdown allowed inside each stress scenario's window.

    Scenarios are the real crisis windows (``gfc_2008``, ``covid_2020``, ``rates_2022``)
    and the synthetic shocks (``synthetic_*``) of :mod:`alphaloop.data.stress`; one
    without an entry uses ``default_max_drawdown``.
    """

    default_max_drawdown: Fraction = Field(gt=0, le=1)
    scenarios: dict[str, Fraction] = Field(default_factory=dict)

    @field_validator("scenarios")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        from alphaloop.data.crises import CRISIS_WINDOWS
        from alphaloop.data.stress import STRESS_SCENARIOS

        known = [*CRISIS_WINDOWS, *STRESS_SCENARIOS]
        for name, limit in value.items():
            if name not in known:
                raise ValueError(f"{name!r} is not a stress scenario; use one of "
                                 f"{', '.join(known)}")
            if not 0 < limit <= 1:
                raise ValueError(f"scenario {name!r} has limit {limit}; use a fraction in (0, 1]")
        return value

    def limit_for(self, scenario: str) -> float:
        """The drawdown limit of ``scenario`` (the default when it has none of its own)."""
        return self.scenarios.get(scenario, self.default_max_drawdown)


class OverfittingGuards(_Section):
    """Overfitting statistics: PBO over distinct configurations vetoes; the deflated
    Sharpe ratio is reported as evidence (the level of a Sharpe is not the question)."""

    min_deflated_sharpe_probability: float = Field(ge=0, le=1)
    max_pbo: float = Field(ge=0, le=1)
    pbo_splits: int = Field(ge=2, le=64)
    min_pbo_trials: int = Field(default=4, ge=2, le=1000)
    """Distinct configurations (identical return series counted once) PBO needs to be used."""
    pbo_same_correlation: float = Field(default=0.99, gt=0, le=1)
    """Return series correlating at least this much with one already counted are the same
    configuration for PBO: near-copies would let noise decide the ranking."""

    @field_validator("pbo_splits")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"pbo_splits must be even (CSCV halves the splits), got {value}")
        return value


#: The metrics a claim may name, and the largest sensible threshold of each (in the
#: metric's units: ratios for reward, Sharpe and Calmar, annualised fractions otherwise).
_IMPROVEMENT_RANGES: dict[str, float] = {
    "reward": 5.0, "sharpe": 5.0, "calmar": 10.0, "max_drawdown": 1.0,
    "annual_return": 1.0, "annual_volatility": 1.0, "turnover": 50.0,
}


def _per_metric(value: dict[str, float], what: str) -> dict[str, float]:
    missing = sorted(set(_IMPROVEMENT_RANGES) - set(value))
    if missing:
        raise ValueError(f"{what} lacks {', '.join(missing)}; give every metric a value")
    for name, threshold in value.items():
        if name not in _IMPROVEMENT_RANGES:
            raise ValueError(f"{what}.{name} names no metric; use one of "
                             f"{', '.join(_IMPROVEMENT_RANGES)}")
        top = _IMPROVEMENT_RANGES[name]
        if not 0 <= threshold <= top:
            raise ValueError(f"{what}.{name} = {threshold} is outside [0, {top:g}]")
    return value


class ImprovementTests(_Section):
    """The paired tests of a change against ``main`` (``[improvement]``).

    A change's claimed metric must be superior beyond ``min_effect`` at ``confidence``,
    Sidak-deflated by the number of distinct trials; the reward must be non-inferior
    within ``margin``; on the held-out window the reward must be non-inferior within
    ``holdout_margin`` at ``holdout_confidence`` (it confirms, it does not select).
    """

    confidence: float = Field(ge=0.5, le=0.999)
    holdout_confidence: float = Field(ge=0.5, le=0.999)
    n_resamples: int = Field(ge=200, le=100_000)
    seed: int = Field(ge=0)
    holdout_margin: float = Field(ge=0, le=5)
    min_effect: dict[str, float]
    margin: dict[str, float]

    @field_validator("min_effect")
    @classmethod
    def _effects(cls, value: dict[str, float]) -> dict[str, float]:
        return _per_metric(value, "improvement.min_effect")

    @field_validator("margin")
    @classmethod
    def _margins(cls, value: dict[str, float]) -> dict[str, float]:
        return _per_metric(value, "improvement.margin")


class ComplianceRules(_Section):
    """Tickers the strategy may never hold."""

    blocklist: tuple[str, ...] = ()

    @field_validator("blocklist")
    @classmethod
    def _tickers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ticker in value:
            if not ticker.strip() or ticker != ticker.strip():
                raise ValueError(f"blocklist entry {ticker!r} is blank or has spaces around it")
        return value

    def is_blocked(self, ticker: str) -> bool:
        return ticker in self.blocklist


class ProcessRules(_Section):
    """How the cycle escalates and what the Quant's reward is."""

    deadlock_vetoes: int = Field(ge=1)
    reward_lambda: float = Field(
        ge=0, description="lambda of the reward, Sharpe - lambda * max drawdown "
                          "(alphaloop.harness.metrics.reward)")
    review_wall_seconds: float = Field(
        default=3600.0, gt=0, le=86_400,
        description="wall time shared by every sandboxed run of one review")


class LookaheadRules(_Section):
    """The dynamic look-ahead check (``[lookahead]``, see roles/risk/lookahead.py).

    Prefix invariance: ``probes`` decision dates recomputed on a replaced future must
    agree within ``tolerance``. Oracle test: the decisions' mean forward return over
    ``horizon_days`` is vetoed when it lies more than ``max_z`` standard deviations above
    its distribution over ``resamples`` replaced futures and exceeds it by ``min_effect``.
    """

    probes: int = Field(default=3, ge=1, le=50)
    block_days: int = Field(default=10, ge=1, le=250)
    tolerance: float = Field(default=1e-9, ge=0, le=0.01)
    horizon_days: int = Field(default=5, ge=1, le=60)
    resamples: int = Field(default=400, ge=50, le=100_000)
    max_z: float = Field(default=5.0, ge=2, le=50)
    min_effect: float = Field(default=0.002, ge=0, le=1)


class LimitException(_Section):
    """A declaration above a hard limit that maintainers accepted, for one exact value.

    The AST policy reports a matching declaration as a warning instead of a block; any
    other value, name or file is still blocked.
    """

    path: str = Field(min_length=1)
    name: str = Field(min_length=1)
    value: float
    reason: str = Field(min_length=1)

    def covers(self, path: str, name: str, value: float) -> bool:
        return (self.path == path and self.name.lower() == name.lower()
                and abs(self.value - value) <= 1e-12)


class RiskPolicy(_Section):
    """Everything in ``policies/risk.toml``."""

    hard_limits: HardLimits
    soft_limits: SoftLimits
    weights: WeightRules = WeightRules()
    portfolio: PortfolioChecks
    liquidity: LiquidityRules
    stress: StressLimits
    overfitting: OverfittingGuards
    improvement: ImprovementTests
    compliance: ComplianceRules = ComplianceRules()
    process: ProcessRules
    lookahead: LookaheadRules = Field(default_factory=LookaheadRules)
    limit_names: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    limit_exceptions: tuple[LimitException, ...] = ()

    @model_validator(mode="after")
    def _limit_names_name_limits(self) -> RiskPolicy:
        known = set(HardLimits.model_fields)
        for key in self.limit_names:
            if key not in known:
                raise ValueError(f"limit_names.{key} names no hard limit; use one of "
                                 f"{', '.join(sorted(known))}")
        return self

    def weight_policy(self) -> WeightPolicy:
        """The :class:`~alphaloop.contract.WeightPolicy` the harness should enforce."""
        return WeightPolicy(allow_short=self.weights.allow_short,
                            max_gross=self.weights.max_gross)

    def hard_limit_names(self) -> dict[str, float]:
        """Every name code may use for a hard limit, lower case, mapped to its value."""
        limits = self.hard_limits.model_dump()
        names = {key: float(value) for key, value in limits.items()}
        for key, aliases in self.limit_names.items():
            for alias in aliases:
                names[alias.lower()] = float(limits[key])
        return names

    def limit_exception(self, path: str, name: str, value: float) -> LimitException | None:
        """The accepted exception covering this declaration, if any."""
        return next((e for e in self.limit_exceptions if e.covers(path, name, value)), None)
