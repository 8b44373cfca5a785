"""Operator commands: ``deploy``, ``status``, ``rollback``, ``halt`` and ``resume``.

``alphaloop deploy [SHA]`` runs a commit of the base branch as the paper-trading service on
the bars after the clock and grades it (a failed canary rolls it back on its own);
``alphaloop status`` says what runs, since when, how healthy it is, and lists the
deployment ledger; ``alphaloop rollback [--to SHA]`` reverts the code changes since a good
commit and deploys that commit again; ``alphaloop halt --reason ...`` stops deployments
and every cycle until a person runs ``alphaloop resume --reason ...``. Every step is an
event of ``deploy/history`` on the base branch. Exit codes: 0 done, 1 a failure (or a
failed canary), 2 a mistake in the options or the repository's state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import EXIT_USER_ERROR, fail, invalid_options
from alphaloop.cli._research_options import (
    BaseOption,
    ClockOption,
    DataOption,
    FrequencyOption,
    ProfileOption,
    SandboxOption,
    UntilOption,
)
from alphaloop.errors import Failure

if TYPE_CHECKING:
    from alphaloop.cycle import CycleOptions
    from alphaloop.records import DeploymentEvent, DeployRecord

__all__ = ["register"]

RepoOption = Annotated[Path, typer.Option("--repo", help="repository to work on")]
ReasonOption = Annotated[str, typer.Option(help="why: recorded in the deployment ledger")]
UnsandboxedOption = Annotated[bool, typer.Option(
    "--allow-unsandboxed", help="run strategy code without bubblewrap if it is missing")]


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("status")(status)
    app.command("rollback")(rollback)
    app.command("halt")(halt)
    app.command("resume")(resume)


def _options(command: str, **values: object) -> CycleOptions:
    from alphaloop.cycle import CycleOptions

    try:
        return CycleOptions.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise fail(command, invalid_options(exc), EXIT_USER_ERROR) from None


def deploy(
    sha: Annotated[str | None, typer.Argument(
        help="commit of the base branch to deploy (default: its tip)")] = None,
    repo: RepoOption = Path("."),
    data: DataOption = "synthetic",
    until: UntilOption = None,
    clock: ClockOption = None,
    profile: ProfileOption = "default",
    frequency: FrequencyOption = "weekly",
    base: BaseOption = None,
    sandbox: SandboxOption = "process",
    allow_unsandboxed: UnsandboxedOption = False,
) -> None:
    """Deploy a commit: paper-trade the bars after the clock, grade it, roll back a failure."""
    from alphaloop.cycle.operate import human_identity, operate
    from alphaloop.cycle.preflight import PreflightError
    from alphaloop.roles import DeployRequest

    options = _options("deploy", data=data, until=until.date() if until else None,
                       clock=clock.date() if clock else None, profile=profile,
                       frequency=frequency, base_branch=base, sandbox=sandbox,
                       allow_unsandboxed=allow_unsandboxed)
    try:
        with operate(repo, options) as (ctx, sre):
            who = human_identity(ctx.repo)
            commit = ctx.repo.rev_parse(sha or ctx.base_branch)
            if not ctx.repo.is_ancestor(commit, ctx.base_sha):
                raise PreflightError(f"{commit[:10]} is not on {ctx.base_branch}: only what "
                                     f"was merged there is deployed; merge it first")
            record = sre.deploy(DeployRequest(
                cycle_id=None, base_branch=ctx.base_branch, commit=commit, clock=ctx.clock,
                research=ctx.data, market=ctx.market, windows=ctx.windows,
                reason=f"deployed by {who}"))
    except PreflightError as exc:
        raise fail("deploy", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("deploy", str(exc)) from None
    _print_record(record)
    if not record.deployed or record.grade == "failed":
        raise typer.Exit(1)


def _print_record(record: DeployRecord) -> None:
    console = Console(soft_wrap=True, highlight=False)
    console.print(escape(record.message))
    if record.canary is not None:
        for check in record.canary.checks:
            mark = {"pass": "[green]ok[/]", "fail": "[red]FAIL[/]",
                    "inconclusive": "[yellow]??[/]"}[check.status]
            console.print(f"  {mark} {escape(check.name)}: {escape(check.message)}")
    if record.clock_after and record.clock_after != record.clock_before:
        console.print(f"The clock moved from {record.clock_before} to {record.clock_after}.")


def rollback(
    reason: ReasonOption,
    to: Annotated[str | None, typer.Option(
        "--to", help="commit to return to (default: the last good deployment)")] = None,
    repo: RepoOption = Path("."),
    data: DataOption = "synthetic",
    until: UntilOption = None,
    profile: ProfileOption = "default",
    frequency: FrequencyOption = "weekly",
    base: BaseOption = None,
    sandbox: SandboxOption = "process",
    allow_unsandboxed: UnsandboxedOption = False,
) -> None:
    """Revert the code changes since a good commit and deploy that commit again."""
    from alphaloop.cycle.operate import human_identity, operate
    from alphaloop.cycle.preflight import PreflightError

    options = _options("rollback", data=data, until=until.date() if until else None,
                       profile=profile, frequency=frequency, base_branch=base,
                       sandbox=sandbox, allow_unsandboxed=allow_unsandboxed)
    try:
        with operate(repo, options, allow_halted=True) as (ctx, sre):
            who = human_identity(ctx.repo)
            event = sre.rollback(ctx.base_branch, ctx.market, reason=reason,
                                 decided_by=str(who), to=to, identity=who)
    except PreflightError as exc:
        raise fail("rollback", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("rollback", str(exc)) from None
    undone = ", ".join(c[:10] for c in event.reverted) or "nothing (no code change since)"
    Console(soft_wrap=True, highlight=False).print(
        f"Rolled back to {(event.commit or '?')[:10]} ({event.id}); reverted {undone}.")


def halt(reason: ReasonOption, repo: RepoOption = Path("."), base: BaseOption = None) -> None:
    """Stop the running deployment; cycles and deploys refuse to start until `resume`."""
    from alphaloop.cycle.operate import human_identity, role_emails
    from alphaloop.cycle.preflight import PreflightError, open_repository
    from alphaloop.deploy import halt as halt_deployments

    try:
        git = open_repository(repo)
        who = human_identity(git)
        branch, _ = role_emails(git, base)
        event = halt_deployments(git, branch, reason=reason, decided_by=str(who), identity=who)
    except PreflightError as exc:
        raise fail("halt", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("halt", str(exc)) from None
    Console(soft_wrap=True, highlight=False).print(
        f"Deployments on {branch} are halted ({event.id}, by {escape(event.decided_by)}). "
        "No cycle or deploy starts until a person runs `alphaloop resume --reason ...`.")


def resume(reason: ReasonOption, repo: RepoOption = Path("."),
           base: BaseOption = None) -> None:
    """Lift a halt (a person, not one of AlphaLoop's roles)."""
    from alphaloop.cycle.operate import human_identity, role_emails
    from alphaloop.cycle.preflight import PreflightError, open_repository
    from alphaloop.deploy import resume as resume_deployments

    try:
        git = open_repository(repo)
        who = human_identity(git)
        branch, bots = role_emails(git, base)
        event = resume_deployments(git, branch, reason=reason, identity=who, bot_emails=bots)
    except PreflightError as exc:
        raise fail("resume", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("resume", str(exc), EXIT_USER_ERROR) from None
    Console(soft_wrap=True, highlight=False).print(
        f"Deployments on {branch} resumed ({event.id}, by {escape(event.decided_by)}).")


def status(
    repo: RepoOption = Path("."),
    base: BaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the state and history as "
                                                         "JSON")] = False,
    limit: Annotated[int, typer.Option(min=1, help="history rows to show")] = 20,
) -> None:
    """What runs, since when, its health, and the deployment history."""
    from alphaloop.cycle.preflight import PreflightError, base_branch_of, open_repository
    from alphaloop.deploy import DeploymentLedger
    from alphaloop.deploy.ledger import fold

    try:
        git = open_repository(repo)
        branch = base_branch_of(git, base)
        events = DeploymentLedger(git, branch).events()
    except PreflightError as exc:
        raise fail("status", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("status", str(exc)) from None
    state = fold(events)
    if as_json:
        payload = {"branch": branch, "clock": state.clock and state.clock.isoformat(),
                   "halted": state.halt.model_dump(mode="json") if state.halt else None,
                   "current": state.current.model_dump(mode="json") if state.current else None,
                   "history": [e.model_dump(mode="json") for e in events]}
        typer.echo(json.dumps(payload, indent=2))
        return
    console = Console(soft_wrap=True, highlight=False)
    for line in _state_lines(branch, state):
        console.print(line)
    if events:
        console.print(_history(events[-limit:]))


def _state_lines(branch: str, state: object) -> list[str]:
    from alphaloop.deploy import DeploymentState

    assert isinstance(state, DeploymentState)
    lines: list[str] = []
    if state.halt is not None:
        lines.append(f"[bold red]HALTED[/] since {state.halt.created:%Y-%m-%d %H:%M} UTC by "
                     f"{escape(state.halt.decided_by)}: {escape(state.halt.reason)}. "
                     "`alphaloop resume --reason ...` lifts it.")
    current = state.current
    if current is None or current.commit is None:
        lines.append(f"Nothing is deployed from {branch} yet.")
    else:
        where = f"image {current.image}" if current.image else f"the {current.backend} sandbox"
        lines.append(f"Running {current.commit[:10]} from {branch} since "
                     f"{current.created:%Y-%m-%d %H:%M} UTC ({current.id}, {current.kind}, "
                     f"{where})")
        lines.append("Health: " + _health(current))
    lines.append(f"Clock: {state.clock}" if state.clock else
                 "Clock: not moved by a deployment yet (cycles use the data's last day, "
                 "or --clock)")
    return lines


def _health(event: DeploymentEvent) -> str:
    if event.kind == "rollback":
        return f"redeployed after a rollback ({escape(event.reason)}); health check passed"
    if event.canary is None:
        return "not judged"
    text = f"canary {event.canary.grade}"
    if event.live is not None and event.live.bars:
        text += f" over {event.live.start} .. {event.live.end} ({event.live.bars} bars)"
    if event.canary.reasons:
        text += ": " + escape("; ".join(event.canary.reasons))
    if event.canary.grade == "inconclusive":
        text += " [yellow](a person should look)[/]"
    return text


def _history(events: list[DeploymentEvent]) -> Table:
    table = Table(title="Deployment history (deploy/history)", title_justify="left")
    for column in ("id", "when (UTC)", "what", "commit", "canary", "clock", "by", "reason"):
        table.add_column(column)
    for e in reversed(events):
        grade = e.canary.grade if e.canary else ""
        clock = str(e.clock_after or e.clock_before or "")
        table.add_row(e.id, f"{e.created:%Y-%m-%d %H:%M}", e.kind, (e.commit or "")[:10],
                      grade, clock, escape(e.decided_by), escape(e.reason[:60]))
    return table
