"""The sandboxed side of the conversation, staged as ``alphaloop_sandbox_child``.

It runs outside the ``alphaloop`` name (only ``alphaloop.contract`` exists in the
sandbox); the bootstrap of :mod:`alphaloop.sandbox._runtime` puts the checkout last on
``sys.path``, so only ``strategy`` comes from the branch under review. The harness feeds it market
rows as they become known (never a row after the decision date) and portfolio states;
it answers each ``decide`` with JSON weights. Anything the strategy prints goes to
stderr, so it cannot corrupt the replies.

A strategy that wants a model (``wants_llm`` true once built) is handed a client through
``use_llm``: its ``complete(system, user)`` sends the parent a ``{"llm": {"system",
"user"}}`` frame in the middle of the call and waits for the answer frame, the text or
a refusal it raises as :class:`~alphaloop.contract.ModelUnavailable`. There is no
network here: the parent answers (see :mod:`alphaloop.sandbox.model_questions`).
"""

from __future__ import annotations

import importlib
import math
import os
import pickle
import sys
import traceback
from typing import Any

import numpy as np
import pandas as pd

from alphaloop.contract import AssetInfo, Decision, MarketView, ModelUnavailable, PortfolioState

from ._wire import WireClosed, dumps_reply, read_frame, write_frame


class _History:
    """The rows received so far, trimmed to the strategy's lookback."""

    def __init__(self, assets: list[AssetInfo], lookback: int | None) -> None:
        self.assets = assets
        self.lookback = lookback
        self.dates = pd.DatetimeIndex([])
        self.arrays: dict[str, np.ndarray] = {}

    def extend(self, rows: dict[str, Any], reset: bool) -> None:
        if reset or not self.arrays:
            self.dates = pd.DatetimeIndex(rows["dates"])
            self.arrays = dict(rows["arrays"])
        else:
            self.dates = self.dates.append(pd.DatetimeIndex(rows["dates"]))
            self.arrays = {k: np.concatenate([self.arrays[k], v]) for k, v in
                           rows["arrays"].items()}
        if self.lookback is not None and len(self.dates) > self.lookback:
            keep = self.lookback
            self.dates = self.dates[-keep:]
            self.arrays = {k: v[-keep:] for k, v in self.arrays.items()}

    def view(self, as_of: pd.Timestamp) -> MarketView:
        fundamentals = {k[2:]: v for k, v in self.arrays.items() if k.startswith("f:")}
        macro = {k[2:]: v for k, v in self.arrays.items() if k.startswith("m:")}
        return MarketView(as_of=as_of, assets=self.assets, dates=self.dates,
                          prices=self.arrays["prices"], volumes=self.arrays["volumes"],
                          fundamentals=fundamentals, macro=macro)


def _clean(value: Any) -> Any:
    """Make a decision record JSON-safe (NaN and infinities become None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    return value


def _weight(value: Any) -> float | str:
    """A weight as JSON: finite floats as numbers, anything else as text for the error."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    return number if math.isfinite(number) else repr(number)


class _ParentModel:
    """The parent's model, asked over the wire in the middle of a call."""

    def __init__(self, inp: int, out: Any) -> None:
        self._inp = inp
        self._out = out

    def complete(self, system: str, user: str) -> str:
        write_frame(self._out, dumps_reply({"llm": {"system": str(system), "user": str(user)}}))
        answer = pickle.loads(read_frame(self._inp, limit=1 << 34))
        if isinstance(answer.get("text"), str):
            return answer["text"]
        raise ModelUnavailable(f"no model answers inside the sandbox: {answer.get('refusal')}")


def _build(message: dict[str, Any], inp: int, out: Any) -> Any:
    """The strategy ``message`` names, handed the parent's model if it wants one."""
    module_name, _, attr = message["factory"].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    strategy = factory(**message.get("kwargs", {}))
    if getattr(strategy, "wants_llm", False) is True:
        strategy.use_llm(_ParentModel(inp, out))
    return strategy


def _serve(inp: int, out: Any) -> None:
    strategy: Any = None
    history: _History | None = None
    while True:
        try:
            message = pickle.loads(read_frame(inp, limit=1 << 34))
        except WireClosed:
            return
        op = message["op"]
        try:
            if op == "init":
                strategy = _build(message, inp, out)
                lookback = getattr(strategy, "lookback", None)
                history = _History([AssetInfo(**a) for a in message["assets"]], lookback)
                reply: dict[str, Any] = {
                    "ok": True, "lookback": lookback,
                    "has_state": hasattr(strategy, "get_state")}
            elif op == "decide":
                assert history is not None and strategy is not None
                history.extend(message["rows"], message["reset"])
                portfolio = PortfolioState(**message["portfolio"])
                answer = strategy.decide(history.view(pd.Timestamp(message["as_of"])), portfolio)
                if isinstance(answer, Decision):
                    weights, record = answer.weights, answer.record
                else:
                    weights, record = dict(answer), {}
                reply = {"ok": True,
                         "weights": {str(k): _weight(v) for k, v in weights.items()},
                         "record": _clean(record)}
            elif op == "get_state":
                reply = {"ok": True, "state": _clean(strategy.get_state())}
            elif op == "set_state":
                strategy.set_state(message["state"])
                reply = {"ok": True}
            else:
                reply = {"ok": False, "error": f"unknown operation {op!r}"}
        except Exception as exc:  # report every failure of strategy code to the parent
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc(limit=20)}
        write_frame(out, dumps_reply(reply))


def main() -> None:
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # whatever the strategy prints goes to stderr
    sys.stdout = sys.stderr
    _serve(sys.stdin.fileno(), out)


if __name__ == "__main__":
    main()
