"""Time one offline ``alphaloop cycle`` per stage: cold and warm cache, serial executor
against the local process pool.

Each run clones this repository (its committed ``main``) into a temporary directory and
runs one cycle on the default data (20 years, weekly) in the process sandbox:

- *cold*: an empty backtest cache, so every backtest runs;
- *warm*: the cache a cold run of the same executor left, copied into a fresh clone, so
  the same cycle finds every backtest it needs.

The machine is shared and noisy, so the four kinds of run are interleaved (the order of
the executors alternates between repeats) and the tables show medians, with ratios
computed from the same repeats. Per-stage times come from the cycle's own timings.
Writes ``benchmarks/results/cycle.json`` and ``cycle.md``.

    python benchmarks/bench_cycle.py [--repeats 3] [--data synthetic] [--frequency weekly]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from alphaloop.cycle import CycleOptions
from alphaloop.cycle.run import run_cycles

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
STAGES = ("plan", "quant_review", "hypothesis", "implement", "risk_review", "merge",
          "report")
EXECUTORS = ("serial", "process")


def _clone(where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(where)], check=True)
    return where


def _cache(repo: Path) -> Path:
    return repo / ".git" / "alphaloop" / "cache"


def _run(repo: Path, options: CycleOptions) -> dict[str, Any]:
    started = time.perf_counter()
    [summary] = run_cycles(repo, options)
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "outcome": summary.outcome.value,
            "stages": {s: round(summary.timings.get(s, 0.0), 2) for s in STAGES}}


def _machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _median(runs: list[dict[str, Any]], stage: str | None) -> float:
    values = [r["wall_s"] if stage is None else r["stages"][stage] for r in runs]
    return round(statistics.median(values), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--frequency", default="weekly")
    args = parser.parse_args()
    machine = _machine()
    runs: dict[str, list[dict[str, Any]]] = {f"{e}/{c}": [] for e in EXECUTORS
                                             for c in ("cold", "warm")}
    with tempfile.TemporaryDirectory(prefix="alphaloop-bench-") as tmp:
        for repeat in range(args.repeats):
            order = EXECUTORS if repeat % 2 == 0 else EXECUTORS[::-1]
            for executor in order:
                options = CycleOptions(data=args.data, frequency=args.frequency,
                                       executor=executor)
                cold = _clone(Path(tmp) / f"{executor}-{repeat}-cold")
                runs[f"{executor}/cold"].append(_run(cold, options))
                warm = _clone(Path(tmp) / f"{executor}-{repeat}-warm")
                shutil.rmtree(_cache(warm), ignore_errors=True)
                shutil.copytree(_cache(cold), _cache(warm), ignore=shutil.ignore_patterns(
                    "scratch", "stats"))
                runs[f"{executor}/warm"].append(_run(warm, options))
                for done in (cold, warm):
                    shutil.rmtree(done)
                print(executor, repeat, runs[f"{executor}/cold"][-1]["wall_s"],
                      runs[f"{executor}/warm"][-1]["wall_s"], flush=True)
    medians = {kind: {"wall_s": _median(r, None), **{s: _median(r, s) for s in STAGES}}
               for kind, r in runs.items()}
    ratios = {f"{c}: serial / process": {
        key: round(medians[f"serial/{c}"][key] / medians[f"process/{c}"][key], 2)
        if medians[f"process/{c}"][key] else None for key in ("wall_s", "risk_review")}
        for c in ("cold", "warm")}
    ratios |= {f"{e}: cold / warm": {
        key: round(medians[f"{e}/cold"][key] / medians[f"{e}/warm"][key], 2)
        if medians[f"{e}/warm"][key] else None for key in ("wall_s", "risk_review")}
        for e in EXECUTORS}
    report = {"machine": machine, "data": args.data, "frequency": args.frequency,
              "repeats": args.repeats, "medians": medians, "ratios": ratios, "runs": runs}
    lines = ["# One offline cycle: per stage, cold and warm cache, serial and process pool",
             "", f"Data `{args.data}`, {args.frequency} rebalancing, FinSage default "
             "profile, process sandbox. *cold*: empty backtest cache; *warm*: the cache of "
             "a cold run of the same cycle. Medians of "
             f"{args.repeats} interleaved repeats, seconds. Produced by "
             "`python benchmarks/bench_cycle.py`.", "",
             "| run | wall | " + " | ".join(STAGES) + " |",
             "| --- | ---: | " + " | ".join("---:" for _ in STAGES) + " |"]
    for kind, m in medians.items():
        lines.append(f"| {kind} | {m['wall_s']:.1f} | "
                     + " | ".join(f"{m[s]:.1f}" for s in STAGES) + " |")
    lines += ["", "| ratio | wall | risk_review |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {r['wall_s']} | {r['risk_review']} |" for name, r in ratios.items()]
    lines += ["", f"Machine: {machine['machine']}, {machine['cores']} cores, Python "
              f"{machine['python']}, {machine['platform']}; load average at start "
              f"{machine['load_average_at_start']} (a shared machine)."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cycle.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "cycle.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
