"""Run a FinSage backtest from the command line (spec appendix B).

    python -m strategy --start 2023-01-01 --end 2024-06-30 --frequency weekly \\
        --capital 1000000 --profile conservative

``python -m strategy --help`` lists the options. They follow ``alphaloop backtest``:
the same names (``--profile``, or the spec's ``--config``), defaults (weekly
rebalancing, the default profile) and units (returns and drawdowns as percents).
``--start`` defaults to six months before ``--end``, ``--end`` to the data's last day,
``--data`` to the embedded synthetic market, ``--out`` to ``out/finsage``.

The engine is never imported into this process: this checkout's ``strategy/`` files run
in AlphaLoop's sandbox (no network, no secrets, resource limits) while the trusted
harness accounts; ``--unsandboxed`` runs them in a plain child process, for a checkout
you trust. This module reaches AlphaLoop through one documented entry point,
:mod:`alphaloop.backtest.entry`, imported inside :func:`main` - the only import of
AlphaLoop beyond the contract anywhere in ``strategy/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command with ``argv`` (default: the process's arguments); return its exit
    code: 0 done, 2 bad input (one line on standard error says what is wrong)."""
    # The one entry point into AlphaLoop (see the module notes); imported here, not above.
    from alphaloop.backtest.entry import main as run_command

    checkout = Path(__file__).resolve().parent.parent
    return run_command(checkout, argv)


if __name__ == "__main__":
    sys.exit(main())
