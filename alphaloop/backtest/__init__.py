"""Backtests from the command line: ``alphaloop backtest`` and ``python -m strategy``.

:func:`run_backtest` runs the strategy of the repository it is pointed at
(:class:`StrategyLocation`: ``--repo``, ``--rev``, ``--worktree-files``), sandboxed unless
told the checkout is trusted, and records which code ran (:class:`StrategySource`: the
commit and the strategy's tree hash) in ``result.json``. :func:`run_strategy_command` is
the one entry point ``strategy/__main__.py`` may call.
"""

from alphaloop.backtest.entry import run_strategy_command
from alphaloop.backtest.outputs import PLOT_FILE, RESULT_FILE, load_outputs, write_outputs
from alphaloop.backtest.run import REPOSITORY_STRATEGY, BacktestOutcome, run_backtest
from alphaloop.backtest.source import StrategyLocation, StrategySource, prepare_checkout

__all__ = [
    "PLOT_FILE",
    "REPOSITORY_STRATEGY",
    "RESULT_FILE",
    "BacktestOutcome",
    "StrategyLocation",
    "StrategySource",
    "load_outputs",
    "prepare_checkout",
    "run_backtest",
    "run_strategy_command",
    "write_outputs",
]
