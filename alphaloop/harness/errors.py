"""The harness's exceptions, one tree so callers can catch what they can explain.

::

    HarnessError
    ├── WindowError        a window is empty, too short, or outside the data
    ├── StrategyError      the strategy raised while deciding (names the date)
    ├── SimulationError    the accounting cannot continue (e.g. the portfolio is wiped out)
    ├── CheckpointError    a checkpoint is unreadable or was written for another run
    ├── StrategyLoadError  a strategy spec names nothing that can be loaded
    └── MetricsError       returns cannot be measured (alphaloop.harness.metrics)
        └── OverfittingError  bad inputs to an overfitting statistic

Invalid target weights raise :class:`alphaloop.contract.WeightError` (from the contract,
so strategies and the harness share it) and bad market data raises
:class:`alphaloop.data.panel.DataError`.
"""

from __future__ import annotations

from datetime import date

from alphaloop.errors import Failure

__all__ = [
    "CheckpointError",
    "HarnessError",
    "SimulationError",
    "StrategyError",
    "StrategyLoadError",
    "WindowError",
]


class HarnessError(Failure):
    """Base class of every error the backtest harness raises on purpose."""


class WindowError(HarnessError, ValueError):
    """A backtest window is empty, too short or does not overlap the data."""


class SimulationError(HarnessError):
    """The simulated portfolio cannot be carried on (for example its value reached zero)."""


class CheckpointError(HarnessError):
    """A checkpoint cannot be read, or belongs to a different configuration or data set."""


class StrategyLoadError(HarnessError):
    """A strategy spec names no strategy that can be imported and built."""


class StrategyError(HarnessError):
    """The strategy raised an exception while deciding on ``as_of``.

    The original exception is kept as ``__cause__`` and as :attr:`original`.
    """

    def __init__(self, as_of: date, original: BaseException) -> None:
        self.as_of = as_of
        self.original = original
        detail = str(original) or "(no message)"
        super().__init__(
            f"the strategy raised {type(original).__name__} while deciding on "
            f"{as_of.isoformat()}: {detail}"
        )
