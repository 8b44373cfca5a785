"""``alphaloop cycle``: run hypothesis -> analysis cycles on the repository here.

The cycle and the report are imported when the command runs, not with this module, so
``alphaloop --help`` and the other commands start without them (and without matplotlib,
which the report's charts load).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import fail, invalid_options
from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.errors import Failure
from alphaloop.harness.windows import HOLDOUT_DAYS

if TYPE_CHECKING:
    from alphaloop.records import CycleSummary

__all__ = ["register"]

_STAGE_TITLES = {
    "plan": "PM: planning", "quant_review": "Quant: reviewing main",
    "hypothesis": "Quant: choosing a hypothesis", "implement": "Quant: branch, commit, PR",
    "risk_review": "Risk: gates and sandboxed backtests", "merge": "Merge gate",
    "report": "PM: ledger, walkthrough, task.md",
}


def _stage_title(stage: str) -> str:
    if stage in _STAGE_TITLES:
        return _STAGE_TITLES[stage]
    role = stage.removesuffix("_review")
    return f"{role.capitalize()}: reviewing the branch" if role != stage else stage


def register(app: typer.Typer) -> None:
    app.command("cycle")(cycle)


def cycle(
    repo: Annotated[Path, typer.Option(help="repository to work on")] = Path("."),
    cycles: Annotated[int, typer.Option("--cycles", min=1, help="cycles to run in a row")] = 1,
    resume: Annotated[bool, typer.Option(help="finish an interrupted cycle first")] = False,
    dry_run_: Annotated[bool, typer.Option("--dry-run",
                                           help="show what would happen; change nothing")]
    = False,
    data: Annotated[str, typer.Option(help="data source: synthetic, file:PATH, fmp")]
    = "synthetic",
    until: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="give the loop the data up to this date (YYYY-MM-DD) "
                                   "only")] = None,
    profile: Annotated[str, typer.Option(help="FinSage profile")] = "default",
    frequency: Annotated[str, typer.Option(help="rebalance frequency of the backtests")]
    = "weekly",
    holdout_days: Annotated[int, typer.Option(help="trading days held out for Risk")]
    = HOLDOUT_DAYS,
    folds: Annotated[int, typer.Option(help="walk-forward folds in-sample")] = 4,
    warmup_days: Annotated[int, typer.Option(help="history before the first decision")]
    = TRADING_DAYS_PER_YEAR,
    base: Annotated[str | None, typer.Option(help="branch to improve (default: main)")]
    = None,
    allow_unsandboxed: Annotated[bool, typer.Option(
        "--allow-unsandboxed", help="run strategy code without bubblewrap if it is missing")]
    = False,
) -> None:
    """Run the PM -> Quant -> Risk -> merge -> report cycle, offline, in git."""
    from alphaloop.cycle import CycleOptions
    from alphaloop.cycle.run import dry_run, run_cycles
    from alphaloop.report.markdown import shorten

    # Stage lines say what happens, not where in the code; long lines are not folded.
    console = Console(stderr=True, soft_wrap=True, log_path=False)
    try:
        options = CycleOptions(data=data, until=until.date() if until else None,
                               profile=profile, frequency=frequency,
                               holdout_days=holdout_days, n_folds=folds,
                               warmup_days=warmup_days, base_branch=base,
                               allow_unsandboxed=allow_unsandboxed)
    except ValidationError as exc:
        raise fail("cycle", invalid_options(exc)) from None
    try:
        if dry_run_:
            Console(soft_wrap=True).print(dry_run(repo, options), highlight=False)
            return
        with console.status("starting") as status:
            def on_stage(stage: str, note: str) -> None:
                status.update(f"[bold]{_stage_title(stage)}[/] {note}")
                console.log(_stage_title(stage))

            summaries = run_cycles(repo, options, count=cycles, resume=resume,
                                   on_stage=on_stage)
    except Failure as exc:
        raise fail("cycle", str(exc)) from None
    table = Table(title="AlphaLoop cycles")
    for column in ("cycle", "task", "outcome", "PR", "hypothesis", "seconds"):
        table.add_column(column)
    for s in summaries:
        table.add_row(s.cycle_id, s.task_id or "-", s.outcome.value,
                      f"#{s.pr_number}" if s.pr_number else "-",
                      shorten(s.hypothesis or s.message or "-", 60),
                      f"{sum(s.timings.values()):.1f}")
    Console().print(table)
    for s in summaries:
        if s.message:
            Console(soft_wrap=True).print(f"[bold]{s.cycle_id}[/] {s.outcome.value}: "
                                          f"{escape(s.message)}", highlight=False)
    stop = stop_reason(summaries, cycles)
    if stop:
        Console(soft_wrap=True).print(escape(stop), highlight=False)


_STOP_WHY = {
    "idle": "there is no open task to work on",
    "no_hypothesis": "the Quant has no untried hypothesis near main",
    "failed": "the cycle failed",
    "not_mergeable": "the change cannot merge as things stand",
}


def stop_reason(summaries: list[CycleSummary], requested: int) -> str:
    """Why fewer cycles ran than ``--cycles`` asked for ("" when all ran)."""
    from alphaloop.report.markdown import shorten

    if not summaries or len(summaries) >= requested:
        return ""
    last = summaries[-1]
    why = _STOP_WHY.get(last.outcome.value, f"it ended {last.outcome.value}")
    detail = f" ({shorten(last.message, 200)})" if last.message else ""
    return (f"Stopped after {len(summaries)} of {requested} cycles: {last.cycle_id} "
            f"ended {last.outcome.value} because {why}{detail}; the ledger entry of "
            f"{last.cycle_id} records it.")
