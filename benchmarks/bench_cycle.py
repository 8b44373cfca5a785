"""Time offline cycles of ``alphaloop cycle`` on the default data (20 years, weekly).

Clones this repository (its committed ``main``) into a temporary directory, runs one
cycle to fill the backtest cache with main's baseline, then times the following cycles,
whose baseline is cached - the steady state of the loop. Per-stage timings come from
the ledger. Writes ``benchmarks/results/cycle.md`` and ``cycle.json``.

    python benchmarks/bench_cycle.py [--cycles 2] [--data synthetic] [--frequency weekly]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from alphaloop.cycle import CycleOptions
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2, help="timed cycles after warm-up")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--frequency", default="weekly")
    args = parser.parse_args()
    options = CycleOptions(data=args.data, frequency=args.frequency)
    with tempfile.TemporaryDirectory(prefix="alphaloop-bench-") as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        started = time.perf_counter()
        [warm] = run_cycles(repo, options)
        warm_s = time.perf_counter() - started
        timed = []
        for _ in range(args.cycles):
            started = time.perf_counter()
            [summary] = run_cycles(repo, options)
            timed.append((summary, time.perf_counter() - started))
        entries = {e.cycle_id: e for e in Ledger(repo).entries()}
    rows = [{"cycle": warm.cycle_id, "baseline": "computed", "wall_s": round(warm_s, 2),
             "outcome": warm.outcome.value, "stages": warm.timings}]
    rows += [{"cycle": s.cycle_id, "baseline": "cached", "wall_s": round(wall, 2),
              "outcome": s.outcome.value, "stages": s.timings} for s, wall in timed]
    for row in rows:
        risk = entries[row["cycle"]].records.get("risk_review") or {}
        row["risk_backtests"] = sorted(risk.get("branch_metrics", {}))
    stages = ["plan", "quant_review", "hypothesis", "implement", "risk_review", "merge",
              "report"]
    lines = ["# One offline cycle", "",
             f"Data `{args.data}`, {args.frequency} rebalancing, FinSage default profile, "
             "process sandbox. The first cycle computes main's baseline; later cycles find "
             "it in the cache. Produced by `python benchmarks/bench_cycle.py`.", "",
             "| cycle | baseline | outcome | wall (s) | " + " | ".join(stages) + " |",
             "| --- | --- | --- | ---: | " + " | ".join("---:" for _ in stages) + " |"]
    for row in rows:
        cells = [f"{row['stages'].get(s, 0.0):.1f}" for s in stages]
        lines.append(f"| {row['cycle']} | {row['baseline']} | {row['outcome']} | "
                     f"{row['wall_s']:.1f} | " + " | ".join(cells) + " |")
    lines += ["", f"Machine: Python {platform.python_version()}, {platform.platform()}."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cycle.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "cycle.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
