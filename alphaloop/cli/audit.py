"""``alphaloop audit verify``: cross-check the ledger, git history, the journal and the forge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import EXIT_USER_ERROR, fail
from alphaloop.cli._forge_option import ForgeChoice, ForgeOption

if TYPE_CHECKING:
    from alphaloop.forge.github import GitHubForge
    from alphaloop.repo import GitRepo

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="audit", no_args_is_help=True,
                        help="Check that the audit trail has not been altered.")
    group.command("verify")(verify)
    app.add_typer(group, name="audit")


def _github(repo: GitRepo) -> GitHubForge:
    """The repository's GitHub forge, from the variables ``--forge github`` reads; a
    variable missing is the user's to set (exit 2)."""
    from alphaloop.forge.github import GitHubForge
    from alphaloop.forge.github_settings import GitHubConfigError, GitHubSettings

    try:
        return GitHubForge(repo, GitHubSettings.from_env())
    except GitHubConfigError as error:
        raise fail("audit verify", str(error), EXIT_USER_ERROR) from None


def verify(
    repo: Annotated[Path, typer.Option("--repo", help="repository to audit")] = Path("."),
    base: Annotated[str, typer.Option("--base", help="branch the cycles commit to")] = "main",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    forge: ForgeOption = ForgeChoice.local,
) -> None:
    """Verify the ledger's chain, that each entry is what its cycle committed, that the
    commits the bot recorded are still in the branch's history, and that every merged PR
    carries approvals of the exact head it merged; with --forge github, that the reviews
    the ledger records are still on GitHub, unedited and bound to their head, and that
    every merge there is one the ledger or the merge gate accounts for. Exits 1 when
    anything disagrees (GitHub out of reach included)."""
    from alphaloop.audit import verify_repository
    from alphaloop.errors import Failure
    from alphaloop.keys import bot_key
    from alphaloop.repo import GitRepo

    try:
        git_repo = GitRepo.open(repo)
        github = _github(git_repo) if forge is ForgeChoice.github else None
        report = verify_repository(git_repo, branch=base, key=bot_key(), github=github)
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
                named = f"{finding.kind}: " if finding.kind else ""
                table.add_row(finding.check, escape(finding.subject),
                              escape(named + finding.problem))
            console.print(table)
    if not report.ok:
        raise typer.Exit(1)
