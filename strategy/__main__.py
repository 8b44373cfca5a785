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
from pathlib import Path

import pandas as pd

from alphaloop.contract import ContractError
from alphaloop.data import DataError, open_source
from alphaloop.harness.errors import HarnessError
from alphaloop.harness.runner import BacktestRequest, run_backtest
from strategy.config import PROFILES, load_profile

__all__ = ["main", "parse_args"]

EXIT_BAD_INPUT = 2


def _day(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text)
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


def _metrics_lines(result: object) -> list[str]:
    metrics = result.metrics.model_dump()  # type: ignore[attr-defined]
    width = max(len(name) for name in metrics)
    return [f"  {name.replace('_', ' '):<{width}}  "
            f"{f'{value:.4f}' if isinstance(value, float) else value}"
            for name, value in metrics.items()]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = logging.getLogger()
    root.setLevel(args.log_level)
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    try:
        start, end = args.start, args.end
        if start is None:
            end = end if end is not None else open_source(args.data).load().dates[-1]
            start = end - pd.DateOffset(months=6)
        threshold = load_profile(args.config).trading.rebalance_threshold
        request = BacktestRequest(strategy="finsage", profile=args.config, data=args.data,
                                  start=start.date(), end=end.date() if end is not None else None,
                                  frequency=args.frequency, initial_capital=args.capital,
                                  rebalance_threshold=threshold, out=args.out)
        outcome = run_backtest(request)
    except (HarnessError, ContractError, DataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    window = outcome.result.config.window
    print(f"FinSage ({args.config}) on {args.data}, {window.start} to {window.end}, "
          f"{args.frequency} rebalancing; model {args.model} not called (no LLM client: "
          "factor and rule paths)")
    print("\n".join(_metrics_lines(outcome.result)))
    print(f"wrote {outcome.result_path} and {outcome.plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
