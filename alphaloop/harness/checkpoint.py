"""Checkpoints: resume a long backtest where it stopped, with identical results.

Every ``every`` decisions the simulation writes its whole state to one JSON file,
atomically (a temporary file renamed over the old one): the accounting (units held,
cash, peak value), the results so far, the strategy's ``get_state()`` if it has one, the
run's config and the data hash. A resumed run continues from the next decision and
produces a result equal, bit for bit, to an uninterrupted run: floats survive the JSON
round trip exactly.

A checkpoint is refused (:class:`CheckpointError`) when its config or data hash differs
from the run's: resuming another run's state would silently mix two backtests.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.harness._files import write_atomic
from alphaloop.harness.config import BacktestConfig
from alphaloop.harness.errors import CheckpointError
from alphaloop.harness.result import DecisionLog, FloatArray

__all__ = ["Checkpoint", "CheckpointConfig", "load_checkpoint", "save_checkpoint"]


class CheckpointConfig(BaseModel):
    """Where and how often a simulation saves its state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    every: int = Field(default=20, ge=1, description="decisions between two checkpoints")
    resume: bool = Field(default=True, description="continue from an existing checkpoint")
    keep: bool = Field(default=False, description="keep the file after a finished run")


class Checkpoint(BaseModel):
    """The state of a simulation after the decisions in its log."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True,
                              ser_json_inf_nan="constants")

    format: Literal[1] = 1
    config: BacktestConfig
    data_hash: str
    units: FloatArray = Field(description="units held of each asset after the last trade")
    cash: float
    peak: float
    last_rebalance: datetime | None
    values: FloatArray = Field(description="end-of-day values up to the last decision day")
    period_units: FloatArray = Field(description="units held after each decision")
    decisions: DecisionLog
    strategy_state: dict[str, Any] | None = None


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically."""
    write_atomic(Path(path), checkpoint.model_dump_json().encode())


def load_checkpoint(path: Path, config: BacktestConfig, data_hash: str) -> Checkpoint | None:
    """The checkpoint at ``path`` if there is one, checked against this run.

    Returns ``None`` when no file exists. Raises :class:`CheckpointError` when the file
    is unreadable or was written for another config or data set.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        checkpoint = Checkpoint.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise CheckpointError(
            f"cannot read the checkpoint {path}: {exc}; delete it to start the run afresh"
        ) from None
    if checkpoint.data_hash != data_hash:
        raise CheckpointError(
            f"the checkpoint {path} was written for other data (hash "
            f"{checkpoint.data_hash[:12]}, this run's is {data_hash[:12]}); refusing to mix "
            "two backtests: delete it or choose another checkpoint path"
        )
    if checkpoint.config != config:
        mine, theirs = config.model_dump(), checkpoint.config.model_dump()
        changed = sorted(k for k in mine if mine[k] != theirs.get(k))
        raise CheckpointError(
            f"the checkpoint {path} was written for another configuration (differs in: "
            f"{', '.join(changed)}); refusing to mix two backtests: delete it or choose "
            "another checkpoint path"
        )
    return checkpoint
