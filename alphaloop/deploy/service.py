"""The paper-trading service: a deployed commit trading the bars after the clock.

The service is the deployed strategy behind the sandbox (a container of the deploy image
with Docker, the process sandbox otherwise) fed the live bars one decision at a time, at
replay speed, while the trusted harness does the accounting exactly as in a backtest.
Each answer is a heartbeat: the service records when it came, a watchdog stops a service
that goes too long without one, and the canary checks the longest wait. A halt
(``alphaloop halt``) is noticed between two bars and stops it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from itertools import pairwise
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import ContractError
from alphaloop.data.panel import MarketData
from alphaloop.deploy.errors import Halted
from alphaloop.errors import Failure
from alphaloop.evaluation import EvalSettings
from alphaloop.harness import BacktestResult, Window, simulate
from alphaloop.harness.windows import MIN_WINDOW_DAYS
from alphaloop.sandbox import Sandbox, SandboxedStrategy

__all__ = ["ServiceRun", "live_window", "run_service"]


class ServiceRun(BaseModel):
    """What one run of the service produced."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    window: Window
    result: BacktestResult | None = None
    heartbeats: list[float] = Field(default_factory=list,
                                    description="seconds from the start to each answer")
    errors: list[str] = Field(default_factory=list)
    isolation: str = ""
    ended: float | None = Field(default=None, description="seconds from the start to the "
                                                          "end of the run")

    @property
    def max_gap(self) -> float | None:
        """The longest wait for an answer, the start-up included, and the last wait of a
        run that did not finish."""
        times = [0.0, *self.heartbeats]
        if self.result is None and self.ended is not None:
            times.append(self.ended)
        if len(times) < 2:
            return None
        return max(b - a for a, b in pairwise(times))


def live_window(data: MarketData, clock: date, days: int) -> Window | None:
    """The first ``days`` bars of ``data`` after ``clock``, or None when fewer than
    :data:`~alphaloop.harness.windows.MIN_WINDOW_DAYS` exist yet."""
    first = int(data.dates.searchsorted(pd.Timestamp(clock), side="right"))
    last = min(first + days, len(data.dates)) - 1
    if last - first + 1 < MIN_WINDOW_DAYS:
        return None
    return Window(start=data.dates[first].date(), end=data.dates[last].date(), label="live")


def run_service(sandbox: Sandbox, checkout: Path, scratch: Path, data: MarketData,
                window: Window, settings: EvalSettings, *, max_gap: float | None = None,
                halted: Callable[[], str | None] = lambda: None) -> ServiceRun:
    """Run the strategy in ``checkout`` live over ``window`` of ``data``.

    A watchdog stops the service when it goes ``max_gap`` seconds without an answer (a
    hung strategy); ``halted`` is asked between bars, and when it returns a reason the
    service stops. Nothing raised by the strategy escapes: every failure is an error of
    the run, for the canary to grade.
    """
    beats: list[float] = []
    started = time.monotonic()
    host = SandboxedStrategy(sandbox, checkout=checkout, scratch=scratch,
                             kwargs={"profile": settings.profile})
    done, missed = threading.Event(), threading.Event()

    def beat(decided: int, total: int) -> None:
        beats.append(round(time.monotonic() - started, 4))
        reason = halted()
        if reason is not None:
            raise Halted(reason)

    def watch() -> None:
        while not done.wait(0.2):
            last = beats[-1] if beats else 0.0
            if max_gap is not None and time.monotonic() - started - last > max_gap:
                missed.set()
                host.close()  # kills the sandboxed child: the waiting call fails
                return

    watchdog = threading.Thread(target=watch, daemon=True)
    watchdog.start()
    result: BacktestResult | None = None
    errors: list[str] = []
    try:
        host.start(data.view(0, 1))
        result = simulate(host, data, window, frequency=settings.frequency,
                          costs=settings.costs, lookback=host.lookback, progress=beat)
    except Halted as stop:
        errors.append(f"halted: {stop}")
    except (Failure, ContractError) as error:
        errors.append(f"no answer for {max_gap:g} s: the service was stopped"
                      if missed.is_set() else str(error))
    finally:
        done.set()
        watchdog.join()
        host.close()
    return ServiceRun(window=window, result=result, heartbeats=beats, errors=errors,
                      isolation=sandbox.isolation.describe(),
                      ended=round(time.monotonic() - started, 4))
