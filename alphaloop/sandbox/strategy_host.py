"""Run a branch's strategy in a sandbox and talk to it as if it were local.

:class:`SandboxedStrategy` implements the strategy contract for the harness: each
``decide(view, portfolio)`` sends the sandboxed child only the rows of ``view`` it has
not seen yet (all at or before the decision date), and reads back JSON weights. The
harness still does all the accounting in the trusted process.

    with SandboxedStrategy(sandbox, checkout=worktree, scratch=tmp) as strat:
        result = simulate(strat, data, window)
"""

from __future__ import annotations

import collections
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from alphaloop.contract import Decision, MarketView, PortfolioState
from alphaloop.sandbox._wire import (
    WireClosed,
    WireTimeout,
    dumps_request,
    read_frame,
    write_frame,
)
from alphaloop.sandbox.base import Isolation, SandboxError
from alphaloop.sandbox.process import ProcessSandbox, RunningProcess, UnsandboxedRunner

__all__ = ["SandboxedStrategy", "StrategyFailed"]


class StrategyFailed(SandboxError):
    """The sandboxed strategy raised, crashed, hung or answered nonsense."""

    def __init__(self, message: str, *, as_of: pd.Timestamp | None = None,
                 detail: str = "") -> None:
        self.as_of = as_of
        self.detail = detail
        where = f" on {as_of.date()}" if as_of is not None else ""
        super().__init__(f"strategy failed in the sandbox{where}: {message}")


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    error: str | None = None
    traceback: str | None = None
    lookback: int | None = None
    has_state: bool | None = None
    weights: dict[str, float | str] | None = None
    record: dict[str, Any] | None = None
    state: dict[str, Any] | None = None


class SandboxedStrategy:
    """A strategy from ``checkout/strategy`` running in ``sandbox``, behind the contract."""

    def __init__(self, sandbox: ProcessSandbox | UnsandboxedRunner, *, checkout: Path,
                 scratch: Path, factory: str = "strategy:create_strategy",
                 kwargs: dict[str, Any] | None = None) -> None:
        self.sandbox = sandbox
        self.checkout = Path(checkout)
        self.scratch = Path(scratch)
        self.factory = factory
        self.kwargs = dict(kwargs or {})
        self.lookback: int | None = None
        self._proc: RunningProcess | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._sent_until: pd.Timestamp | None = None
        self._deadline = 0.0
        self._has_state = False
        self._assets: list[dict[str, Any]] = []
        self.decisions = 0

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def isolation(self) -> Isolation:
        return self.sandbox.isolation

    def start(self, view: MarketView) -> None:
        """Start the child and build the strategy (``view`` gives the universe)."""
        if self._proc is not None:
            return
        self._deadline = time.monotonic() + self.sandbox.limits.wall_seconds
        argv = [sys.executable, "-I", "-m", "alphaloop.sandbox._child",
                "--root", str(self.checkout.resolve())]
        self._proc = self.sandbox.spawn(argv, workdir=self.checkout, scratch=self.scratch)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self._assets = [a.model_dump() for a in view.assets]
        reply = self._call({"op": "init", "factory": self.factory, "kwargs": self.kwargs,
                            "assets": self._assets}, None)
        self.lookback = reply.lookback
        self._has_state = bool(reply.has_state)

    def reset(self) -> None:
        """Build a fresh strategy in the running child (a new backtest, no carried state).

        Reusing the process saves the interpreter start and imports between backtests;
        the wall-time limit starts again.
        """
        self._sent_until = None
        self.decisions = 0
        if self._proc is None:
            return
        self._deadline = time.monotonic() + self.sandbox.limits.wall_seconds
        reply = self._call({"op": "init", "factory": self.factory, "kwargs": self.kwargs,
                            "assets": self._assets}, None)
        self.lookback = reply.lookback
        self._has_state = bool(reply.has_state)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc = None

    def __enter__(self) -> SandboxedStrategy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stderr_tail(self, lines: int = 20) -> str:
        return "".join(list(self._stderr)[-lines:])

    # -- the contract -------------------------------------------------------------------
    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        self.start(view)
        rows, reset = self._new_rows(view)
        reply = self._call({"op": "decide", "as_of": view.as_of, "rows": rows, "reset": reset,
                            "portfolio": portfolio.model_dump()}, view.as_of)
        self._sent_until = view.as_of
        self.decisions += 1
        weights: dict[str, Any] = dict(reply.weights or {})
        return Decision.model_construct(weights=weights, record=reply.record or {})

    def get_state(self) -> dict[str, Any]:
        if not self._has_state:
            return {}
        return self._call({"op": "get_state"}, None).state or {}

    def set_state(self, state: dict[str, Any]) -> None:
        if self._has_state:
            self._call({"op": "set_state", "state": state}, None)

    # -- internals ----------------------------------------------------------------------
    def _new_rows(self, view: MarketView) -> tuple[dict[str, Any], bool]:
        dates = view.dates
        start, reset = 0, True
        if self._sent_until is not None and len(dates) and dates[0] <= self._sent_until:
            start = int(dates.searchsorted(self._sent_until, side="right"))
            reset = False
        arrays = {"prices": view.prices[start:], "volumes": view.volumes[start:]}
        arrays.update({f"f:{k}": view.fundamental(k)[start:] for k in view.fundamental_fields})
        arrays.update({f"m:{k}": view.macro(k)[start:] for k in view.macro_series})
        return {"dates": dates[start:], "arrays": arrays}, reset

    def _drain_stderr(self) -> None:
        proc = self._proc
        if proc is None or proc.popen.stderr is None:
            return
        for raw in iter(proc.popen.stderr.readline, b""):
            self._stderr.append(raw.decode(errors="replace"))

    def _call(self, message: dict[str, Any], as_of: pd.Timestamp | None) -> _Reply:
        proc = self._proc
        assert proc is not None and proc.popen.stdin is not None
        assert proc.popen.stdout is not None
        try:
            write_frame(proc.popen.stdin, dumps_request(message))
            raw = read_frame(proc.popen.stdout.fileno(), deadline=self._deadline)
        except WireTimeout:
            self.close()
            raise StrategyFailed(
                f"no answer within the wall-time limit of {self.sandbox.limits.wall_seconds:g} s;"
                " the sandbox was killed", as_of=as_of) from None
        except (WireClosed, BrokenPipeError):
            code = proc.popen.wait()
            detail = self.stderr_tail()
            self.close()
            raise StrategyFailed(
                f"the sandboxed process exited with code {code} "
                f"({_explain_exit(code)}); last output:\n{detail}", as_of=as_of,
                detail=detail) from None
        try:
            reply = _Reply.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            self.close()
            raise StrategyFailed(f"malformed answer from the sandbox: {exc}", as_of=as_of) from None
        if not reply.ok:
            raise StrategyFailed(reply.error or "unknown error", as_of=as_of,
                                 detail=reply.traceback or "")
        return reply


def _explain_exit(code: int) -> str:
    signals = {-9: "killed: memory, process or time limit", -24: "CPU time limit exceeded",
               -11: "segmentation fault", 137: "killed"}
    return signals.get(code, "crashed" if code else "exited early")
