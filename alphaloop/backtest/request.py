"""What ``alphaloop backtest`` and ``python -m strategy`` ask of the harness.

:class:`BacktestRequest` holds the options (defaults as the cycle's: weekly, the seeds'
costs, no rebalance threshold); :func:`resolve_window` checks the window against the
data; :func:`simulate_request` simulates a strategy it is handed (and an equal-weight
benchmark). Loading the strategy, sandboxing it and writing files and plots belong to
the caller (:mod:`alphaloop.backtest`): the harness imports neither strategy code nor
the report.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.data.panel import MarketData
from alphaloop.harness.checkpoint import CheckpointConfig
from alphaloop.harness.config import Costs, Frequency
from alphaloop.harness.errors import WindowError
from alphaloop.harness.reference import EqualWeight
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.simulate import ProgressCallback, simulate
from alphaloop.harness.windows import (
    HOLDOUT_DAYS,
    MIN_HOLDOUT_DAYS,
    Window,
    WindowName,
    full_window,
    named_window,
)

__all__ = ["BacktestRequest", "BacktestRun", "resolve_window", "simulate_request"]


class BacktestRequest(BaseModel):
    """Everything ``alphaloop backtest`` is asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: str = "finsage"
    profile: str | None = None
    data: str = "synthetic"
    window: WindowName | None = Field(
        default=None, description="a named window; excludes start (end is then the clock)")
    start: date | None = None
    end: date | None = None
    holdout_days: int = Field(default=HOLDOUT_DAYS, ge=MIN_HOLDOUT_DAYS)
    frequency: Frequency = "weekly"
    initial_capital: float = Field(default=1_000_000.0, gt=0)
    rebalance_threshold: float = Field(default=0.0, ge=0)
    costs: Costs = Field(default_factory=Costs)
    out: Path = Path("out/backtest")
    checkpoint: Path | None = None
    checkpoint_every: int = Field(default=20, ge=1)
    benchmark: bool = Field(default=True, description="draw an equal-weight benchmark line")

    @model_validator(mode="after")
    def _one_window(self) -> BacktestRequest:
        if self.window is not None and self.start is not None:
            raise ValueError(f"choose either a named window ({self.window}) or a start date "
                             f"({self.start}), not both")
        return self


class BacktestRun(BaseModel):
    """A simulated strategy and, when asked for, the equal-weight benchmark."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: BacktestResult
    benchmark: BacktestResult | None = None


def resolve_window(data: MarketData, request: BacktestRequest) -> Window:
    """The window a request names, checked against the data."""
    if request.window is not None:
        window = named_window(data, request.window, holdout_days=request.holdout_days,
                              end=request.end)
    else:
        whole = full_window(data)
        start, end = request.start or whole.start, request.end or whole.end
        if end < start:
            raise WindowError(f"the window ends ({end}) before it starts ({start}); swap "
                              "--start and --end")
        label = "full" if (start, end) == (whole.start, whole.end) else "custom"
        window = Window(start=start, end=end, label=label)
    window.bounds(data)  # raises WindowError naming the dates when too short
    return window


def simulate_request(request: BacktestRequest, strategy: Any, data: MarketData,
                     window: Window, *, lookback: int | None = None,
                     progress: ProgressCallback | None = None) -> BacktestRun:
    """Simulate ``strategy`` (handed in by the caller) as ``request`` asks, with costs.

    The harness never loads strategy code itself: the caller builds the strategy (for a
    repository's strategy, behind :class:`~alphaloop.sandbox.SandboxedStrategy`). Raises
    the harness's errors (:class:`~alphaloop.harness.errors.HarnessError`) and
    :class:`~alphaloop.contract.WeightError` with messages meant for the user.
    """
    checkpoint = None
    if request.checkpoint is not None:
        checkpoint = CheckpointConfig(path=request.checkpoint, every=request.checkpoint_every)
    options = {"frequency": request.frequency, "costs": request.costs,
               "rebalance_threshold": request.rebalance_threshold,
               "initial_capital": request.initial_capital}
    result = simulate(strategy, data, window, progress=progress, checkpoint=checkpoint,
                      lookback=lookback, **options)
    benchmark = simulate(EqualWeight(), data, window, **options) if request.benchmark else None
    return BacktestRun(result=result, benchmark=benchmark)
