"""``alphaloop check``: bias checks a user runs on the repository's strategy.

``alphaloop check lookahead`` recomputes every decision of the in-sample window on the
data cut at its date, in a fresh sandboxed process, and compares it with the decision
made on the full data (as freqtrade's lookahead-analysis does); then the oracle test
asks whether the decisions know the real future. Exit status 0 when every decision
matches and the oracle sees nothing, 1 with the first mismatching dates otherwise, 2 for
bad input. ``--json`` prints the outcome (format ``alphaloop-lookahead/1``) and nothing
else.
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

from alphaloop.cli._errors import fail, invalid_options, stderr
from alphaloop.cli._strategy_options import (
    FrequencyChoice,
    RepoOption,
    RevOption,
    WorktreeFilesOption,
)
from alphaloop.contract import TRADING_DAYS_PER_YEAR, ContractError
from alphaloop.errors import Failure
from alphaloop.harness.windows import HOLDOUT_DAYS

if TYPE_CHECKING:
    from alphaloop.backtest.lookahead import LookaheadOutcome, LookaheadRequest
    from alphaloop.backtest.source import StrategyLocation

__all__ = ["register"]

EXIT_LOOKAHEAD = 1
EXIT_BAD_INPUT = 2
#: Mismatching dates listed on the terminal (``--json`` lists them all).
SHOWN_MISMATCHES = 10


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="check", no_args_is_help=True,
                        help="Bias checks of the repository's strategy.")
    group.command("lookahead")(lookahead)
    app.add_typer(group, name="check")


def _run(request: LookaheadRequest, location: StrategyLocation, *,
         show_progress: bool, errors: Console) -> LookaheadOutcome:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from alphaloop.backtest.lookahead import check_lookahead

    if not show_progress:
        return check_lookahead(request, location)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("decisions"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        return check_lookahead(request, location, progress=progress)


def _mismatch_table(outcome: LookaheadOutcome) -> Table:
    table = Table(title="First decisions that changed on the cut data", title_justify="left")
    for column in ("date", "largest weight change", "assets: full data -> cut data"):
        table.add_column(column)
    for m in outcome.cut_data.mismatches[:SHOWN_MISMATCHES]:
        assets = ", ".join(f"{a} {m.full[a]:.4f} -> {m.cut[a]:.4f}" for a in m.assets)
        table.add_row(str(m.date), f"{m.max_weight_difference:.4g}", escape(assets))
    return table


def _print(outcome: LookaheadOutcome, out: Console) -> None:
    src, window, report = outcome.source, outcome.window, outcome.cut_data
    mode = "sandboxed" if src.sandboxed else "UNSANDBOXED"
    out.print(f"Look-ahead check of the strategy in {src.repository} at {src.commit[:10]} "
              f"(tree {src.tree[:10]}, {mode})", highlight=False, soft_wrap=True)
    out.print(f"{window.label} window {window.start} to {window.end} of {outcome.data_source}, "
              f"{outcome.frequency} decisions; the held-out window (from "
              f"{outcome.holdout_start}) is not read", highlight=False, soft_wrap=True)
    table = Table()
    for column in ("test", "result", "detail"):
        table.add_column(column)
    changed = len(report.mismatches)
    cut_detail = (f"{changed or 'none'} of {report.decisions} decisions changed when "
                  f"recomputed on the data cut at their date (tolerance {report.tolerance:g})")
    table.add_row("cut data", "[green]pass[/]" if report.passed else "[red]FAIL[/]",
                  cut_detail)
    if outcome.oracle is not None:
        ok = outcome.oracle.severity < 2
        table.add_row("oracle", "[green]pass[/]" if ok else "[red]FAIL[/]",
                      escape(outcome.oracle.message) + f" [dim](seed {outcome.seed})[/]")
    out.print(table)
    if not report.passed:
        first = report.mismatches[0]
        out.print(_mismatch_table(outcome))
        more = len(report.mismatches) - SHOWN_MISMATCHES
        if more > 0:
            out.print(f"... and {more} more (--json lists them all)", highlight=False)
        out.print(f"[red]Look-ahead:[/] the decision of {first.date} changes when the data "
                  f"after that date is cut away, so it used data it could not have had. "
                  f"Look for state kept between backtests (module globals, caches) or "
                  f"data read past the view.", highlight=False)
    elif not outcome.passed:
        out.print("[red]Look-ahead:[/] the decisions know the real future better than any "
                  "future drawn from the past; does the strategy rebuild the market from "
                  "a seed or a copy of the data?", highlight=False)
    else:
        out.print("[green]No look-ahead found:[/] every decision matches.", highlight=False)


def lookahead(
    repo: RepoOption = Path("."),
    rev: RevOption = "HEAD",
    worktree_files: WorktreeFilesOption = False,
    profile: Annotated[str, typer.Option(
        help="FinSage profile: default, conservative or aggressive")] = "default",
    data: Annotated[str, typer.Option(
        help="data source: synthetic[:seed=N,years=Y], file:PATH, fmp")] = "synthetic",
    frequency: Annotated[FrequencyChoice, typer.Option(
        help="rebalance frequency")] = FrequencyChoice.weekly,
    holdout_days: Annotated[int, typer.Option(
        help="trading days at the end of the data held out (never read)")] = HOLDOUT_DAYS,
    warmup_days: Annotated[int, typer.Option(
        help="trading days of history before the first decision")] = TRADING_DAYS_PER_YEAR,
    tolerance: Annotated[float, typer.Option(
        help="largest weight difference that still counts as the same decision")] = 1e-9,
    oracle: Annotated[bool, typer.Option(
        "--oracle/--no-oracle", help="also run the oracle test")] = True,
    seed: Annotated[int | None, typer.Option(
        help="seed of the oracle test (default: drawn at random)")] = None,
    json_output: Annotated[bool, typer.Option(
        "--json", help="print the outcome as JSON and nothing else")] = False,
) -> None:
    """Recompute every decision on data cut at its date and compare (sandboxed).

    Exit status 0 when every decision matches, 1 when one does not (the first
    mismatching dates are listed), 2 for bad input.
    """
    from alphaloop.backtest.lookahead import LookaheadRequest
    from alphaloop.backtest.source import StrategyLocation

    errors = stderr()
    try:
        request = LookaheadRequest(profile=profile, data=data, frequency=frequency.value,
                                   holdout_days=holdout_days, warmup_days=warmup_days,
                                   tolerance=tolerance, oracle=oracle, seed=seed)
        location = StrategyLocation(repo=repo, rev=rev, worktree_files=worktree_files)
    except ValidationError as exc:
        raise fail("check lookahead", invalid_options(exc), EXIT_BAD_INPUT) from None
    try:
        outcome = _run(request, location, show_progress=not json_output and errors.is_terminal,
                       errors=errors)
    except (Failure, ContractError) as exc:  # the contract stands apart from Failure
        raise fail("check lookahead", str(exc), EXIT_BAD_INPUT) from None
    if json_output:
        payload = {**outcome.model_dump(mode="json"), "passed": outcome.passed}
        typer.echo(json.dumps(payload, indent=2))
    else:
        _print(outcome, Console())
    if not outcome.passed:
        raise typer.Exit(EXIT_LOOKAHEAD)
