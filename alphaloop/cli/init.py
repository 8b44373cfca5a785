"""``alphaloop init [PATH]``: add AlphaLoop to an existing strategy repository.

Writes ``policies/``, ``roles/``, ``task.md``, the GitHub workflows, ``.github/CODEOWNERS``
and ``alphaloop.toml`` (see :mod:`alphaloop.scaffold`), then prints each file as
written, overwritten, unchanged or kept. A file the repository already has is kept
unless ``--force``. Exit code 2 when the repository cannot take AlphaLoop as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from alphaloop.cli._errors import EXIT_USER_ERROR, fail
from alphaloop.errors import Failure

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    path: Annotated[Path, typer.Argument(help="the strategy repository")] = Path("."),
    force: Annotated[bool, typer.Option(
        "--force", help="overwrite files the repository already has")] = False,
    strategy_entry: Annotated[str | None, typer.Option(
        "--strategy-entry", help="where the strategy's factory is: MODULE or MODULE:FUNCTION "
                                 "in the strategy package (default strategy:create_strategy)")]
    = None,
    install: Annotated[str | None, typer.Option(
        "--install", help="the pip requirement the workflows install AlphaLoop with "
                          "(default: this version, alphaloop==VERSION)")] = None,
) -> None:
    """Add AlphaLoop to a strategy repository: policies, charters, backlog, workflows."""
    from alphaloop.scaffold import init_project

    try:
        result = init_project(path, force=force, strategy_entry=strategy_entry,
                              install=install)
    except Failure as error:
        raise fail("init", str(error), EXIT_USER_ERROR) from None
    out = Console(soft_wrap=True, highlight=False)
    for label, paths, why in (("wrote", result.written, ""),
                              ("overwrote", result.overwritten, ""),
                              ("unchanged", result.unchanged, ""),
                              ("kept", result.kept, " (yours; --force overwrites it)")):
        for item in paths:
            out.print(f"{label:>10}  {escape(item)}{why}")
    out.print(f"Strategy entry point: {escape(result.entry)} (recorded in alphaloop.toml).")
    for note in result.notes:
        out.print(f"[yellow]note:[/] {escape(note)}")
    changed = result.written or result.overwritten
    out.print("Next: " + ("review the files, `git add` and commit them, then run "
                          "`alphaloop cycle`." if changed else
                          "nothing changed; run `alphaloop cycle`."))
