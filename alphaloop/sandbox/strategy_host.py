"""Run a branch's strategy in a sandbox and talk to it as if it were local.

:class:`SandboxedStrategy` implements the strategy contract for the harness: each
``decide(view, portfolio)`` sends the sandboxed child only the rows of ``view`` it has
not seen yet (all at or before the decision date), and reads back JSON weights. The
harness still does all the accounting in the trusted process.

    with SandboxedStrategy(sandbox, checkout=worktree, scratch=tmp) as strat:
        result = simulate(strat, data, window)
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from alphaloop.contract import Decision, MarketView, PortfolioState
from alphaloop.sandbox._output import CHUNK, BoundedReader
from alphaloop.sandbox._runtime import SANDBOX_CHECKOUT
from alphaloop.sandbox._wire import (
    WireClosed,
    WireTimeout,
    dumps_request,
    read_frame,
    write_frame,
)
from alphaloop.sandbox.base import (
    Isolation,
    Sandbox,
    SandboxedProcess,
    SandboxError,
    engine_lost,
)
from alphaloop.sandbox.model_questions import (
    ModelAnswerer,
    ModelLimits,
    ModelQuestion,
    ModelUsage,
    NoModel,
)
from alphaloop.sandbox.redact import redact, redact_tree

__all__ = ["SandboxedStrategy", "StrategyFailed"]


#: Longest message and detail a failure carries into findings and records.
MESSAGE_LIMIT = 2000
DETAIL_LIMIT = 4000
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


class StrategyFailed(SandboxError):
    """The sandboxed strategy raised, crashed, hung or answered nonsense.

    ``limit`` names the sandbox limit that stopped it (memory, processes, CPU time, wall
    time, output), if one did; ``location`` is the strategy's ``file:line`` taken from
    the traceback, if there is one. Message and detail are redacted (see
    :mod:`alphaloop.sandbox.redact`): they come from untrusted code and end up in records.
    """

    def __init__(self, message: str, *, as_of: pd.Timestamp | None = None,
                 detail: str = "", limit: str | None = None,
                 location: str | None = None) -> None:
        self.as_of = as_of
        self.detail = redact(detail, limit=DETAIL_LIMIT)
        self.limit = limit
        self.location = location
        where = f" on {as_of.date()}" if as_of is not None else ""
        text = redact(message, limit=MESSAGE_LIMIT)
        if limit:
            text = f"stopped by the sandbox's {limit} limit; {text}"
        if location:
            text += f" (at {location})"
        super().__init__(f"strategy failed in the sandbox{where}: {text}")


def strategy_location(traceback: str, checkout: Path) -> str | None:
    """``strategy/...py:LINE`` of the innermost strategy frame of ``traceback``."""
    roots = (str(Path(checkout).resolve()).rstrip("/") + "/", SANDBOX_CHECKOUT + "/")
    found = None
    for match in _FRAME.finditer(traceback or ""):
        name = match.group("file")
        for root in roots:
            if name.startswith(root):
                name = name[len(root):]
        if name.startswith("strategy/") and ".." not in name:
            found = f"{redact(name, limit=200)}:{match.group('line')}"
    return found


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
    """A strategy from ``checkout/strategy`` running in ``sandbox``, behind the contract.

    A strategy that wants a model asks its questions while it decides; ``answerer``
    answers them here, in the trusted process (default :class:`NoModel`: every question
    refused), within ``model_limits`` per backtest (see
    :mod:`alphaloop.sandbox.model_questions`). ``model_usage`` counts the current
    backtest's questions. The time an answer takes counts against the backtest's wall
    time, as the strategy waits for it.
    """

    def __init__(self, sandbox: Sandbox, *, checkout: Path,
                 scratch: Path, factory: str = "strategy:create_strategy",
                 kwargs: dict[str, Any] | None = None,
                 answerer: ModelAnswerer | None = None,
                 model_limits: ModelLimits | None = None) -> None:
        self.sandbox = sandbox
        self.checkout = Path(checkout)
        self.scratch = Path(scratch)
        self.factory = factory
        self.kwargs = dict(kwargs or {})
        self.answerer: ModelAnswerer = answerer if answerer is not None else NoModel()
        self.model_limits = model_limits or ModelLimits()
        self.model_usage = ModelUsage()
        self._asked = 0
        self.lookback: int | None = None
        self._proc: SandboxedProcess | None = None
        self._stderr = BoundedReader(64 * 1024, keep="tail",
                                     hard_cap=sandbox.limits.max_output_total_bytes)
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
        argv = self.sandbox.python_command(self.checkout, module="alphaloop_sandbox_child")
        self._stderr = BoundedReader(64 * 1024, keep="tail",
                                     hard_cap=self.sandbox.limits.max_output_total_bytes)
        self._proc = self.sandbox.spawn(argv, workdir=self.checkout, scratch=self.scratch)
        self._deadline = self._proc.deadline
        threading.Thread(target=self._drain_stderr, args=(self._proc,), daemon=True).start()
        self._assets = [a.model_dump() for a in view.assets]
        reply = self._call({"op": "init", "factory": self.factory, "kwargs": self.kwargs,
                            "assets": self._assets}, None)
        self.lookback = reply.lookback
        self._has_state = bool(reply.has_state)

    def reset(self) -> None:
        """Build a fresh strategy in the running child (a new backtest, no carried state).

        Reusing the process saves the interpreter start and imports between backtests;
        the per-backtest wall-time limit starts again, but never beyond the budget the
        sandbox holds (see ``budget``), which all backtests of a review share.
        """
        self._sent_until = None
        self.decisions = 0
        if self._proc is None:
            return
        self._deadline, self._proc.deadline_name = self.sandbox.deadline()
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
        """The last lines the strategy wrote to stderr, redacted."""
        return redact(self._stderr.lines(lines), limit=DETAIL_LIMIT)

    # -- the contract -------------------------------------------------------------------
    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        self.start(view)
        rows, reset = self._new_rows(view)
        reply = self._call({"op": "decide", "as_of": view.as_of, "rows": rows, "reset": reset,
                            "portfolio": portfolio.model_dump()}, view.as_of)
        self._sent_until = view.as_of
        self.decisions += 1
        weights: dict[str, Any] = redact_tree(reply.weights or {}, limit=200)
        return Decision.model_construct(weights=weights,
                                        record=redact_tree(reply.record or {}))

    def get_state(self) -> dict[str, Any]:
        if not self._has_state:
            return {}
        return redact_tree(self._call({"op": "get_state"}, None).state or {})

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

    def _drain_stderr(self, proc: SandboxedProcess) -> None:
        """Read the child's stderr in bounded chunks; stop the sandbox past the cap."""
        if proc.popen.stderr is None:
            return
        fd = proc.popen.stderr.fileno()
        reader = self._stderr
        while True:
            try:
                chunk = os.read(fd, CHUNK)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            reader.feed(chunk)
            if reader.exceeded and not proc.output_exceeded:
                proc.output_exceeded = True
                proc.kill()

    def _call(self, message: dict[str, Any], as_of: pd.Timestamp | None) -> _Reply:
        proc = self._proc
        assert proc is not None and proc.popen.stdin is not None
        assert proc.popen.stdout is not None
        if message.get("op") == "init":  # a new backtest: its questions are counted anew
            self.model_usage = ModelUsage()
        self._asked = 0
        try:
            write_frame(proc.popen.stdin, dumps_request(message))
            raw = read_frame(proc.popen.stdout.fileno(), deadline=self._deadline)
            while (answer := self._model_answer(raw, as_of)) is not None:
                write_frame(proc.popen.stdin, answer)
                raw = read_frame(proc.popen.stdout.fileno(), deadline=self._deadline)
        except WireTimeout:
            proc.timed_out = True
            limit = proc.deadline_name
            self.close()
            raise StrategyFailed("no answer in time; the sandbox was killed", as_of=as_of,
                                 limit=limit, detail=self.stderr_tail()) from None
        except (WireClosed, BrokenPipeError, ValueError) as exc:
            if isinstance(exc, ValueError):  # an oversized frame
                proc.kill()
            code = proc.popen.wait()
            gone = proc.engine_failure()
            self.close()
            if gone is not None:
                deciding = f" (deciding {as_of.date()})" if as_of is not None else ""
                raise engine_lost(gone, f"the strategy was running{deciding}") from None
            detail = self.stderr_tail()
            limit = proc.limit_hit()
            if limit is None and isinstance(exc, ValueError):
                limit = "output (an answer larger than the reply limit)"
            raise StrategyFailed(
                f"the sandboxed process exited with code {code} "
                f"({_explain_exit(code)}); last output:\n{detail}", as_of=as_of,
                detail=detail, limit=limit,
                location=strategy_location(detail, self.checkout)) from None
        try:
            reply = _Reply.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            self.close()
            raise StrategyFailed(f"malformed answer from the sandbox: {exc}", as_of=as_of) from None
        stopped = proc.group_limit_hit()
        if stopped is not None:  # a process of the sandbox was killed or refused a fork
            limit = proc.limit_hit()
            self.close()
            raise StrategyFailed(
                f"a process of the sandbox hit the {stopped} limit; last output:\n"
                f"{self.stderr_tail()}", as_of=as_of, limit=limit,
                detail=self.stderr_tail()) from None
        if not reply.ok:
            raise StrategyFailed(reply.error or "unknown error", as_of=as_of,
                                 detail=reply.traceback or "",
                                 location=strategy_location(reply.traceback or "",
                                                            self.checkout))
        return reply

    def _model_answer(self, raw: bytes, as_of: pd.Timestamp | None) -> bytes | None:
        """The answer frame to a question frame ``{"llm": {"system", "user"}}``; None
        for any other frame (the call's reply). A malformed question or one past
        :attr:`model_limits` stops the child and fails naming the limit."""
        if not raw.startswith(b'{"llm"'):
            return None
        try:
            question = ModelQuestion.model_validate(json.loads(raw)["llm"])
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            self.close()
            raise StrategyFailed(f"malformed model question from the sandbox: {exc}",
                                 as_of=as_of) from None
        limits, usage = self.model_limits, self.model_usage
        size = len(question.system) + len(question.user)
        self._asked += 1
        usage.questions += 1
        usage.chars += size
        bound = limits.broken(usage, asked=self._asked, size=size)
        if bound is not None:
            self.close()
            raise StrategyFailed(bound, as_of=as_of, limit="model questions")
        cleaned = ModelQuestion(system=redact(question.system, limit=limits.max_question_chars),
                                user=redact(question.user, limit=limits.max_question_chars))
        try:
            answer = self.answerer.answer(cleaned)
        except BaseException:  # the run must stop (a spent budget): the child goes too
            self.close()
            raise
        if answer.text is None:
            usage.refused += 1
            usage.unsettled += not answer.settled
            return dumps_request({"refusal": redact(answer.refusal or "no reason given",
                                                    limit=MESSAGE_LIMIT)})
        usage.answered += 1
        return dumps_request({"text": redact(answer.text, limit=limits.max_answer_chars)})


def _explain_exit(code: int) -> str:
    signals = {-9: "killed", -24: "CPU time limit exceeded",
               -11: "segmentation fault", 137: "killed"}
    return signals.get(code, "crashed" if code else "exited early")
