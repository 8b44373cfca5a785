"""``alphaloop github``: the steps a GitHub Actions job takes around a cycle.

``alphaloop github push BRANCH`` pushes a branch the cycle advanced (the base branch with
its report commit) to GitHub, as a fast-forward, with ``GITHUB_TOKEN`` passed to git for
that one command only; ``alphaloop github summary`` prints the walkthrough's sections about
the latest cycle, for ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alphaloop.cli._errors import fail
from alphaloop.errors import Failure

__all__ = ["register"]

RepoOption = Annotated[Path, typer.Option("--repo", help="repository to work on")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="github", no_args_is_help=True,
                        help="Steps of the GitHub Actions workflows (push, job summary).")
    group.command("push")(push)
    group.command("summary")(summary)
    app.add_typer(group, name="github")


def push(branch: Annotated[str, typer.Argument(help="local branch to push")] = "main",
         repo: RepoOption = Path(".")) -> None:
    """Push BRANCH to GitHub as a fast-forward (GITHUB_REPOSITORY, GITHUB_TOKEN)."""
    from alphaloop.forge.github import GitHubForge
    from alphaloop.forge.github_settings import GitHubSettings
    from alphaloop.repo import GitRepo

    try:
        forge = GitHubForge(GitRepo.open(repo), GitHubSettings.from_env())
        sha = forge.publish_branch(branch)
    except Failure as error:
        raise fail("github push", str(error)) from None
    typer.echo(f"{branch} is at {sha[:10]} on GitHub.")


def summary(walkthrough: Annotated[Path, typer.Option(
        help="the walkthrough to summarise")] = Path("walkthrough.md")) -> None:
    """Print the walkthrough's "Needs a human" and "Latest cycle" sections (Markdown)."""
    from alphaloop.report.sections import latest_sections

    if not walkthrough.is_file():
        typer.echo(f"No walkthrough at {walkthrough}: no cycle has reported yet.")
        return
    typer.echo(latest_sections(walkthrough.read_text(encoding="utf-8")))
