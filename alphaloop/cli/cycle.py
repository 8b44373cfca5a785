"""``alphaloop cycle``: run hypothesis -> analysis cycles on the repository here.

Mistakes are caught before any stage runs (see :mod:`alphaloop.cycle.preflight`): a bad
option, profile or data source, a repository that is not an AlphaLoop project, an
interrupted cycle, uncommitted edits the cycle would ignore. Each prints one paragraph
naming the problem and the fix, and exits with code 2; a failure during a cycle exits
with code 1. While cycles run, stderr shows "cycle i of N" with the elapsed time and one
line per finished stage with its key figure. ``--abandon`` closes an interrupted cycle
(see :mod:`alphaloop.cycle.abandon`).

The cycle and the report are imported when the command runs, not with this module, so
``alphaloop --help`` and the other commands start without them (and without matplotlib,
which the report's charts load).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import EXIT_USER_ERROR, fail, invalid_options
from alphaloop.cli._forge_option import ForgeChoice, ForgeOption
from alphaloop.cli._llm_options import (
    BaseURLOption,
    LLMChoice,
    LLMOption,
    MaxCostOption,
    MaxTokensOption,
    ModelOption,
    PriceInOption,
    PriceOutOption,
    ReplayOption,
    llm_config,
)
from alphaloop.cli._research_options import (
    BaseOption,
    ClockOption,
    DataOption,
    FoldsOption,
    FrequencyOption,
    HoldoutOption,
    ProfileOption,
    SandboxOption,
    UntilOption,
    WarmupOption,
)
from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.errors import Failure
from alphaloop.harness.windows import HOLDOUT_DAYS

if TYPE_CHECKING:
    from rich.progress import Progress

    from alphaloop.cycle.progress import CycleProgress
    from alphaloop.records import CycleSummary

__all__ = ["register"]

_STAGE_TITLES = {
    "plan": "PM: planning", "quant_review": "Quant: reviewing main",
    "hypothesis": "Quant: choosing a hypothesis", "implement": "Quant: branch, commit, PR",
    "risk_review": "Risk: gates and sandboxed backtests", "merge": "Merge gate",
    "deploy": "SRE: deploy, paper trading, canary",
    "report": "PM: ledger, walkthrough, task.md",
}


def _stage_title(stage: str) -> str:
    from alphaloop.records import role_title

    if stage in _STAGE_TITLES:
        return _STAGE_TITLES[stage]
    role = stage.removesuffix("_review")
    return f"{role_title(role)}: reviewing the branch" if role != stage else stage


def register(app: typer.Typer) -> None:
    app.command("cycle")(cycle)


def cycle(
    repo: Annotated[Path, typer.Option(help="repository to work on")] = Path("."),
    cycles: Annotated[int, typer.Option("--cycles", min=1, help="cycles to run in a row")] = 1,
    resume: Annotated[bool, typer.Option("--resume",
                                         help="finish an interrupted cycle first")] = False,
    abandon: Annotated[bool, typer.Option(
        "--abandon", help="close an interrupted cycle instead: its PR closed, its worktree "
                          "removed, the ledger records it as abandoned")] = False,
    reason: Annotated[str | None, typer.Option(
        help="with --abandon: why, for the PR and the ledger")] = None,
    llm: LLMOption = LLMChoice.offline,
    model: ModelOption = None,
    llm_base_url: BaseURLOption = None,
    llm_replay: ReplayOption = False,
    max_cost_usd: MaxCostOption = None,
    llm_max_tokens: MaxTokensOption = 4096,
    llm_price_in: PriceInOption = None,
    llm_price_out: PriceOutOption = None,
    dry_run_: Annotated[bool, typer.Option("--dry-run",
                                           help="show what would happen; change nothing")]
    = False,
    data: DataOption = "synthetic",
    until: UntilOption = None,
    clock: ClockOption = None,
    profile: ProfileOption = "default",
    frequency: FrequencyOption = "weekly",
    holdout_days: HoldoutOption = HOLDOUT_DAYS,
    folds: FoldsOption = 4,
    warmup_days: WarmupOption = TRADING_DAYS_PER_YEAR,
    base: BaseOption = None,
    sandbox: SandboxOption = "process",
    allow_unsandboxed: Annotated[bool, typer.Option(
        "--allow-unsandboxed", help="run strategy code without bubblewrap if it is missing")]
    = False,
    forge: ForgeOption = ForgeChoice.local,
    executor: Annotated[str, typer.Option(
        help="where Risk's independent backtests run: serial, process (a local pool, "
             "one per core) or ray ([executor] address of policies/performance.toml, "
             "else RAY_ADDRESS, else a local Ray)")] = "process",
) -> None:
    """Run the PM -> Quant -> Risk -> merge -> report cycle, offline, in git."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from alphaloop.cycle import CycleOptions
    from alphaloop.cycle.preflight import PreflightError
    from alphaloop.cycle.run import dry_run, run_cycles

    if abandon:
        if resume or dry_run_:
            raise fail("cycle", "--abandon closes the interrupted cycle; it cannot be "
                                "combined with --resume or --dry-run: pass one of them",
                       EXIT_USER_ERROR)
        _abandon(repo, reason)
        return
    if reason is not None:
        raise fail("cycle", "--reason goes with --abandon only", EXIT_USER_ERROR)
    try:
        options = CycleOptions(data=data, until=until.date() if until else None,
                               clock=clock.date() if clock else None,
                               profile=profile, frequency=frequency,
                               holdout_days=holdout_days, n_folds=folds,
                               warmup_days=warmup_days, base_branch=base,
                               sandbox=sandbox,
                               allow_unsandboxed=allow_unsandboxed, forge=forge.value,
                               executor=executor)
    except ValidationError as exc:
        raise fail("cycle", invalid_options(exc), EXIT_USER_ERROR) from None
    options = options.model_copy(update={"llm": llm_config(
        "cycle", llm=llm, model=model, base_url=llm_base_url, replay=llm_replay,
        max_cost_usd=max_cost_usd, max_tokens=llm_max_tokens, price_in=llm_price_in,
        price_out=llm_price_out)})
    try:
        if dry_run_:
            Console(soft_wrap=True).print(dry_run(repo, options), highlight=False)
            return
        # Stage lines say what happens, not where in the code; long lines are not folded.
        columns = (SpinnerColumn(), TextColumn("{task.description}"),
                   TextColumn("elapsed"), TimeElapsedColumn())
        bar = Progress(*columns, console=Console(stderr=True, soft_wrap=True),
                       transient=True)
        try:
            summaries = run_cycles(repo, options, count=cycles, resume=resume,
                                   progress=_display(bar))
        finally:
            if bar.live.is_started:
                bar.stop()
    except PreflightError as exc:
        raise fail("cycle", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("cycle", str(exc)) from None
    _print_summaries(summaries, cycles)


def _abandon(repo: Path, reason: str | None) -> None:
    from alphaloop.cycle.abandon import DEFAULT_REASON, abandon_cycle
    from alphaloop.cycle.preflight import PreflightError

    try:
        done = abandon_cycle(repo, reason=reason or DEFAULT_REASON)
    except PreflightError as exc:
        raise fail("cycle", str(exc), EXIT_USER_ERROR) from None
    except Failure as exc:
        raise fail("cycle", str(exc)) from None
    closed = ", ".join(f"#{n}" for n in done.closed_prs) or "none"
    Console(soft_wrap=True).print(
        f"Abandoned {done.cycle_id} (finished stages: {', '.join(done.stages) or 'none'}); "
        f"closed PR {closed}; removed worktree(s): "
        f"{', '.join(done.removed_worktrees) or 'none'}; ledger entry committed to "
        f"{done.base_branch} as {done.commit[:10]}.", highlight=False)


def _duration(seconds: float) -> str:
    """``75.2`` -> ``1 min 15 s``."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def _display(bar: Progress) -> CycleProgress:
    """A listener that shows the run on ``bar``: the live line says which cycle of how
    many and which stage (with the elapsed time); a line is printed per finished stage.
    The bar starts with the first cycle, so a refusal before it prints only itself."""
    from alphaloop.cycle.progress import CycleProgress, stage_label

    class Display(CycleProgress):
        def __init__(self) -> None:
            self.task = bar.add_task("starting", total=None)
            self.where = ""
            self.took: list[float] = []

        def warning(self, message: str) -> None:
            bar.console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)

        def cycle_started(self, index: int, count: int, cycle_id: str) -> None:
            bar.start()
            self.where = f"cycle {index} of {count} ({cycle_id})"
            left = count - index + 1
            guess = (f", about {_duration(left * sum(self.took) / len(self.took))} left"
                     if self.took else "")
            bar.console.print(f"[bold]Cycle {index} of {count}[/]: {cycle_id}{guess}",
                              highlight=False)
            bar.update(self.task, description=self.where)

        def stage_started(self, stage: str) -> None:
            bar.update(self.task, description=f"{self.where}: {_stage_title(stage)}")

        def stage_finished(self, stage: str, seconds: float, line: str) -> None:
            bar.console.print(f"  {stage_label(stage):<21} {seconds:7.1f} s  {escape(line)}",
                              highlight=False)

        def cycle_finished(self, cycle_id: str, seconds: float) -> None:
            self.took.append(seconds)
            bar.console.print(f"  {cycle_id} done in {_duration(seconds)}", highlight=False)

    return Display()


def _print_summaries(summaries: list[CycleSummary], cycles: int) -> None:
    from alphaloop.report.markdown import shorten

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
