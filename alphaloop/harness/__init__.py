"""The trusted backtest harness: simulation, windows, metrics and overfitting statistics.

A strategy proposes weights; the harness trades them with costs, accounts for the
portfolio and measures it (:func:`simulate` returns a :class:`BacktestResult`). Windows
split data into in-sample, held-out and walk-forward periods (:func:`research_windows`).
The harness is handed a strategy; loading one by name and running it from the
command line is :mod:`alphaloop.backtest`'s work.
"""

from __future__ import annotations

from alphaloop.harness.checkpoint import Checkpoint, CheckpointConfig
from alphaloop.harness.config import BacktestConfig, Costs, Frequency
from alphaloop.harness.errors import (
    CheckpointError,
    HarnessError,
    SimulationError,
    StrategyError,
    StrategyLoadError,
    WindowError,
)
from alphaloop.harness.metrics import (
    Metrics,
    MetricsError,
    compute_metrics,
    drawdown_series,
    max_drawdown,
    sharpe_ratio,
)
from alphaloop.harness.overfitting import (
    OverfittingError,
    PBOResult,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from alphaloop.harness.reference import InverseVolatility
from alphaloop.harness.result import BacktestResult, DecisionRecord, Trade
from alphaloop.harness.schedule import rebalance_positions
from alphaloop.harness.simulate import ProgressCallback, simulate
from alphaloop.harness.windows import (
    Fold,
    ResearchWindows,
    Window,
    full_window,
    named_window,
    research_windows,
)

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "Checkpoint",
    "CheckpointConfig",
    "CheckpointError",
    "Costs",
    "DecisionRecord",
    "Fold",
    "Frequency",
    "HarnessError",
    "InverseVolatility",
    "Metrics",
    "MetricsError",
    "OverfittingError",
    "PBOResult",
    "ProgressCallback",
    "ResearchWindows",
    "SimulationError",
    "StrategyError",
    "StrategyLoadError",
    "Trade",
    "Window",
    "WindowError",
    "compute_metrics",
    "deflated_sharpe_ratio",
    "drawdown_series",
    "expected_max_sharpe",
    "full_window",
    "max_drawdown",
    "named_window",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "rebalance_positions",
    "research_windows",
    "sharpe_ratio",
    "simulate",
]
