"""What ``alphaloop backtest`` and ``python -m strategy`` ask of the harness.

:class:`BacktestRequest` holds the options (defaults as the cycle's: weekly, the seeds'
costs, no rebalance threshold); :func:`resolve_window` checks the window against the
data and the held-out window (:func:`holdout_window`: the last ``holdout_days`` up to
the clock, which a request without ``include_holdout`` may not reach into);
:func:`walk_forward_folds` and :func:`walk_forward_figures` give the cycle's walk-forward
folds and their figures; :func:`simulate_request` simulates a strategy it is handed
(and an equal-weight benchmark). Loading the strategy, sandboxing it and writing files
and plots belong to the caller (:mod:`alphaloop.backtest`): the harness imports neither
strategy code nor the report.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.data.panel import MarketData
from alphaloop.evaluation.service import fold_scores
from alphaloop.harness.checkpoint import CheckpointConfig
from alphaloop.harness.config import Costs, Frequency
from alphaloop.harness.errors import WindowError
from alphaloop.harness.reference import EqualWeight
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.simulate import ProgressCallback, simulate
from alphaloop.harness.windows import (
    HOLDOUT_DAYS,
    MIN_HOLDOUT_DAYS,
    Fold,
    Window,
    WindowName,
    full_window,
    named_window,
    research_windows,
)

__all__ = ["BacktestRequest", "BacktestRun", "FoldFigures", "holdout_window",
           "resolve_window", "simulate_request", "walk_forward_figures",
           "walk_forward_folds"]


class BacktestRequest(BaseModel):
    """Everything ``alphaloop backtest`` is asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: str = "finsage"
    profile: str | None = None
    data: str = "synthetic"
    window: WindowName | None = Field(
        default=None, description="a named window; excludes start (end is then the clock)")
    start: date | None = None
    end: date | None = None
    holdout_days: int = Field(default=HOLDOUT_DAYS, ge=MIN_HOLDOUT_DAYS)
    frequency: Frequency = "weekly"
    initial_capital: float = Field(default=1_000_000.0, gt=0)
    rebalance_threshold: float = Field(default=0.0, ge=0)
    costs: Costs = Field(default_factory=Costs)
    out: Path = Path("out/backtest")
    checkpoint: Path | None = None
    checkpoint_every: int = Field(default=20, ge=1)
    benchmark: bool = Field(default=True, description="draw an equal-weight benchmark line")
    include_holdout: bool = Field(
        default=True, description="may the window reach into the held-out window? "
                                  "``alphaloop backtest`` asks for False unless told "
                                  "--include-holdout; a read is counted either way")
    walk_forward: bool = Field(default=False,
                               description="also report the walk-forward folds' figures")
    n_folds: int = Field(default=4, ge=1, description="walk-forward folds, as the cycle's")
    warmup_days: int = Field(default=TRADING_DAYS_PER_YEAR, ge=0,
                             description="days before the folds' first decision")
    reward_lambda: float | None = Field(
        default=None, ge=0, description="lambda of the folds' reward (default: "
                                        "policies/risk.toml of the repository)")

    @model_validator(mode="after")
    def _one_window(self) -> BacktestRequest:
        if self.window is not None and self.start is not None:
            raise ValueError(f"choose either a named window ({self.window}) or a start date "
                             f"({self.start}), not both")
        return self


class BacktestRun(BaseModel):
    """A simulated strategy and, when asked for, the equal-weight benchmark."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: BacktestResult
    benchmark: BacktestResult | None = None


class FoldFigures(BaseModel):
    """One walk-forward test window's figures (or the held-out window's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    start: date
    end: date
    sharpe: float
    max_drawdown: float
    reward: float


def _clock(data: MarketData, request: BacktestRequest) -> int:
    """Position of the clock: ``end`` with a named window, else the data's last day."""
    if request.window is not None and request.end is not None:
        try:
            return data.index_of(request.end)
        except ValueError as exc:
            raise WindowError(str(exc)) from None
    return data.n_days - 1


def holdout_window(data: MarketData, request: BacktestRequest) -> Window:
    """The held-out window: the last ``holdout_days`` trading days up to the clock (the
    data's last day, or ``end`` with a named window), as the cycle holds it out."""
    last = _clock(data, request)
    first = max(0, last - request.holdout_days + 1)
    return Window(start=data.dates[first].date(), end=data.dates[last].date(),
                  label="holdout")


def walk_forward_folds(data: MarketData, request: BacktestRequest) -> tuple[Fold, ...]:
    """The cycle's walk-forward folds inside the in-sample window (see
    :func:`~alphaloop.harness.windows.research_windows`)."""
    split = research_windows(data, holdout_days=request.holdout_days, n_folds=request.n_folds,
                             warmup_days=request.warmup_days,
                             end=data.dates[_clock(data, request)])
    return split.folds


