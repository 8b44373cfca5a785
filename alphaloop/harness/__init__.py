"""The trusted backtest harness: simulation, windows, metrics and overfitting statistics.

A strategy proposes weights; the harness trades them with costs, accounts for the
portfolio and measures it (:func:`simulate` returns a :class:`BacktestResult`). Windows
split data into in-sample, held-out and walk-forward periods (:func:`research_windows`).
The harness is handed a strategy; loading one by name and running it from the
command line is :mod:`alphaloop.backtest`'s work.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from alphaloop.lazy import lazy_exports

# Each module of the package and the public names it defines. A name is imported on
# first use (PEP 562): importing one module (the windows, say) does not load the
# simulator, the metrics and their numerical libraries.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "checkpoint": ("Checkpoint", "CheckpointConfig"),
    "config": ("BacktestConfig", "Costs", "Frequency"),
    "errors": ("CheckpointError", "HarnessError", "SimulationError", "StrategyError",
               "StrategyLoadError", "WindowError"),
    "metrics": ("Metrics", "MetricsError", "compute_metrics", "drawdown_series",
                "max_drawdown", "sharpe_ratio"),
    "overfitting": ("OverfittingError", "PBOResult", "deflated_sharpe_ratio",
                    "expected_max_sharpe", "probabilistic_sharpe_ratio",
                    "probability_of_backtest_overfitting"),
    "reference": ("InverseVolatility",),
    "result": ("BacktestResult", "DecisionRecord", "Trade"),
    "schedule": ("rebalance_positions",),
    "simulate": ("ProgressCallback", "simulate"),
    "windows": ("Fold", "ResearchWindows", "Window", "full_window", "named_window",
                "research_windows"),
}

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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _Package(types.ModuleType):
    """This package, whose attribute ``simulate`` stays the function.

    Python sets a package's attribute to each submodule it imports, so importing
    ``alphaloop.harness.simulate`` would put that module where the function
    :func:`simulate` belongs. The package ignores that one assignment.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "simulate" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
