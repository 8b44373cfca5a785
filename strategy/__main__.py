"""Run a FinSage backtest from the command line (spec appendix B).

    python -m strategy --start 2023-01-01 --end 2024-06-30 --frequency weekly \\
        --capital 1000000 --config conservative

Options and defaults follow the spec: ``--start`` six months before ``--end``, ``--end``
the last day of the data, ``--frequency daily``, ``--capital 1000000``, ``--config
default``, ``--log-level INFO``, ``--model gpt-4o-mini``; ``--data`` picks the data
source (the embedded synthetic market by default) and ``--out`` the output directory.
Trades smaller than the profile's ``trading.rebalance_threshold`` are skipped.

This is a command-line entry point, not part of the engine the harness loads, so it is
the one module of ``strategy`` that uses AlphaLoop beyond the contract: the trusted
runner (:func:`alphaloop.harness.runner.run_backtest`) opens the data, simulates the
engine with costs, and writes ``result.json`` and ``equity.png``; this module prints the
metrics. The runner builds the engine without an LLM client, so the experts and managers
run on their factor and rule paths; ``--model`` is reported, not called.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from alphaloop.contract import ContractError
from alphaloop.data import DataError, open_source
from alphaloop.harness.errors import HarnessError
from alphaloop.harness.runner import BacktestRequest, run_backtest
from strategy.config import PROFILES, load_profile

__all__ = ["main", "parse_args"]

EXIT_BAD_INPUT = 2


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m strategy",
                                     description="Backtest the FinSage engine.")
    parser.add_argument("--start", type=_day, help="first day (default: 6 months before end)")
    parser.add_argument("--end", type=_day, help="last day (default: the data's last day)")
    parser.add_argument("--frequency", choices=("daily", "weekly", "monthly"), default="daily")
    parser.add_argument("--capital", type=float, default=1_000_000.0)
    parser.add_argument("--config", choices=PROFILES, default="default",
                        help="configuration profile")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--model", default="gpt-4o-mini", help="LLM model name")
    parser.add_argument("--data", default="synthetic", help="data source spec")
    parser.add_argument("--out", type=Path, default=Path("out/finsage"))
    return parser.parse_args(argv)


def _metrics_table(result: object) -> Table:
    metrics = result.metrics  # type: ignore[attr-defined]
    table = Table(title="FinSage backtest")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.model_dump().items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(name.replace("_", " "), shown)
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    errors = Console(stderr=True)
    try:
        start, end = args.start, args.end
        if start is None:
            last = end or open_source(args.data).load().dates[-1].date()
            end, start = last, last - timedelta(days=182)
        threshold = load_profile(args.config).trading.rebalance_threshold
        request = BacktestRequest(strategy="finsage", profile=args.config, data=args.data,
                                  start=start, end=end, frequency=args.frequency,
                                  initial_capital=args.capital, rebalance_threshold=threshold,
                                  out=args.out)
        outcome = run_backtest(request)
    except (HarnessError, ContractError, DataError, ValueError) as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
    console = Console()
    window = outcome.result.config.window
    console.print(f"FinSage ({args.config}) on {args.data}, {window.start} to {window.end}, "
                  f"{args.frequency} rebalancing; model {args.model} not called (no LLM "
                  "client: factor and rule paths)", highlight=False)
    console.print(_metrics_table(outcome.result))
    console.print(f"wrote {outcome.result_path} and {outcome.plot_path}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
