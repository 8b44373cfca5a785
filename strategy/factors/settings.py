"""`FactorSettings`: the tunables the factor scorers read, typed and validated."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, model_validator

from strategy.parameters import current_values, validate_values

__all__ = ["FACTOR_WEIGHT_PARAMETERS", "FactorSettings"]

_WEIGHT_NAMES: dict[str, dict[str, str]] = {
    "stocks": {
        "profitability": "STOCK_WEIGHT_PROFITABILITY",
        "value": "STOCK_WEIGHT_VALUE",
        "size": "STOCK_WEIGHT_SIZE",
        "investment": "STOCK_WEIGHT_INVESTMENT",
        "momentum": "STOCK_WEIGHT_MOMENTUM",
    },
    "bonds": {
        "carry": "BOND_WEIGHT_CARRY",
        "value": "BOND_WEIGHT_VALUE",
        "low_risk": "BOND_WEIGHT_LOW_RISK",
        "momentum": "BOND_WEIGHT_MOMENTUM",
    },
    "commodities": {
        "term_structure": "COMMODITY_WEIGHT_TERM_STRUCTURE",
        "momentum": "COMMODITY_WEIGHT_MOMENTUM",
        "basis": "COMMODITY_WEIGHT_BASIS",
    },
    "reits": {
        "nav_discount": "REITS_WEIGHT_NAV_DISCOUNT",
        "sector_outlook": "REITS_WEIGHT_SECTOR_OUTLOOK",
        "idiosyncratic_risk": "REITS_WEIGHT_IDIOSYNCRATIC_RISK",
    },
    "crypto": {
        "network_effect": "CRYPTO_WEIGHT_NETWORK_EFFECT",
        "adoption": "CRYPTO_WEIGHT_ADOPTION",
        "crash_risk": "CRYPTO_WEIGHT_CRASH_RISK",
    },
}
#: asset class -> factor -> the tunable holding its weight (read-only).
FACTOR_WEIGHT_PARAMETERS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {c: MappingProxyType(names) for c, names in _WEIGHT_NAMES.items()})


class FactorSettings(BaseModel):
    """Windows, blending and thresholds of the factor scorers.

    Build it from tunables with :meth:`from_params` (or :meth:`default` for the values in
    ``strategy/tunables.py``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    momentum_lookback_days: int = Field(ge=2)
    momentum_skip_days: int = Field(ge=0)
    volatility_lookback_days: int = Field(ge=2)
    fundamental_history_days: int = Field(ge=1)
    growth_horizon_days: int = Field(ge=1)
    cross_section_weight: float = Field(ge=0, le=1)
    signal_threshold: float = Field(gt=0)
    strong_signal_threshold: float = Field(gt=0)
    information_coefficient: float = Field(ge=0)
    factor_weights: dict[str, dict[str, float]]

    @model_validator(mode="after")
    def _thresholds(self) -> FactorSettings:
        if self.strong_signal_threshold <= self.signal_threshold:
            raise ValueError("strong_signal_threshold must exceed signal_threshold")
        for asset_class, weights in self.factor_weights.items():
            if any(w < 0 for w in weights.values()):
                raise ValueError(f"factor weights of {asset_class} must be >= 0")
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> FactorSettings:
        """Read the factor tunables out of a full ``params`` mapping (names as in tunables)."""
        p = validate_values({**current_values(), **params})
        return cls(
            momentum_lookback_days=int(p["MOMENTUM_LOOKBACK_DAYS"]),
            momentum_skip_days=int(p["MOMENTUM_SKIP_DAYS"]),
            volatility_lookback_days=int(p["VOLATILITY_LOOKBACK_DAYS"]),
            fundamental_history_days=int(p["FUNDAMENTAL_HISTORY_DAYS"]),
            growth_horizon_days=int(p["GROWTH_HORIZON_DAYS"]),
            cross_section_weight=float(p["FACTOR_CROSS_SECTION_WEIGHT"]),
            signal_threshold=float(p["FACTOR_SIGNAL_THRESHOLD"]),
            strong_signal_threshold=float(p["FACTOR_STRONG_SIGNAL_THRESHOLD"]),
            information_coefficient=float(p["FACTOR_INFORMATION_COEFFICIENT"]),
            factor_weights={
                c: {f: float(p[name]) for f, name in names.items()}
                for c, names in FACTOR_WEIGHT_PARAMETERS.items()
            },
        )

    @classmethod
    def default(cls) -> FactorSettings:
        return cls.from_params({})

    @property
    def history_days(self) -> int:
        """Days of history the scorers use (the view may hold more; never fewer is needed)."""
        return max(self.momentum_lookback_days + 1, self.volatility_lookback_days + 1,
                   self.fundamental_history_days, 2 * self.growth_horizon_days + 1)

    def weights_for(self, asset_class: str) -> dict[str, float]:
        return dict(self.factor_weights.get(asset_class, {}))
