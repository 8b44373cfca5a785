"""Benchmark: the five FinSage experts (factor-only) at every weekly decision date.

Builds the default synthetic universe, then for each weekly date of ``--years`` years
(after one year of warm-up history) cuts the point-in-time view the harness would hand the
engine (the experts' own lookback) and times ``analyse`` of each expert, split into the
factor scorer and the rest (recommendations and report). Reports per-call medians, 95th
percentiles and means, and the experts' total per decision. Goal: each expert well under
1 ms per call, so the five stay a small share of a 20-year weekly backtest (15 s budget).

Usage (from the repository root)::

    python benchmarks/bench_experts.py                 # 20 years, weekly
    python benchmarks/bench_experts.py --years 5 --no-write

Writes ``benchmarks/results/experts.md`` unless ``--no-write`` is given. CPU time of this
process is measured (``time.process_time``), so other load on the machine disturbs it less
than wall time; the load average at the start is reported with the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource  # noqa: E402
from strategy.experts import EXPERTS  # noqa: E402

GOAL_MS = 1.0
RESULT = ROOT / "benchmarks" / "results" / "experts.md"


def run(years: float) -> dict[str, dict[str, np.ndarray]]:
    data = SyntheticSource(SyntheticConfig(years=years + 1)).load()
    experts = {name: cls() for name, cls in EXPERTS.items()}
    lookback = max(e.lookback for e in experts.values())
    first = int(np.searchsorted(data.dates, data.dates[0] + np.timedelta64(365, "D")))
    positions = range(first, data.n_days, 5)
    timings: dict[str, dict[str, list[float]]] = {
        name: {"analyse": [], "scorer": []} for name in experts}
    for position in positions:
        view = data.view(position, lookback)
        for name, expert in experts.items():
            start = time.process_time()
            expert.scorer.score(view, view.tickers_in(expert.asset_class))
            middle = time.process_time()
            expert.analyse(view)
            end = time.process_time()
            timings[name]["scorer"].append(middle - start)
            timings[name]["analyse"].append(end - middle)
    return {name: {k: np.array(v) * 1e3 for k, v in parts.items()}
            for name, parts in timings.items()}


def report(timings: dict[str, dict[str, np.ndarray]], years: float, load: float) -> str:
    rows = []
    total = np.zeros_like(next(iter(timings.values()))["analyse"])
    for name, parts in timings.items():
        a, s = parts["analyse"], parts["scorer"]
        total = total + a
        rows.append(f"| {name} | {np.median(a):.3f} | {np.percentile(a, 95):.3f} | "
                    f"{a.mean():.3f} | {np.median(s):.3f} | {np.median(a) - np.median(s):.3f} |")
    worst = max(float(np.median(p["analyse"])) for p in timings.values())
    verdict = "meets" if worst < GOAL_MS else "misses"
    return "\n".join([
        "# FinSage experts benchmark",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
        "`python benchmarks/bench_experts.py`.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}; load average at start "
        f"{load:.2f}",
        f"- {len(total)} weekly decision dates over {years:g} years, default synthetic "
        "universe (25 assets), factor-only experts, CPU time per call",
        "",
        "| expert | median ms | p95 ms | mean ms | scorer median ms | rest median ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"**All five experts: median {np.median(total):.2f} ms per decision, "
        f"{total.sum() / 1e3:.2f} s over the run.** Goal: each expert under {GOAL_MS:g} ms "
        f"(median): {verdict} it (slowest {worst:.3f} ms).",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    text = report(run(args.years), args.years, load)
    print(text)
    if not args.no_write:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
