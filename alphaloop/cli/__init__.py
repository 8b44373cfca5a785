"""The ``alphaloop`` command line: typer commands that build configs and call the library.

Each command group lives in its own module with a ``register(app)`` function.
``alphaloop --version`` prints the installed package's version.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from alphaloop.cli import audit, backtest, check, cycle, data, deploy, ledger, pr, review
from alphaloop.cli import cache as cache_command
from alphaloop.cli import github as github_commands
from alphaloop.cli import init as init_command
from alphaloop.cli import sandbox as sandbox_command
from alphaloop.cli._flags import flags_as_flags

__all__ = ["app", "main"]

app = typer.Typer(
    name="alphaloop",
    help="A git-native multi-agent SDLC bot for a trading strategy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (audit, backtest, check, cycle, data, deploy, ledger, pr, review,
                github_commands, init_command, sandbox_command, cache_command):
    _module.register(app)


flags_as_flags(app)


def _print_version(value: bool) -> None:
    if not value:
        return
    try:
        typer.echo(f"alphaloop {version('alphaloop')}")
    except PackageNotFoundError:
        typer.echo("alphaloop (version unknown: the package is not installed)")
    raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="print the version and exit")] = False,
) -> None:
    """Options of ``alphaloop`` itself, before any command."""


def main() -> None:
    app()
