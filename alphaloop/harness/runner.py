"""One backtest from end to end, as ``alphaloop backtest`` and ``python -m strategy`` run it.

:func:`run_backtest` opens the data source, resolves the window, loads the strategy,
simulates it (and an equal-weight benchmark for the plot), then writes
``result.json`` and ``equity.png`` to the output directory. Nothing is written unless
the whole run succeeds: the files are staged in a temporary directory beside the output
directory and moved into place at the end, so a failed run leaves no partial output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.data.panel import MarketData
from alphaloop.harness.checkpoint import CheckpointConfig
from alphaloop.harness.config import Costs, Frequency
from alphaloop.harness.errors import WindowError
from alphaloop.harness.loading import load_strategy
from alphaloop.harness.reference import EqualWeight
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.simulate import ProgressCallback, simulate
from alphaloop.harness.windows import Window, WindowName, full_window, named_window

__all__ = [
    "PLOT_FILE",
    "RESULT_FILE",
    "BacktestOutcome",
    "BacktestRequest",
    "resolve_window",
    "run_backtest",
    "write_outputs",
]

RESULT_FILE = "result.json"
PLOT_FILE = "equity.png"


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
    holdout_days: int = Field(default=504, ge=2)
    frequency: Frequency = "monthly"
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


class BacktestOutcome(BaseModel):
    """What a run produced and where it wrote it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: BacktestResult
    result_path: Path
    plot_path: Path


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


def _title(result: BacktestResult, request: BacktestRequest) -> str:
    window = result.config.window
    profile = f" ({request.profile})" if request.profile else ""
    return (f"{result.config.strategy}{profile}, {window.label} window "
            f"{window.start} to {window.end}, {result.config.frequency} rebalancing")


def write_outputs(result: BacktestResult, out: Path, *, title: str,
                  benchmark: BacktestResult | None = None) -> tuple[Path, Path]:
    """Write ``result.json`` and ``equity.png`` into ``out``, all or nothing."""
    from alphaloop.report.plots import plot_equity

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / RESULT_FILE).write_text(result.to_json(indent=1))
        plot_equity(
            staging / PLOT_FILE, result.returns_series(), title=title,
            initial_value=result.config.initial_capital,
            benchmark=benchmark.returns_series() if benchmark is not None else None,
            strategy_label=result.config.strategy, benchmark_label="equal weight")
        out.mkdir(exist_ok=True)
        for name in (RESULT_FILE, PLOT_FILE):
            os.replace(staging / name, out / name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
    return out / RESULT_FILE, out / PLOT_FILE


def run_backtest(request: BacktestRequest, *,
                 progress: ProgressCallback | None = None) -> BacktestOutcome:
    """Run the backtest ``request`` describes and write its outputs.

    Raises the harness's errors (:class:`~alphaloop.harness.errors.HarnessError`),
    :class:`~alphaloop.contract.WeightError` and
    :class:`~alphaloop.data.panel.DataError` with messages meant for the user.
    """
    from alphaloop.data import open_source

    data = open_source(request.data).load()
    window = resolve_window(data, request)
    strategy = load_strategy(request.strategy, request.profile)
    checkpoint = None
    if request.checkpoint is not None:
        checkpoint = CheckpointConfig(path=request.checkpoint, every=request.checkpoint_every)
    options = {"frequency": request.frequency, "costs": request.costs,
               "rebalance_threshold": request.rebalance_threshold,
               "initial_capital": request.initial_capital}
    result = simulate(strategy, data, window, progress=progress, checkpoint=checkpoint,
                      **options)
    benchmark = simulate(EqualWeight(), data, window, **options) if request.benchmark else None
    result_path, plot_path = write_outputs(result, request.out, title=_title(result, request),
                                           benchmark=benchmark)
    return BacktestOutcome(result=result, result_path=result_path, plot_path=plot_path)
