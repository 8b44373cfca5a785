"""Benchmark of the sandboxes' cost: start-up and per-backtest overhead.

The strategy is this repository's FinSage (``strategy/``, copied to a temporary
checkout), backtested on the seeded synthetic universe. Four ways to run it:

* ``in-process``: the strategy imported into this process (no isolation, no pipes);
* ``unsandboxed``: the sandbox's child process and protocol without isolation;
* ``process``: the bubblewrap sandbox;
* ``docker``: the Docker sandbox (skipped, and said so, without an engine or the image).

Start-up is the time from nothing to the first decision answered (process or container
start, imports, building the strategy). Per-backtest is the time of one backtest on a
running strategy (``reset`` between backtests, as reviews do). Each is the median of
``--repeat`` runs, the backends taking turns so that load on the machine falls on all
alike.

Run from the repository root::

    python -m benchmarks.bench_sandbox [--repeat 5] [--days 120]

Results go to ``benchmarks/results/sandbox.json`` and ``sandbox.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alphaloop.contract import PortfolioState
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from alphaloop.harness import Window
from alphaloop.harness.simulate import simulate
from alphaloop.sandbox import (
    DockerSandbox,
    Limits,
    ProcessSandbox,
    Sandbox,
    SandboxedStrategy,
    SandboxError,
    UnsandboxedRunner,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
LIMITS = Limits(wall_seconds=600, cpu_seconds=600, memory_mb=2048)


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "python": sys.version.split()[0],
                            "cpus": os.cpu_count(), "processor": platform.processor() or
                            platform.machine()}
    try:
        from alphaloop.sandbox.docker_engine import docker_client

        version = docker_client().version()
        info["docker"] = f"engine {version.get('Version')} (API {version.get('ApiVersion')})"
    except SandboxError as exc:
        info["docker"] = f"unavailable: {exc}"
    return info


def _backends() -> tuple[dict[str, Callable[[], Sandbox] | None], dict[str, str]]:
    backends: dict[str, Callable[[], Sandbox] | None] = {
        "in-process": None,
        "unsandboxed": lambda: UnsandboxedRunner(LIMITS),
        "process": lambda: ProcessSandbox(LIMITS),
    }
    skipped: dict[str, str] = {}
    try:
        DockerSandbox(LIMITS).check()
        backends["docker"] = lambda: DockerSandbox(LIMITS)
    except SandboxError as exc:
        skipped["docker"] = str(exc)
    return backends, skipped


def _in_process(checkout: Path) -> Any:
    """FinSage built in this process, its modules imported afresh (the libraries stay)."""
    for name in [m for m in sys.modules if m == "strategy" or m.startswith("strategy.")]:
        del sys.modules[name]
    sys.path.insert(0, str(checkout))
    try:
        return importlib.import_module("strategy").create_strategy()
    finally:
        sys.path.remove(str(checkout))


def _measure(factory: Callable[[], Sandbox] | None, checkout: Path, scratch: Path,
             panel: Any, window: Window) -> tuple[float, float]:
    """(start-up seconds, backtest seconds) of one run."""
    view = panel.view(300, 60)
    state = PortfolioState(as_of=view.as_of, weights={}, cash=1.0, value=1.0, peak_value=1.0)
    started = time.perf_counter()
    if factory is None:
        strategy = _in_process(checkout)
        strategy.decide(view, state)
        startup = time.perf_counter() - started
        began = time.perf_counter()
        simulate(_in_process(checkout), panel, window, frequency="weekly")
        return startup, time.perf_counter() - began
    with SandboxedStrategy(factory(), checkout=checkout, scratch=scratch) as sandboxed:
        sandboxed.decide(view, state)
        startup = time.perf_counter() - started
        sandboxed.reset()
        began = time.perf_counter()
        simulate(sandboxed, panel, window, frequency="weekly")
        return startup, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=120, help="trading days backtested")
    args = parser.parse_args()

    panel = SyntheticSource(SyntheticConfig(years=2)).load()
    window = Window(start=panel.dates[300].date(),
                    end=panel.dates[min(300 + args.days, len(panel.dates) - 1)].date(),
                    label="bench")
    backends, skipped = _backends()
    times: dict[str, dict[str, list[float]]] = {
        name: {"startup": [], "backtest": []} for name in backends}
    with tempfile.TemporaryDirectory(prefix="alphaloop-bench-") as tmp:
        checkout = Path(tmp) / "checkout"
        checkout.mkdir()
        shutil.copytree(ROOT / "strategy", checkout / "strategy",
                        ignore=shutil.ignore_patterns("__pycache__"))
        _measure(backends["in-process"], checkout, Path(tmp) / "s", panel, window)  # warm up
        for run in range(args.repeat):
            for name, factory in backends.items():
                startup, backtest = _measure(factory, checkout, Path(tmp) / f"s{run}{name}",
                                             panel, window)
                times[name]["startup"].append(startup)
                times[name]["backtest"].append(backtest)
                print(f"run {run + 1}/{args.repeat} {name:12s} start-up {startup:6.3f} s "
                      f"backtest {backtest:6.3f} s", file=sys.stderr)
    medians = {name: {k: statistics.median(v) for k, v in runs.items()}
               for name, runs in times.items()}
    report = {"machine": _machine(), "repeat": args.repeat, "days": args.days,
              "decisions": "weekly", "medians_s": medians, "runs_s": times,
              "skipped": skipped}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sandbox.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "sandbox.md").write_text(_markdown(report))
    print(_markdown(report))


def _markdown(report: dict[str, Any]) -> str:
    medians = report["medians_s"]
    base = medians["in-process"]
    lines = ["# Sandbox overhead", "",
             f"FinSage on the synthetic universe, {report['days']} trading days with weekly "
             f"decisions; median of {report['repeat']} runs, backends interleaved "
             "(`python -m benchmarks.bench_sandbox`).", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in report["machine"].items()), "",
             "| backend | start-up (s) | start-up overhead (s) | backtest (s) "
             "| backtest / in-process |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, value in medians.items():
        lines.append(f"| {name} | {value['startup']:.3f} | "
                     f"{value['startup'] - base['startup']:+.3f} | {value['backtest']:.3f} | "
                     f"{value['backtest'] / base['backtest']:.2f}x |")
    for name, reason in report["skipped"].items():
        lines += ["", f"{name}: not measured ({reason})"]
    lines += ["", "Start-up: from nothing to the first decision answered (interpreter or "
              "container start, imports, building the strategy). Backtest: one backtest on "
              "the running strategy; the difference to in-process is the cost of the pipe "
              "protocol (every decision's new rows and weights cross it), which the three "
              "child backends share.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
