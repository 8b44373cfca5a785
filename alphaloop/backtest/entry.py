"""The one entry point the strategy package may call: ``python -m strategy``.

``strategy/`` imports nothing of AlphaLoop but the contract, with one documented
exception: ``strategy/__main__.py`` imports :func:`main` from here inside its own
``main()`` (never at import time) to run a backtest of the checkout it lives in. The
command never imports the strategy into this process: the checkout's ``strategy/``
files (as ``git add`` would stage them) are copied to a private folder and run in the
sandbox, or - with ``--unsandboxed`` for a trusted checkout - in a plain child process.

    python -m strategy --start 2023-01-01 --end 2024-06-30 --profile conservative

The command follows ``alphaloop backtest``'s conventions: a typer command with the
same flag names (``--profile``; ``--config``, the FinSage spec's name for it, is
accepted too), the same defaults (weekly rebalancing, the default profile, 1,000,000
of capital), figures in the same units (returns, volatility, drawdown and VaR as
percents), flags shown as flags, and bad input exiting with code 2 and one line on
standard error (``python -m strategy: error: ...``). Its window keeps the spec's
default: six months up to the data's last day. ``--model`` is reported, not called: the
engine runs without an LLM client (factor and rule paths).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError
from typer.core import TyperCommand

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

__all__ = ["EXIT_BAD_INPUT", "PROG", "USER_ERRORS", "main", "run_strategy_command"]

#: What a backtest raises for bad input or a failing strategy (messages meant for people).
USER_ERRORS = (HarnessError, ContractError, DataError, MetricsError, GitError, SandboxError,
               ValueError)
EXIT_BAD_INPUT = 2
PROG = "python -m strategy"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def _window(start: date | None, end: date | None, data: str) -> tuple[date, date]:
    """The spec's defaults: ``end`` the data's last day, ``start`` six months before it."""
    import pandas as pd

    from alphaloop.data import open_source

    last = end if end is not None else open_source(data).load().dates[-1].date()
    first = start if start is not None else (pd.Timestamp(last)
                                             - pd.DateOffset(months=6)).date()
    return first, last


def run_strategy_command(checkout: Path, *, start: date | None, end: date | None,
                         frequency: Frequency, capital: float, profile: str, data: str,
                         out: Path, unsandboxed: bool = False) -> BacktestOutcome:
    """Backtest the strategy of ``checkout`` (the folder holding ``strategy/``).

    ``start``/``end`` default to six months up to the data's last day. Raises one of
    :data:`USER_ERRORS`, with a message meant for the user.
    """
    first, last = _window(start, end, data)
    request = BacktestRequest(strategy=REPOSITORY_STRATEGY, profile=profile, data=data,
                              start=first, end=last, frequency=frequency,
                              initial_capital=capital, out=out)
    location = StrategyLocation(repo=checkout, worktree_files=True, unsandboxed=unsandboxed)
    return run_backtest(request, location=location)


def _metric_lines(outcome: BacktestOutcome) -> list[str]:
    """Each metric of the result, in the unit ``alphaloop backtest`` shows it in."""
    from alphaloop.report.markdown import format_metric

    metrics = outcome.result.metrics.model_dump()
    width = max(len(name) for name in metrics)
    return [f"  {name.replace('_', ' '):<{width}}  {format_metric(name, value)}"
            for name, value in metrics.items() if isinstance(value, int | float)]


def _one_line(error: Exception) -> str:
    """The error's message; options that did not validate as ``field: problem; ...``."""
    if isinstance(error, ValidationError):
        return "invalid options: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in error.errors())
    return str(error)


class _Command(TyperCommand):
    """Help that shows a flag as a flag (``--unsandboxed``, not ``--unsandboxed <bool>``),
    as ``alphaloop``'s commands do (``alphaloop.cli._flags``, which this module may not
    import)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


app = typer.Typer(name=PROG, add_completion=False, pretty_exceptions_enable=False)


@app.command(cls=_Command, help="Backtest this checkout's FinSage engine (sandboxed) through the "
                  "trusted harness, and chart it.")
def backtest(
    ctx: typer.Context,
    start: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="first day (default: six months before --end)")] = None,
    end: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="last day (default: the data's last day)")] = None,
    frequency: Annotated[Frequency, typer.Option(help="rebalance frequency")] = "weekly",
    capital: Annotated[float, typer.Option(help="initial capital")] = 1_000_000.0,
    profile: Annotated[str, typer.Option(
        "--profile", "--config",
        help="FinSage profile: default, conservative or aggressive")] = "default",
    data: Annotated[str, typer.Option(
        help="data source: synthetic[:seed=N,years=Y], file:PATH, fmp")] = "synthetic",
    out: Annotated[Path, typer.Option(help="directory for result.json and equity.png")]
    = Path("out/finsage"),
    unsandboxed: Annotated[bool, typer.Option(
        "--unsandboxed", help="trusted checkout: run the engine without the sandbox")]
    = False,
    log_level: Annotated[LogLevel, typer.Option(help="logging level")] = "INFO",
    model: Annotated[str, typer.Option(help="LLM model name (reported, not called)")]
    = "gpt-4o-mini",
) -> None:
    root = logging.getLogger()
    root.setLevel(log_level)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    checkout: Path = ctx.obj
    try:
        outcome = run_strategy_command(
            checkout, start=start.date() if start else None, end=end.date() if end else None,
            frequency=frequency, capital=capital, profile=profile, data=data, out=out,
            unsandboxed=unsandboxed)
    except USER_ERRORS as error:
        typer.echo(f"{PROG}: error: {_one_line(error)}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    window = outcome.result.config.window
    mode = "sandboxed" if outcome.source is None or outcome.source.sandboxed else "unsandboxed"
    typer.echo(f"FinSage ({profile}) on {data}, {window.start} to {window.end}, "
               f"{frequency} rebalancing, {mode}; model {model} not called (no LLM "
               "client: factor and rule paths)")
    typer.echo("\n".join(_metric_lines(outcome)))
    typer.echo(f"wrote {outcome.result_path} and {outcome.plot_path}")



def main(checkout: Path, argv: list[str] | None = None) -> int:
    """Run ``python -m strategy`` with ``argv`` on the strategy of ``checkout``; return
    the exit code (0 done, 2 bad input)."""
    try:
        app(args=argv, prog_name=PROG, obj=checkout)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    return 0