def _default_window(data: MarketData, request: BacktestRequest, holdout: Window) -> Window:
    """No start and no named window: from the data's first day (the folds' first day
    with ``walk_forward``) to the day before the held-out window, or to the data's last
    day with ``include_holdout``."""
    whole = full_window(data)
    start = request.start or whole.start
    if request.start is None and request.walk_forward:
        start = walk_forward_folds(data, request)[0].train.start
    if request.end is not None:
        end = request.end
    elif request.include_holdout:
        end = whole.end
    else:
        first = int(data.dates.searchsorted(pd.Timestamp(holdout.start)))
        if first == 0:
            raise WindowError(
                f"the data {data.source!r} ({whole.start} to {whole.end}) is all held out "
                f"by a {request.holdout_days}-day held-out window: use fewer "
                "--holdout-days, a longer history, or --include-holdout (the read is "
                "counted)")
        end = data.dates[first - 1].date()
    if end < start:
        raise WindowError(f"the window ends ({end}) before it starts ({start}); swap "
                          "--start and --end")
    if (start, end) == (whole.start, whole.end):
        label = "full"
    elif end == request.end or request.start is not None:
        label = "custom"
    else:
        label = "in-sample"
    return Window(start=start, end=end, label=label)


def _refuse_holdout(window: Window, holdout: Window, request: BacktestRequest) -> None:
    if request.include_holdout or window.end < holdout.start:
        return
    if window.label == "holdout":
        raise WindowError(
            f"--window holdout is the held-out window ({holdout.start} to {holdout.end}), "
            f"which alphaloop backtest leaves out unless asked: pass --include-holdout to "
            f"read it (the read is counted, and Risk's count of held-out reads includes it)")
    raise WindowError(
        f"the {window.label} window ({window.start} to {window.end}) reaches into the "
        f"held-out window ({holdout.start} to {holdout.end}, the last "
        f"{request.holdout_days} trading days), which alphaloop backtest leaves out "
        f"unless asked: end the window before {holdout.start} (or leave --end and "
        f"--window out), or pass --include-holdout to read it (the read is counted, and "
        f"Risk's count of held-out reads includes it)")


def _cover_folds(window: Window, folds: tuple[Fold, ...]) -> None:
    first, last = folds[0].test, folds[-1].test
    if window.start > first.start or window.end < last.end:
        raise WindowError(
            f"the walk-forward folds test from {first.start} to {last.end}, which the "
            f"{window.label} window ({window.start} to {window.end}) does not cover: leave "
            "--start and --end out (the window then starts where the folds do)")


def resolve_window(data: MarketData, request: BacktestRequest) -> Window:
    """The window a request names, checked against the data, the held-out window and,
    with ``walk_forward``, the folds."""
    holdout = holdout_window(data, request)
    if request.window is not None:
        window = named_window(data, request.window, holdout_days=request.holdout_days,
                              end=request.end)
    else:
        window = _default_window(data, request, holdout)
    _refuse_holdout(window, holdout, request)
    window.bounds(data)  # raises WindowError naming the dates when too short
    if request.walk_forward:
        _cover_folds(window, walk_forward_folds(data, request))
    return window


def walk_forward_figures(result: BacktestResult, folds: tuple[Fold, ...], lam: float,
                         holdout: Window | None = None) -> list[FoldFigures]:
    """Each fold's test-window figures, sliced from one run, and the held-out window's
    when ``holdout`` is given (the reward at ``lam``)."""
    tests = list(folds)
    if holdout is not None:
        tests.append(Fold(index=len(folds), train=folds[0].train, test=holdout))
    scores = {s.label: s for s in fold_scores(result, tuple(tests), lam)}
    return [FoldFigures(label=f.test.label, start=f.test.start, end=f.test.end,
                        sharpe=scores[f.test.label].sharpe,
                        max_drawdown=scores[f.test.label].max_drawdown,
                        reward=scores[f.test.label].reward)
            for f in tests if f.test.label in scores]


def simulate_request(request: BacktestRequest, strategy: Any, data: MarketData,
                     window: Window, *, lookback: int | None = None,
                     progress: ProgressCallback | None = None) -> BacktestRun:
    """Simulate ``strategy`` (handed in by the caller) as ``request`` asks, with costs.

    The harness never loads strategy code itself: the caller builds the strategy (for a
    repository's strategy, behind :class:`~alphaloop.sandbox.SandboxedStrategy`). Raises
    the harness's errors (:class:`~alphaloop.harness.errors.HarnessError`) and
    :class:`~alphaloop.contract.WeightError` with messages meant for the user.
    """
    checkpoint = None
    if request.checkpoint is not None:
        checkpoint = CheckpointConfig(path=request.checkpoint, every=request.checkpoint_every)
    options = {"frequency": request.frequency, "costs": request.costs,
               "rebalance_threshold": request.rebalance_threshold,
               "initial_capital": request.initial_capital}
    result = simulate(strategy, data, window, progress=progress, checkpoint=checkpoint,
                      lookback=lookback, **options)
    benchmark = simulate(EqualWeight(), data, window, **options) if request.benchmark else None
    return BacktestRun(result=result, benchmark=benchmark)
