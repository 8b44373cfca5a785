"""One backtest from end to end: data, window, the repository's strategy, outputs.

:func:`run_backtest` opens the data source, resolves the window, and builds the
strategy: ``finsage`` is the FinSage engine of the repository it is pointed at
(:class:`~alphaloop.backtest.source.StrategyLocation`), written to a private folder and
run behind :class:`~alphaloop.sandbox.SandboxedStrategy` - in the process sandbox unless
``unsandboxed`` says the checkout is trusted; ``inverse-vol`` is the harness's reference
and ``package.module:factory`` the caller's own importable code. The harness simulates
it with costs, and the result (with the strategy's source and tree hash), the equity
chart and the tear sheet (the walkthrough's, for one strategy: the equal-weight and 60/40
benchmarks simulated by the harness on the same panel and window, the figures against
them, calendar years and charts; :func:`~alphaloop.backtest.outputs.backtest_tear_sheet`)
are written together or not at all.

A run that covers days of the held-out window (only when the request allows it, see
:func:`~alphaloop.backtest.request.resolve_window`) is a read of that window: it is
recorded in the repository's ``.git/alphaloop/holdout-reads.jsonl``
(:mod:`alphaloop.evaluation.holdout`), which Risk's count of held-out reads includes.
With ``walk_forward`` the outcome also holds the cycle's walk-forward folds' figures,
with the reward's lambda of the repository's ``policies/risk.toml``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.backtest.outputs import backtest_tear_sheet, tear_sheet_json, write_outputs
from alphaloop.backtest.request import (
    BacktestRequest,
    FoldFigures,
    holdout_window,
    resolve_window,
    simulate_request,
    walk_forward_figures,
    walk_forward_folds,
)
from alphaloop.backtest.source import StrategyLocation, StrategySource, prepare_checkout
from alphaloop.data.panel import MarketData
from alphaloop.evaluation.holdout import HoldoutRead, record_read
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.simulate import ProgressCallback
from alphaloop.harness.windows import Window
from alphaloop.policy import PolicyError, load_policies
from alphaloop.repo import GitError, GitRepo
from alphaloop.report.tearsheet import TearSheet

__all__ = ["REPOSITORY_STRATEGY", "BacktestOutcome", "run_backtest"]

REPOSITORY_STRATEGY = "finsage"


class BacktestOutcome(BaseModel):
    """What a run produced, where it wrote it, and which strategy code it ran."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: BacktestResult
    result_path: Path
    plot_path: Path
    source: StrategySource | None = None
    holdout: Window | None = Field(default=None, description="the held-out window")
    holdout_read: HoldoutRead | None = Field(
        default=None, description="the run's read of the held-out window, if it made one")
    reads_file: Path | None = Field(
        default=None, description="where the read was recorded (None: no repository)")
    walk_forward: list[FoldFigures] = Field(default_factory=list)
    tear_sheet: TearSheet | None = Field(
        default=None, description="the benchmarks, the figures against them, the years")
    tearsheet_path: Path | None = None
    chart_paths: list[Path] = Field(default_factory=list,
                                    description="the tear sheet's charts")

    def extra(self) -> dict[str, Any]:
        """The keys ``result.json`` carries beside the result (see
        :data:`~alphaloop.backtest.outputs.EXTRA_KEYS`)."""
        return _extra(self.walk_forward, self.holdout_read,
                      self.tear_sheet if self.source is not None else None)


def _extra(folds: list[FoldFigures], read: HoldoutRead | None,
           sheet: TearSheet | None = None) -> dict[str, Any]:
    """``sheet`` is given for a repository's strategy only: the result of a library
    strategy stays the plain result JSON (see :mod:`~alphaloop.backtest.outputs`)."""
    extra: dict[str, Any] = {}
    if sheet is not None:
        extra["tearsheet"] = tear_sheet_json(sheet)
    if folds:
        extra["walk_forward"] = [f.model_dump(mode="json") for f in folds]
    if read is not None:
        extra["holdout_read"] = read.model_dump(mode="json")
    return extra


@contextlib.contextmanager
def _repository_strategy(request: BacktestRequest, location: StrategyLocation,
                         data: MarketData) -> Iterator[tuple[Any, StrategySource]]:
    from alphaloop.sandbox import SandboxedStrategy, open_sandbox

    with tempfile.TemporaryDirectory(prefix="alphaloop-backtest-") as scratch:
        checkout, work = Path(scratch) / "checkout", Path(scratch) / "scratch"
        work.mkdir()
        source = prepare_checkout(location, checkout)
        sandbox = (open_sandbox("none", allow_unsandboxed=True) if location.unsandboxed
                   else open_sandbox(location.sandbox))
        with SandboxedStrategy(sandbox, checkout=checkout, scratch=work,
                               kwargs={"profile": request.profile or "default"}) as strategy:
            strategy.start(data.view(0, 1))
            yield strategy, source


