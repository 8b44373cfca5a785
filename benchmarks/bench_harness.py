"""Benchmark of the backtest harness against a NumPy lower bound, vectorbt and bt.

All four run the same strategy on the same data in one process: 30 assets, 2,520 trading
days, fixed target weights (95% invested, 5% cash), traded at the close of the first day
and of the last trading day of each month, with commission 0.1% + slippage 0.05% on
traded notional paid from cash. Their daily portfolio values must agree to a relative
1e-6 before any timing is reported.

- ``harness``: :func:`alphaloop.harness.simulate` with a fixed-weights strategy object
  (views, portfolio states, weight validation, decision records, metrics and the data
  hash included: everything a real backtest does);
- ``numpy bound``: the same arithmetic written directly in NumPy, with nothing else;
- ``vectorbt``: ``Portfolio.from_orders`` with target-percent orders (sells first),
  fees on order value, warmed up first (numba compiles on the first call);
- ``bt``: ``bt.Backtest`` with a small algo that trades each asset to its target weight
  of the pre-trade value through bt's ``transact``, commission from bt's commission
  function. bt's own ``Rebalance`` algo sizes each buy so that price plus commission
  fits the allocated amount (costs come out of the position, not from cash), a different
  cost convention, so it is not used.

Run by hand from the repository root (``pip install -e .[bench]`` first)::

    python benchmarks/bench_harness.py [--repeat 50]

Results go to ``benchmarks/results/harness.json`` and ``benchmarks/results/harness.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alphaloop.contract import AssetInfo, MarketView, PortfolioState  # noqa: E402
from alphaloop.data.panel import MarketData  # noqa: E402
from alphaloop.harness import Costs, full_window, rebalance_positions, simulate  # noqa: E402

N_ASSETS = 30
N_DAYS = 2520
CAPITAL = 1_000_000.0
COSTS = Costs()
TOLERANCE = 1e-6
RESULTS = ROOT / "benchmarks" / "results"


def make_data(seed: int = 7) -> tuple[MarketData, np.ndarray]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2012-01-02", periods=N_DAYS)
    vol = rng.uniform(0.005, 0.03, N_ASSETS)
    log_returns = rng.normal(0.0003, 1.0, (N_DAYS, N_ASSETS)) * vol
    prices = 50.0 * np.exp(np.cumsum(log_returns, axis=0))
    assets = tuple(AssetInfo(ticker=f"A{i:02d}", asset_class="stocks") for i in range(N_ASSETS))
    data = MarketData(dates=dates, assets=assets, prices=prices,
                      volumes=np.full((N_DAYS, N_ASSETS), 1e6), source="bench")
    weights = 0.95 * rng.dirichlet(np.ones(N_ASSETS))
    return data, weights


class FixedWeights:
    """The benchmark strategy: the same target weights on every decision date."""

    name = "fixed-weights"
    lookback = 1  # it reads no history

    def __init__(self, tickers: tuple[str, ...], weights: np.ndarray) -> None:
        self.weights = dict(zip(tickers, weights.tolist(), strict=True))

    def decide(self, view: MarketView, portfolio: PortfolioState) -> dict[str, float]:
        return self.weights


# -- the four implementations -----------------------------------------------------------
def run_harness(data: MarketData, weights: np.ndarray) -> np.ndarray:
    result = simulate(FixedWeights(data.tickers, weights), data, full_window(data),
                      frequency="monthly", costs=COSTS, initial_capital=CAPITAL)
    return np.asarray(result.values)


def run_numpy(data: MarketData, weights: np.ndarray) -> np.ndarray:
    """The harness's arithmetic and nothing else: schedule, trades, values, weights."""
    prices = data.prices
    last = data.n_days - 1
    schedule = rebalance_positions(data.dates, 0, last, "monthly")
    rate, invested = COSTS.rate, float(weights.sum())
    values = np.empty(data.n_days)
    units, cash, upto = np.zeros(N_ASSETS), CAPITAL, -1
    held = np.empty((len(schedule), N_ASSETS))
    for j, day in enumerate(schedule):
        block = (prices[upto + 1:day + 1] * units).sum(axis=1) + cash
        values[upto + 1:day + 1] = block
        value = block[-1]
        drifted = units * prices[day] / value
        cost = rate * float(np.abs(weights - drifted).sum()) * value
        units = weights * value / prices[day]
        cash = value * (1.0 - invested) - cost
        values[day] = value - cost
        held[j] = units
        upto = day
    values[upto + 1:] = (prices[upto + 1:] * units).sum(axis=1) + cash
    lengths = np.diff(np.append(schedule, last + 1))
    end_weights = np.repeat(held, lengths, axis=0) * prices / values[:, None]
    returns = values / np.concatenate(([CAPITAL], values[:-1])) - 1.0
    assert end_weights.shape == prices.shape and returns.shape == values.shape
    return values


