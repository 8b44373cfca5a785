"""The ``alphaloop`` command line: typer commands that build configs and call the library.

Each command group lives in its own module with a ``register(app)`` function.
"""

from __future__ import annotations

import typer

from alphaloop.cli import audit, backtest, check, cycle, data, ledger, pr

__all__ = ["app", "main"]

app = typer.Typer(
    name="alphaloop",
    help="A git-native multi-agent SDLC bot for a trading strategy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (audit, backtest, check, cycle, data, ledger, pr):
    _module.register(app)


def main() -> None:
    app()
