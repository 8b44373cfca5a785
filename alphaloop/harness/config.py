"""What a backtest is asked to do: costs, rebalance frequency and the full run config.

:class:`BacktestConfig` is stored in every :class:`~alphaloop.harness.result.BacktestResult`
and its fingerprint guards checkpoints, so two results with equal configs and equal data
hashes were produced by the same accounting.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import WeightPolicy
from alphaloop.harness.windows import Window

__all__ = ["BacktestConfig", "Costs", "Frequency"]

Frequency = Literal["daily", "weekly", "monthly"]


class Costs(BaseModel):
    """Trading costs as fractions of traded notional (FinSage defaults: 0.1% + 0.05%)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commission: float = Field(default=0.001, ge=0.0, lt=1.0)
    slippage: float = Field(default=0.0005, ge=0.0, lt=1.0)

    @property
    def rate(self) -> float:
        """Total cost per unit of traded notional."""
        return self.commission + self.slippage


class BacktestConfig(BaseModel):
    """Everything that, with the data, determines a backtest's numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: str = Field(description="name of the strategy that decided")
    window: Window
    frequency: Frequency = "monthly"
    costs: Costs = Field(default_factory=Costs)
    rebalance_threshold: float = Field(default=0.0, ge=0.0)
    initial_capital: float = Field(default=1_000_000.0, gt=0.0)
    weight_policy: WeightPolicy = Field(default_factory=WeightPolicy)
    lookback: int | None = Field(default=None, ge=1,
                                 description="days of history in each view (None: all)")
    data_source: str = "unknown"

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of this config."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()