def _size_frame(data: MarketData, weights: np.ndarray) -> pd.DataFrame:
    schedule = rebalance_positions(data.dates, 0, data.n_days - 1, "monthly")
    size = np.full(data.prices.shape, np.nan)
    size[schedule] = weights
    return pd.DataFrame(size, index=data.dates, columns=list(data.tickers))


def run_vectorbt(data: MarketData, weights: np.ndarray) -> np.ndarray:
    import vectorbt as vbt

    close = data.price_frame()
    portfolio = vbt.Portfolio.from_orders(
        close, size=_size_frame(data, weights), size_type="targetpercent",
        fees=COSTS.rate, init_cash=CAPITAL, cash_sharing=True, group_by=True,
        call_seq="auto", freq="1D")
    return portfolio.value().to_numpy()


def run_bt(data: MarketData, weights: np.ndarray) -> np.ndarray:
    import bt

    schedule = rebalance_positions(data.dates, 0, data.n_days - 1, "monthly")
    decision_days = set(data.dates[schedule])
    targets = dict(zip(data.tickers, weights.tolist(), strict=True))
    rate = COSTS.rate

    class TradeToTargets(bt.Algo):
        """Trade each asset to ``target * pre-trade value``; costs are paid from cash."""

        def __call__(self, target: Any) -> bool:
            if target.now not in decision_days:
                return True
            base = target.value
            for name, weight in targets.items():
                child = target.children.get(name)
                held = child.position if child is not None else 0.0
                price = target.universe.loc[target.now, name]
                target.transact(weight * base / price - held, child=name)
            return True

    strategy = bt.Strategy("fixed-weights", [TradeToTargets()])
    backtest = bt.Backtest(strategy, data.price_frame(), initial_capital=CAPITAL,
                           commissions=lambda q, p: rate * abs(q) * p,
                           integer_positions=False, progress_bar=False)
    result = bt.run(backtest)
    return result.backtests["fixed-weights"].strategy.values.to_numpy()[1:]


# -- measuring --------------------------------------------------------------------------
def breakdown(data: MarketData, weights: np.ndarray, repeat: int) -> dict[str, float]:
    """Best time (ms) of the fixed per-run and per-decision costs inside ``simulate``."""
    from alphaloop.contract import validate_weights
    from alphaloop.harness import compute_metrics

    schedule = rebalance_positions(data.dates, 0, data.n_days - 1, "monthly")
    answer = FixedWeights(data.tickers, weights).weights
    tickers, stamps = data.tickers, list(data.dates[schedule])
    returns = np.random.default_rng(0).normal(0.0, 0.01, data.n_days)

    def views() -> None:
        for position in schedule:
            data.view(int(position), 1)

    def validation() -> None:
        for stamp in stamps:
            validate_weights(answer, tickers, as_of=stamp)

    parts = {
        "views (data.view, all decisions)": views,
        "weight validation (all decisions)": validation,
        "metrics (compute_metrics)": lambda: compute_metrics(returns, turnover=returns ** 2),
        "data hash (content_hash)": data.content_hash,
    }
    return {name: timed(fn, repeat)["best_ms"] for name, fn in parts.items()}


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"best_ms": min(times) * 1e3, "median_ms": statistics.median(times) * 1e3,
            "runs": repeat}


