"""Micro-benchmark of the FinSage optimiser library: time per call for 25 assets.

Replays what a 20-year weekly backtest asks of the portfolio manager: about 1,000
decisions, each optimising 25 assets on the trailing year of daily returns (Ledoit-Wolf
covariance, mean returns, the year's scenarios for CVaR). Every method is timed on the
same sequence of inputs, long-only with and without a 15% cap per asset (the default
single-asset limit), and with the previous decision's weights as a warm start.

Run from the repository root, with the package installed (``scripts/install``) or
``PYTHONPATH=.``:

    python benchmarks/bench_optimizers.py --output benchmarks/results/optimizers.md

Timings depend on the machine and its load; BLAS threading matters on small machines
(compare a run with ``OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy

from strategy.optimizers import METHODS, mean_returns, optimize, shrunk_covariance

N_ASSETS = 25
LOOKBACK = 252
STEP = 5  # weekly decisions on daily data


def synthetic_returns(n_days: int, seed: int = 7) -> np.ndarray:
    """Daily returns of 25 assets from a three-factor model with fat-tailed shocks."""
    rng = np.random.default_rng(seed)
    factors = rng.standard_t(4, size=(n_days, 3)) * np.array([0.010, 0.006, 0.008])
    loadings = rng.uniform(-0.3, 1.4, size=(3, N_ASSETS))
    idiosyncratic = rng.normal(size=(n_days, N_ASSETS)) * rng.uniform(0.002, 0.03, N_ASSETS)
    return factors @ loadings + idiosyncratic + rng.uniform(-0.0001, 0.0006, N_ASSETS)


def decision_inputs(n_decisions: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    returns = synthetic_returns(LOOKBACK + STEP * n_decisions)
    inputs = []
    for k in range(n_decisions):
        window = returns[STEP * k: STEP * k + LOOKBACK]
        inputs.append((shrunk_covariance(window), mean_returns(window), window))
    return inputs


def time_method(method: str, inputs, bounds, warm: bool) -> dict[str, float]:
    durations, fallbacks, previous = [], 0, None
    cpu_start = time.process_time()
    for covariance, mu, window in inputs:
        options = {"initial_weights": previous} if warm and previous is not None else {}
        start = time.perf_counter()
        result = optimize(method, covariance=covariance, expected_returns=mu, returns=window,
                          bounds=bounds, **options)
        durations.append(time.perf_counter() - start)
        fallbacks += result.fallback is not None
        previous = result.weights
    cpu_ms = (time.process_time() - cpu_start) * 1e3 / len(inputs)
    ms = np.array(durations) * 1e3
    return {"mean": float(ms.mean()), "median": float(np.median(ms)),
            "p95": float(np.percentile(ms, 95)), "cpu": cpu_ms,
            "total_s": float(ms.sum() / 1e3), "fallbacks": fallbacks}


def report(method: str, label: str, start: str, stats: dict[str, float]) -> None:
    print(f"{method:20s} {label:9s} {start}  mean {stats['mean']:7.3f} ms  "
          f"median {stats['median']:7.3f}  p95 {stats['p95']:7.3f}  cpu {stats['cpu']:7.3f}  "
          f"total {stats['total_s']:6.2f} s  fallbacks {stats['fallbacks']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=None,
                        help="write a Markdown table here (e.g. benchmarks/results/optimizers.md)")
    args = parser.parse_args()
    inputs = decision_inputs(args.decisions)
    for method in METHODS:  # warm up imports and caches outside the timings
        optimize(method, covariance=inputs[0][0], expected_returns=inputs[0][1],
                 returns=inputs[0][2])
    warm_capable = {"mean_variance", "min_variance", "max_sharpe", "black_litterman",
                    "max_diversification", "robust"}
    rows = []
    for method in METHODS:
        for label, bounds in (("long-only", None), ("cap 15%", (0.0, 0.15))):
            stats = time_method(method, inputs, bounds, warm=False)
            rows.append((method, label, "cold", stats))
            report(method, label, "cold", stats)
            if method in warm_capable and label == "cap 15%":
                stats = time_method(method, inputs, bounds, warm=True)
                rows.append((method, label, "warm", stats))
                report(method, label, "warm", stats)
    if args.output is not None:
        write_markdown(args.output, rows, args.decisions)
        print(f"wrote {args.output}")


def write_markdown(path: Path, rows, n_decisions: int) -> None:
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    lines = [
        "# Optimiser micro-benchmark",
        "",
        f"`python benchmarks/bench_optimizers.py --decisions {n_decisions}`: {n_decisions} "
        f"weekly decisions, {N_ASSETS} assets, {LOOKBACK}-day window (CVaR: {LOOKBACK} "
        "scenarios). Times per `optimize()` call in milliseconds, including input checks;",
        "`cpu` is process CPU time per call (less sensitive to other load on the machine).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"OPENBLAS_NUM_THREADS={threads}.",
        "",
        "| method | bounds | start | mean ms | median ms | p95 ms | cpu ms | total s | fallbacks |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for method, label, start, s in rows:
        lines.append(f"| {method} | {label} | {start} | {s['mean']:.3f} | {s['median']:.3f} | "
                     f"{s['p95']:.3f} | {s['cpu']:.3f} | {s['total_s']:.2f} | {s['fallbacks']} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
