"""The files a backtest leaves: ``result.json`` and ``equity.png``, all or nothing.

``result.json`` is the :class:`~alphaloop.harness.BacktestResult` JSON; when the strategy
came from a repository it also carries a top-level ``source`` object (repository, rev,
commit, strategy tree hash, sandboxed) - read both back with :func:`load_outputs`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from alphaloop.backtest.source import StrategySource
from alphaloop.harness.result import BacktestResult

__all__ = ["PLOT_FILE", "RESULT_FILE", "load_outputs", "result_json", "write_outputs"]

RESULT_FILE = "result.json"
PLOT_FILE = "equity.png"


def result_json(result: BacktestResult, source: StrategySource | None, *,
                indent: int | None = None) -> str:
    """The result's JSON, with ``source`` added when there is one."""
    if source is None:
        return result.to_json(indent=indent)
    payload = json.loads(result.to_json())
    return json.dumps({"source": source.model_dump(mode="json"), **payload}, indent=indent)


def load_outputs(text: str | bytes) -> tuple[BacktestResult, StrategySource | None]:
    """A ``result.json`` (or ``--json`` output) read back: the result and its source."""
    payload = json.loads(text)
    raw = payload.pop("source", None)
    source = StrategySource.model_validate(raw) if raw is not None else None
    return BacktestResult.from_json(json.dumps(payload)), source


def write_outputs(result: BacktestResult, out: Path, *, title: str,
                  benchmark: BacktestResult | None = None,
                  source: StrategySource | None = None) -> tuple[Path, Path]:
    """Write ``result.json`` and ``equity.png`` into ``out``, all or nothing."""
    from alphaloop.report.plots import plot_equity

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / RESULT_FILE).write_text(result_json(result, source, indent=1))
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
