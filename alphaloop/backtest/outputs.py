"""The files a backtest leaves: ``result.json`` and ``equity.png``, all or nothing.

``result.json`` is the :class:`~alphaloop.harness.BacktestResult` JSON; when the strategy
came from a repository it also carries a top-level ``source`` object (repository, rev,
commit, strategy tree hash, sandboxed), and when asked for, ``walk_forward`` (a list of
fold figures: label, start, end, sharpe, max_drawdown, reward) and ``holdout_read`` (the
run's counted read of the held-out window) - read the result and its source back with
:func:`load_outputs`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alphaloop.backtest.source import StrategySource
from alphaloop.harness.result import BacktestResult

__all__ = ["EXTRA_KEYS", "PLOT_FILE", "RESULT_FILE", "load_outputs", "result_json",
           "write_outputs"]

RESULT_FILE = "result.json"
PLOT_FILE = "equity.png"


#: Top-level keys a result file may carry beside the result: what ran (``source``), the
#: walk-forward folds' figures (``walk_forward``) and the read of the held-out window
#: (``holdout_read``).
EXTRA_KEYS = ("walk_forward", "holdout_read")


def result_json(result: BacktestResult, source: StrategySource | None, *,
                indent: int | None = None, extra: Mapping[str, Any] | None = None) -> str:
    """The result's JSON, with ``source`` and the ``extra`` keys added when there are."""
    if source is None and not extra:
        return result.to_json(indent=indent)
    unknown = set(extra or {}) - set(EXTRA_KEYS)
    if unknown:
        raise ValueError(f"unknown result keys {sorted(unknown)}; known: {EXTRA_KEYS}")
    payload = json.loads(result.to_json())
    head = {"source": source.model_dump(mode="json")} if source is not None else {}
    return json.dumps({**head, **payload, **(extra or {})}, indent=indent)


def load_outputs(text: str | bytes) -> tuple[BacktestResult, StrategySource | None]:
    """A ``result.json`` (or ``--json`` output) read back: the result and its source."""
    payload = json.loads(text)
    for key in EXTRA_KEYS:
        payload.pop(key, None)
    raw = payload.pop("source", None)
    source = StrategySource.model_validate(raw) if raw is not None else None
    return BacktestResult.from_json(json.dumps(payload)), source


def write_outputs(result: BacktestResult, out: Path, *, title: str,
                  benchmark: BacktestResult | None = None,
                  source: StrategySource | None = None,
                  extra: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``result.json`` and ``equity.png`` into ``out``, all or nothing."""
    from alphaloop.report.plots import plot_equity

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / RESULT_FILE).write_text(result_json(result, source, indent=1, extra=extra))
        plot_equity(
            staging / PLOT_FILE, result.returns_series(), title=title,
            initial_value=result.config.initial_capital,
            benchmark=benchmark.returns_series() if benchmark is not None else None,
            strategy_label=result.config.strategy, benchmark_label="equal weight")
        out.mkdir(exist_ok=True)
        for name in (RESULT_FILE, PLOT_FILE):
            os.replace(staging / name, out / name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)
    return out / RESULT_FILE, out / PLOT_FILE
