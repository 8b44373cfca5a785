"""One backtest from end to end: data, window, the repository's strategy, outputs.

:func:`run_backtest` opens the data source, resolves the window, and builds the
strategy: ``finsage`` is the FinSage engine of the repository it is pointed at
(:class:`~alphaloop.backtest.source.StrategyLocation`), written to a private folder and
run behind :class:`~alphaloop.sandbox.SandboxedStrategy` - in the process sandbox unless
``unsandboxed`` says the checkout is trusted; ``inverse-vol`` is the harness's reference
and ``package.module:factory`` the caller's own importable code. The harness simulates
it with costs, and the result (with the strategy's source and tree hash) and the equity
chart are written together or not at all.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from alphaloop.backtest.outputs import write_outputs
from alphaloop.backtest.request import BacktestRequest, resolve_window, simulate_request
from alphaloop.backtest.source import StrategyLocation, StrategySource, prepare_checkout
from alphaloop.data.panel import MarketData
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.simulate import ProgressCallback

__all__ = ["REPOSITORY_STRATEGY", "BacktestOutcome", "run_backtest"]

REPOSITORY_STRATEGY = "finsage"


class BacktestOutcome(BaseModel):
    """What a run produced, where it wrote it, and which strategy code it ran."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    result: BacktestResult
    result_path: Path
    plot_path: Path
    source: StrategySource | None = None


@contextlib.contextmanager
def _repository_strategy(request: BacktestRequest, location: StrategyLocation,
                         data: MarketData) -> Iterator[tuple[Any, StrategySource]]:
    from alphaloop.sandbox import SandboxedStrategy, open_sandbox

    with tempfile.TemporaryDirectory(prefix="alphaloop-backtest-") as scratch:
        checkout, work = Path(scratch) / "checkout", Path(scratch) / "scratch"
        work.mkdir()
        source = prepare_checkout(location, checkout)
        sandbox = (open_sandbox("none", allow_unsandboxed=True) if location.unsandboxed
                   else open_sandbox())
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
    with contextlib.ExitStack() as stack:
        source: StrategySource | None = None
        if request.strategy == REPOSITORY_STRATEGY:
            strategy, source = stack.enter_context(
                _repository_strategy(request, location or StrategyLocation(), data))
        else:
            strategy = load_strategy(request.strategy, request.profile)
        run = simulate_request(request, strategy, data, window,
                               lookback=getattr(strategy, "lookback", None), progress=progress)
    result = run.result.model_copy(update={"config": run.result.config.model_copy(
        update={"strategy": request.strategy})})
    result_path, plot_path = write_outputs(result, request.out,
                                           title=_title(result, request, source),
                                           benchmark=run.benchmark, source=source)
    return BacktestOutcome(result=result, result_path=result_path, plot_path=plot_path,
                           source=source)
