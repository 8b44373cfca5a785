"""Run a FinSage backtest from the command line (spec appendix B).

    python -m strategy --start 2023-01-01 --end 2024-06-30 --frequency weekly \\
        --capital 1000000 --config conservative

Options and defaults follow the spec: ``--start`` six months before ``--end``, ``--end``
the last day of the data, ``--frequency daily``, ``--capital 1000000``, ``--config
default``, ``--log-level INFO``, ``--model gpt-4o-mini``; ``--data`` picks the data
source (the embedded synthetic market by default) and ``--out`` the output directory.

The engine is never imported into this process: this checkout's ``strategy/`` files run
in AlphaLoop's sandbox (no network, no secrets, resource limits) while the trusted
harness accounts; ``--unsandboxed`` runs them in a plain child process, for a checkout
you trust. This module reaches AlphaLoop through one documented entry point,
:func:`alphaloop.backtest.run_strategy_command`, imported inside :func:`main` - the only
import of AlphaLoop beyond the contract anywhere in ``strategy/``. The engine runs
without an LLM client (factor and rule paths); ``--model`` is reported, not called.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["main", "parse_args"]

EXIT_BAD_INPUT = 2
PROFILES = ("default", "conservative", "aggressive")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m strategy",
                                     description="Backtest the FinSage engine (sandboxed).")
    parser.add_argument("--start", help="first day, YYYY-MM-DD (default: 6 months before end)")
    parser.add_argument("--end", help="last day, YYYY-MM-DD (default: the data's last day)")
    parser.add_argument("--frequency", choices=("daily", "weekly", "monthly"), default="daily")
    parser.add_argument("--capital", type=float, default=1_000_000.0)
    parser.add_argument("--config", choices=PROFILES, default="default",
                        help="configuration profile")
    parser.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser.add_argument("--model", default="gpt-4o-mini", help="LLM model name")
    parser.add_argument("--data", default="synthetic", help="data source spec")
    parser.add_argument("--out", type=Path, default=Path("out/finsage"))
    parser.add_argument("--unsandboxed", action="store_true",
                        help="trusted checkout: run the engine without the sandbox")
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
    # The one entry point into AlphaLoop (see the module notes); imported here, not above.
    from alphaloop.backtest.entry import USER_ERRORS, run_strategy_command

    checkout = Path(__file__).resolve().parent.parent
    try:
        outcome = run_strategy_command(
            checkout, start=args.start, end=args.end, frequency=args.frequency,
            capital=args.capital, profile=args.config, data=args.data, out=args.out,
            unsandboxed=args.unsandboxed)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    window = outcome.result.config.window
    mode = "sandboxed" if outcome.source is None or outcome.source.sandboxed else "unsandboxed"
    print(f"FinSage ({args.config}) on {args.data}, {window.start} to {window.end}, "
          f"{args.frequency} rebalancing, {mode}; model {args.model} not called (no LLM "
          "client: factor and rule paths)")
    print("\n".join(_metrics_lines(outcome.result)))
    print(f"wrote {outcome.result_path} and {outcome.plot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
