"""``alphaloop sandbox build [--base IMAGE]``: build the Docker sandbox's backtest image.

The image holds the allowed libraries at the versions installed here and the strategy
contract (see ``sandbox/backtest.Dockerfile`` and docs/sandbox.md); ``--sandbox docker``
needs it. The docker library is imported when the command runs, not with this module.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from alphaloop.cli._errors import fail
from alphaloop.errors import Failure

__all__ = ["register"]

sandbox_app = typer.Typer(help="Images for the Docker sandbox.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("build")
def build(
    base: Annotated[str | None, typer.Option(
        help="base image with Python 3.11 (default python:3.11-slim, pulled if missing; "
             "where no registry is reachable, make alphaloop/base:bookworm with "
             "scripts/make-base-image and pass it here)")] = None,
) -> None:
    """Build (or reuse) the image sandboxed backtests run in; print its tag."""
    from alphaloop.sandbox.images import build_backtest_image

    try:
        tag = build_backtest_image(base)
    except Failure as exc:
        raise fail("sandbox build", str(exc)) from None
    Console(soft_wrap=True).print(escape(tag), highlight=False)