def interleaved(runs: dict[str, tuple[Callable[[], Any], int]]) -> dict[str, dict[str, float]]:
    """Time every engine once per round, round after round, so that a noisy stretch of
    the machine slows all of them alike; an engine stops after its own number of runs."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(max(repeat for _, repeat in runs.values())):
        for name, (fn, repeat) in runs.items():
            if round_ < repeat:
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: {"best_ms": min(t) * 1e3, "median_ms": statistics.median(t) * 1e3,
                   "runs": len(t)} for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per fast engine")
    parser.add_argument("--bt-repeat", type=int, default=3, help="timed runs of bt (slow)")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    data, weights = make_data()
    engines: dict[str, tuple[Callable[[MarketData, np.ndarray], np.ndarray], int]] = {
        "harness": (run_harness, args.repeat),
        "numpy bound": (run_numpy, args.repeat),
        "vectorbt": (run_vectorbt, args.repeat),
        "bt": (run_bt, args.bt_repeat),
    }
    reference = run_harness(data, weights)
    agreement: dict[str, float] = {}
    for name, (engine, _) in engines.items():
        values = engine(data, weights)  # also warms vectorbt's numba cache
        gap = float(np.max(np.abs(values / reference - 1.0)))
        agreement[name] = gap
        if not gap <= TOLERANCE:
            raise SystemExit(f"{name} disagrees with the harness: largest relative gap in "
                             f"daily value {gap:.3g} > {TOLERANCE:g}; timings not reported")
    timings = interleaved({name: (lambda e=engine: e(data, weights), repeat)
                           for name, (engine, repeat) in engines.items()})
    parts = breakdown(data, weights, args.repeat)
    bound = timings["numpy bound"]["best_ms"]
    report = {
        "setup": {"assets": N_ASSETS, "days": N_DAYS, "frequency": "monthly",
                  "decisions": len(rebalance_positions(data.dates, 0, N_DAYS - 1,
                                                           "monthly")),
                  "commission": COSTS.commission, "slippage": COSTS.slippage,
                  "tolerance": TOLERANCE},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "numpy": np.__version__, "load_average": load},
        "agreement_max_relative_gap": agreement,
        "timings": {name: {**t, "x_numpy_bound": t["best_ms"] / bound}
                    for name, t in timings.items()},
        "harness_breakdown_best_ms": parts,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "harness.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Harness benchmark",
        "",
        f"{N_ASSETS} assets x {N_DAYS} days, monthly rebalance "
        f"({report['setup']['decisions']} decisions), commission {COSTS.commission:g} + "
        f"slippage {COSTS.slippage:g}. All engines agree with the harness on every daily "
        f"value to a relative {TOLERANCE:g} (largest gaps below). The engines run in "
        "turn, one run each per round, so load on the machine falls on all of them "
        "alike. Produced by `python benchmarks/bench_harness.py`.",
        "",
        "| engine | best (ms) | median (ms) | x numpy bound | max relative gap |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, t in report["timings"].items():
        lines.append(f"| {name} | {t['best_ms']:.2f} | {t['median_ms']:.2f} | "
                     f"{t['x_numpy_bound']:.1f} | {agreement[name]:.1e} |")
    lines += [
        "",
        "Where the harness's time goes beyond the arithmetic (best of "
        f"{args.repeat} runs each, measured separately):",
        "",
        "| part | best (ms) |",
        "| --- | ---: |",
        *(f"| {name} | {ms:.2f} |" for name, ms in parts.items()),
        "",
        f"Machine: Python {platform.python_version()}, {platform.platform()}, "
        f"{os.cpu_count()} cores, load average {load:.1f} at the start (timings on a busy "
        "machine are noisy; compare the best columns).",
        "",
    ]
    (RESULTS / "harness.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
