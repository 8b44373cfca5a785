"""A point the calibration search has measured, and the key that identifies a point."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Trial", "point_key"]


class Trial(BaseModel):
    """A point the search has observed: full parameter values, their walk-forward reward
    and (when the ledger holds them) the other walk-forward figures, for an objective
    other than the reward."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    values: dict[str, float | int | str]
    reward: float
    metrics: dict[str, float] = Field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        """Every figure known for this point, the reward included."""
        return {**self.metrics, "reward": self.reward}


def point_key(values: Mapping[str, float | int | str]) -> tuple[tuple[str, object], ...]:
    """A parameter vector as a comparable key (floats to 9 significant digits)."""
    return tuple(sorted((k, float(f"{v:.9g}") if isinstance(v, float) else v)
                        for k, v in values.items()))
