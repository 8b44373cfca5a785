"""The one entry point the strategy package may call: ``python -m strategy``.

``strategy/`` imports nothing of AlphaLoop but the contract, with one documented
exception: ``strategy/__main__.py`` imports :func:`run_strategy_command` inside its
``main()`` (never at import time) to run a backtest of the checkout it lives in. The
command never imports the strategy into this process: the checkout's ``strategy/``
files (as ``git add`` would stage them) are copied to a private folder and run in the
sandbox, or - with ``unsandboxed`` for a trusted checkout - in a plain child process.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alphaloop.backtest.request import BacktestRequest
from alphaloop.backtest.run import REPOSITORY_STRATEGY, BacktestOutcome, run_backtest
from alphaloop.backtest.source import StrategyLocation
from alphaloop.contract import ContractError
from alphaloop.data.panel import DataError
from alphaloop.harness.config import Frequency
from alphaloop.harness.errors import HarnessError
from alphaloop.harness.metrics import MetricsError
from alphaloop.repo import GitError
from alphaloop.sandbox import SandboxError

__all__ = ["USER_ERRORS", "run_strategy_command"]

#: What a backtest raises for bad input or a failing strategy (messages meant for people).
USER_ERRORS = (HarnessError, ContractError, DataError, MetricsError, GitError, SandboxError,
               ValueError)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _window(start: str | None, end: str | None, data: str) -> tuple[date, date]:
    """The spec's defaults: ``end`` the data's last day, ``start`` six months before it."""
    import pandas as pd

    from alphaloop.data import open_source

    last = _day(end) if end is not None else open_source(data).load().dates[-1].date()
    first = (_day(start) if start is not None
             else (pd.Timestamp(last) - pd.DateOffset(months=6)).date())
    return first, last


def run_strategy_command(checkout: Path, *, start: str | None, end: str | None,
                         frequency: Frequency, capital: float, profile: str, data: str,
                         out: Path, unsandboxed: bool = False) -> BacktestOutcome:
    """Backtest the strategy of ``checkout`` (the folder holding ``strategy/``).

    ``start``/``end`` are ISO dates (default: six months up to the data's last day).
    Raises one of :data:`USER_ERRORS`, with a message meant for the user.
    """
    first, last = _window(start, end, data)
    request = BacktestRequest(strategy=REPOSITORY_STRATEGY, profile=profile, data=data,
                              start=first, end=last, frequency=frequency,
                              initial_capital=capital, out=out)
    location = StrategyLocation(repo=checkout, worktree_files=True, unsandboxed=unsandboxed)
    return run_backtest(request, location=location)
