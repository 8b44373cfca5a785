"""``alphaloop backtest``: backtest a repository's strategy through the trusted harness.

The strategy is the one in the repository it is pointed at (``--repo``, default the
current directory; ``--rev``, default that work tree's ``HEAD``; ``--worktree-files`` for
uncommitted files), run in the sandbox unless ``--unsandboxed`` says the checkout is
trusted - never whichever copy of ``strategy`` happens to be installed. Defaults are the
cycle's: weekly rebalancing, the seeds' costs, the default profile. The held-out window
(the last ``--holdout-days`` trading days) is left out unless ``--include-holdout`` asks
for it; such a read is recorded in ``.git/alphaloop/holdout-reads.jsonl`` and Risk's count
of held-out reads includes it. ``--walk-forward`` adds the figures of the cycle's
walk-forward folds (and of the held-out window, when it is read). Writes
``result.json`` (with the strategy's commit and tree hash under ``source``, and the tear
sheet's figures under ``tearsheet``), ``equity.png``, ``tearsheet.md`` and the tear
sheet's charts to ``--out`` and prints a metrics table and the figures against the
equal-weight and 60/40 benchmarks (or, with ``--json``, only the result JSON on standard
output). Bad input exits with code 2 and one paragraph on
standard error naming what is wrong, and leaves no output files.

The backtest library (and with it pandas, scipy and matplotlib) is imported when the
command runs, not with this module, so ``alphaloop --help`` starts without it.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from alphaloop.cli._errors import fail, invalid_options, stderr
from alphaloop.cli._research_options import SandboxOption
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
    from alphaloop.backtest import BacktestOutcome, StrategyLocation
    from alphaloop.backtest.request import BacktestRequest, FoldFigures
    from alphaloop.harness.result import BacktestResult
    from alphaloop.report.tearsheet import TearSheet

__all__ = ["register"]

EXIT_BAD_INPUT = 2


class WindowChoice(StrEnum):
    full = "full"
    in_sample = "in-sample"
    holdout = "holdout"


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)


def _percent(value: float) -> str:
    return f"{value:.2%}" if math.isfinite(value) else str(value)


def _points(value: float) -> str:
    """A difference of fractions in percentage points: ``0.0123`` -> ``+1.23 pp``."""
    return f"{100 * value:+.2f} pp" if math.isfinite(value) else str(value)


def _number(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else str(value)


def headline(result: BacktestResult) -> str:
    """One line naming what was backtested."""
    config, window = result.config, result.config.window
    return (f"{config.strategy} on {config.data_source}: {window.label} window "
            f"{window.start} to {window.end}, {config.frequency} rebalancing")


def metrics_table(result: BacktestResult) -> Table:
    """The headline metrics of a result as a rich table."""
    m = result.metrics
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    trades = result.trades
    rows = [
        ("total return", _percent(m.total_return)),
        ("annual return", _percent(m.annual_return)),
        ("annual volatility", _percent(m.annual_volatility)),
        ("Sharpe", _number(m.sharpe)),
        ("Sortino", _number(m.sortino)),
        ("max drawdown", _percent(m.max_drawdown)),
        ("Calmar", _number(m.calmar)),
        ("VaR 95% (daily)", _percent(m.var_95)),
        ("CVaR 95% (daily)", _percent(m.cvar_95)),
        ("turnover (per year)", _number(m.turnover)),
        ("hit rate", _percent(m.hit_rate)),
        ("days", str(m.n_days)),
        ("decisions / trades", f"{len(result.decision_log)} / {len(trades)}"),
        ("costs paid", f"{sum(t.cost_amount for t in trades):,.0f}"),
        ("final value", f"{float(result.values[-1]):,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def walk_forward_table(folds: list[FoldFigures]) -> Table:
    """Each walk-forward test window's figures, and their summary as Risk takes it
    (mean Sharpe, worst drawdown, mean reward)."""
    table = Table(title="Walk-forward folds (test windows)", title_justify="left",
                  caption="walk-forward: the folds' mean Sharpe and reward and their worst "
                          "drawdown, as Risk records them", caption_justify="left")
    table.add_column("fold")
    table.add_column("window")
    for column in ("Sharpe", "max drawdown", "reward"):
        table.add_column(column, justify="right")
    in_sample = [f for f in folds if f.label != "holdout"]
    for fold in in_sample:
        table.add_row(fold.label, f"{fold.start} to {fold.end}", _number(fold.sharpe),
                      _percent(fold.max_drawdown), _number(fold.reward))
    if in_sample:
        table.add_row("walk-forward", "the folds together",
                      _number(sum(f.sharpe for f in in_sample) / len(in_sample)),
                      _percent(max(f.max_drawdown for f in in_sample)),
                      _number(sum(f.reward for f in in_sample) / len(in_sample)),
                      style="bold", end_section=True)
    for fold in folds:
        if fold.label == "holdout":
            table.add_row("held-out", f"{fold.start} to {fold.end}", _number(fold.sharpe),
                          _percent(fold.max_drawdown), _number(fold.reward))
    return table


def benchmark_tables(sheet: TearSheet) -> list[Table]:
    """The strategy against each benchmark: the tear sheet's figures, one table per
    window (in-sample, held-out), the explanation under the last."""
    windows = list(dict.fromkeys(r.window for r in sheet.relative))
    tables = []
    for window in windows:
        table = Table(title=f"Against the benchmarks, {window}", title_justify="left",
                      caption_justify="left")
        table.add_column("benchmark", no_wrap=True)
        for column in ("strategy\nreturn", "benchmark\nreturn", "excess\nreturn",
                       "tracking\nerror", "info.\nratio", "beta"):
            table.add_column(column, justify="right", no_wrap=True)
        for row in sheet.relative:
            if row.window == window:
                table.add_row(row.benchmark, _percent(row.portfolio_return),
                              _percent(row.benchmark_return), _points(row.excess_return),
                              _percent(row.tracking_error), _number(row.information_ratio),
                              _number(row.beta))
        tables.append(table)
    if tables:
        tables[-1].caption = ("annual returns geometric; tracking error: annualised "
                              "volatility of the daily return difference; information "
                              "ratio: its annualised mean over the tracking error")
    return tables


def written_line(outcome: BacktestOutcome) -> str:
    """Which files the run wrote, and where."""
    paths = [outcome.result_path, outcome.plot_path, *outcome.chart_paths]
    if outcome.tearsheet_path is not None:
        paths.append(outcome.tearsheet_path)
    return f"wrote {', '.join(p.name for p in paths)} to {outcome.result_path.parent}"


def holdout_line(outcome: BacktestOutcome) -> str:
    """What the run did with the held-out window."""
    holdout, read = outcome.holdout, outcome.holdout_read
    if holdout is None:
        return ""
    span = f"{holdout.start} to {holdout.end}"
    if read is None:
        return (f"held-out window {span} left out (--include-holdout runs over it; the "
                f"read is counted)")
    days = f"{read.read_start} to {read.read_end}"
    what = f"the held-out window {span}" + (f" (days {days})" if days != span else "")
    if outcome.reads_file is None:
        return f"read {what}; NOT counted: there is no git repository to count it in"
    return (f"read {what}; counted in {outcome.reads_file}: Risk's next count of "
            f"held-out reads includes it")


def _run(request: BacktestRequest, location: StrategyLocation, *, show_progress: bool,
         errors: Console) -> BacktestOutcome:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from alphaloop.backtest import run_backtest

    if not show_progress:
        return run_backtest(request, location=location)
    columns = (TextColumn("backtest"), BarColumn(), MofNCompleteColumn(),
               TextColumn("decisions"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as bar:
        task = bar.add_task("backtest", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_backtest(request, location=location, progress=progress)


def backtest(
    strategy: Annotated[str, typer.Option(
        help="finsage (the repository's), inverse-vol, or package.module:factory")]
    = "finsage",
    repo: RepoOption = Path("."),
    rev: RevOption = "HEAD",
    worktree_files: WorktreeFilesOption = False,
    unsandboxed: Annotated[bool, typer.Option(
        "--unsandboxed", help="trusted checkout: run the strategy without the sandbox")]
    = False,
    sandbox: SandboxOption = "process",
    profile: Annotated[str | None, typer.Option(
        help="FinSage profile: default, conservative or aggressive")] = None,
    data: Annotated[str, typer.Option(
        help="data source: synthetic[:seed=N,years=Y], file:PATH, fmp")] = "synthetic",
    start: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="first day of the window")] = None,
    end: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="last day of the window (the clock with --window)")] = None,
    window: Annotated[WindowChoice | None, typer.Option(
        help="a named window instead of --start: full, in-sample or holdout")] = None,
    holdout_days: Annotated[int, typer.Option(
        help="trading days in the held-out window")] = HOLDOUT_DAYS,
    frequency: Annotated[FrequencyChoice, typer.Option(
        help="rebalance frequency")] = FrequencyChoice.weekly,
    capital: Annotated[float, typer.Option(help="initial capital")] = 1_000_000.0,
    threshold: Annotated[float, typer.Option(
        help="skip trades whose largest weight change is below this")] = 0.0,
    out: Annotated[Path, typer.Option(
        help="directory for result.json, the charts and tearsheet.md")]
    = Path("out/backtest"),
    checkpoint: Annotated[Path | None, typer.Option(
        help="checkpoint file: resume from it, save to it while running")] = None,
    checkpoint_every: Annotated[int, typer.Option(
        help="decisions between checkpoints")] = 20,
    include_holdout: Annotated[bool, typer.Option(
        "--include-holdout", help="also run over the held-out window (the read is counted)")]
    = False,
    walk_forward: Annotated[bool, typer.Option(
        "--walk-forward", help="report the figures of the walk-forward folds")] = False,
    folds: Annotated[int, typer.Option(help="walk-forward folds in-sample")] = 4,
    warmup_days: Annotated[int, typer.Option(
        help="history before the first walk-forward decision")] = TRADING_DAYS_PER_YEAR,
    reward_lambda: Annotated[float | None, typer.Option(
        help="lambda of the folds' reward (default: policies/risk.toml)")] = None,
    json_output: Annotated[bool, typer.Option(
        "--json", help="print the result JSON to stdout and nothing else")] = False,
) -> None:
    """Backtest a strategy with costs through the trusted harness and chart it."""
    from alphaloop.backtest import StrategyLocation
    from alphaloop.backtest.outputs import result_json
    from alphaloop.backtest.request import BacktestRequest

    errors = stderr()
    try:
        request = BacktestRequest(
            strategy=strategy, profile=profile, data=data,
            window=window.value if window is not None else None,
            start=start.date() if start else None, end=end.date() if end else None,
            holdout_days=holdout_days, frequency=frequency.value, initial_capital=capital,
            rebalance_threshold=threshold, out=out, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, include_holdout=include_holdout,
            walk_forward=walk_forward, n_folds=folds, warmup_days=warmup_days,
            reward_lambda=reward_lambda)
        location = StrategyLocation(repo=repo, rev=rev, worktree_files=worktree_files,
                                    unsandboxed=unsandboxed, sandbox=sandbox)
    except ValidationError as exc:
        raise fail("backtest", invalid_options(exc), EXIT_BAD_INPUT) from None
    try:
        outcome = _run(request, location,
                       show_progress=not json_output and errors.is_terminal, errors=errors)
    except (Failure, ContractError) as exc:  # the contract stands apart from Failure
        raise fail("backtest", str(exc), EXIT_BAD_INPUT) from None
    if json_output:
        typer.echo(result_json(outcome.result, outcome.source, extra=outcome.extra()))
        return
    console = Console()
    console.print(headline(outcome.result), highlight=False)
    if outcome.source is not None:
        where = "work tree files" if outcome.source.worktree_files else "commit"
        mode = "sandboxed" if outcome.source.sandboxed else "UNSANDBOXED"
        console.print(f"strategy from {outcome.source.repository}, {where} "
                      f"{outcome.source.commit[:10]}, tree {outcome.source.tree[:10]} "
                      f"({mode})", highlight=False)
    console.print(metrics_table(outcome.result))
    if outcome.tear_sheet is not None and outcome.tear_sheet.relative:
        for table in benchmark_tables(outcome.tear_sheet):
            console.print(table)
        for label, holds in outcome.tear_sheet.benchmarks.items():
            console.print(f"  {label}: {holds}", highlight=False, soft_wrap=True)
    if outcome.walk_forward:
        console.print(walk_forward_table(outcome.walk_forward))
    console.print(holdout_line(outcome), highlight=False, soft_wrap=True)
    console.print(written_line(outcome), highlight=False, soft_wrap=True)