def _title(result: BacktestResult, request: BacktestRequest,
           source: StrategySource | None) -> str:
    window = result.config.window
    profile = f" ({request.profile})" if request.profile else ""
    code = f" at {source.commit[:10]}" if source is not None else ""
    return (f"{result.config.strategy}{profile}{code}, {window.label} window "
            f"{window.start} to {window.end}, {result.config.frequency} rebalancing")


def run_backtest(request: BacktestRequest, *, location: StrategyLocation | None = None,
                 progress: ProgressCallback | None = None) -> BacktestOutcome:
    """Run the backtest ``request`` describes and write its outputs.

    Raises the harness's errors, :class:`~alphaloop.data.panel.DataError`, the git
    layer's (no repository, no such rev) and the sandbox's
    (:class:`~alphaloop.sandbox.SandboxError`), each with a message meant for the user.
    """
    from alphaloop.backtest.loading import load_strategy
    from alphaloop.data import open_source

    data = open_source(request.data).load()
    window = resolve_window(data, request)
    holdout = holdout_window(data, request)
    if location is None and request.strategy == REPOSITORY_STRATEGY:
        location = StrategyLocation()
    lam = _reward_lambda(request, location) if request.walk_forward else 0.0
    with contextlib.ExitStack() as stack:
        source: StrategySource | None = None
        if location is not None and request.strategy == REPOSITORY_STRATEGY:
            strategy, source = stack.enter_context(_repository_strategy(request, location,
                                                                        data))
        else:
            strategy = load_strategy(request.strategy, request.profile)
        # counted before the run: a run that fails half-way has still shown the days
        read, reads_file = _count_read(data, window, holdout, location, source)
        # the benchmarks are the tear sheet's, simulated below
        run = simulate_request(request.model_copy(update={"benchmark": False}), strategy,
                               data, window, lookback=getattr(strategy, "lookback", None),
                               progress=progress)
    result = run.result.model_copy(update={"config": run.result.config.model_copy(
        update={"strategy": request.strategy})})
    folds: list[FoldFigures] = []
    if request.walk_forward:
        read_days = window.end >= holdout.start
        folds = walk_forward_figures(result, walk_forward_folds(data, request), lam,
                                     holdout=holdout if read_days else None)
    label = request.strategy + (f" ({request.profile})" if request.profile else "")
    tear = backtest_tear_sheet(result, label=label, data=data, holdout=holdout,
                               benchmarks=request.benchmark)
    files = write_outputs(result, request.out, title=_title(result, request, source),
                          tear_sheet=tear, source=source,
                          extra=_extra(folds, read, tear.sheet if source else None),
                          chart_title=_chart_title(result, source))
    return BacktestOutcome(result=result, result_path=files.result, plot_path=files.plot,
                           source=source, holdout=holdout, holdout_read=read,
                           reads_file=reads_file, walk_forward=folds, tear_sheet=tear.sheet,
                           tearsheet_path=files.tearsheet, chart_paths=files.charts)


def _chart_title(result: BacktestResult, source: StrategySource | None) -> str:
    """The start of each tear-sheet chart's title: the code and the window."""
    window = result.config.window
    code = f" of {source.commit[:10]}" if source is not None else ""
    return f"Backtest{code}, {window.start} to {window.end}"


def _reward_lambda(request: BacktestRequest, location: StrategyLocation | None) -> float:
    """The folds' reward lambda: asked for, or the repository's ``policies/risk.toml``."""
    if request.reward_lambda is not None:
        return request.reward_lambda
    try:
        root = GitRepo.open((location or StrategyLocation()).repo).work_tree
        return load_policies(root).risk.process.reward_lambda
    except (GitError, PolicyError) as exc:
        raise PolicyError(f"the walk-forward reward needs its lambda, read from "
                          f"policies/risk.toml of the repository ({exc}); pass "
                          f"--reward-lambda to give it") from None


def _count_read(data: MarketData, window: Window, holdout: Window,
                location: StrategyLocation | None,
                source: StrategySource | None) -> tuple[HoldoutRead | None, Path | None]:
    """Record the run's read of the held-out window in the repository, if it made one.

    The read is counted in the repository ``location`` names (the command line always
    names one: ``--repo``, default the current directory). Without a location, or outside
    a repository, there is nowhere to count it: the read is returned, unrecorded.
    """
    if window.end < holdout.start or window.start > holdout.end:
        return None, None
    read = HoldoutRead(command="alphaloop backtest", data_source=data.source,
                       holdout_start=holdout.start, holdout_end=holdout.end,
                       read_start=max(window.start, holdout.start),
                       read_end=min(window.end, holdout.end),
                       commit=source.commit if source is not None else None)
    if location is None:
        return read, None
    try:
        repo = GitRepo.open(location.repo)
    except GitError:
        return read, None
    return read, record_read(repo.alphaloop_dir, read)
