"""``alphaloop audit verify``: cross-check the ledger, git history, the journal and the forge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import fail

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="audit", no_args_is_help=True,
                        help="Check that the audit trail has not been altered.")
    group.command("verify")(verify)
    app.add_typer(group, name="audit")


def verify(
    repo: Annotated[Path, typer.Option("--repo", help="repository to audit")] = Path("."),
    base: Annotated[str, typer.Option("--base", help="branch the cycles commit to")] = "main",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Verify the ledger's chain, that each entry is what its cycle committed, that the
    commits the bot recorded are still in the branch's history, and that every merged PR
    carries approvals of the exact head it merged. Exits 1 when anything disagrees."""
    from alphaloop.audit import verify_repository
    from alphaloop.errors import Failure
    from alphaloop.keys import bot_key
    from alphaloop.repo import GitRepo

    try:
        report = verify_repository(GitRepo.open(repo), branch=base, key=bot_key())
    except (Failure, OSError) as error:
        raise fail("audit verify", str(error)) from None
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        console = Console(soft_wrap=True)
        console.print(f"Audited {escape(report.branch)} at {report.head[:12]}: "
                      f"{report.entries} ledger entries, {report.cycle_commits} cycle commits, "
                      f"{report.journal_lines} journal lines, {report.merged_prs} merged PRs, "
                      f"{report.reviews} reviews, {report.deployments} deployment events.",
                      highlight=False)
        if report.ok:
            console.print("[green]The audit trail is consistent.[/]")
        else:
            table = Table(title=f"{len(report.findings)} problem(s)", title_justify="left")
            for column in ("check", "subject", "problem"):
                table.add_column(column, overflow="fold")
            for finding in report.findings:
                table.add_row(finding.check, escape(finding.subject), escape(finding.problem))
            console.print(table)
    if not report.ok:
        raise typer.Exit(1)
