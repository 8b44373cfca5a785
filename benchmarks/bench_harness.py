"""Benchmark of the backtest harness against a NumPy lower bound, vectorbt and bt.

A grid of sizes: 30, 100 and 500 assets x 5, 10 and 30 years (252 trading days a year).
At every size all four engines run the same strategy on the same data: fixed target
weights (95% invested, 5% cash), traded at the close of the first day and of the last
trading day of each month, with commission 0.1% + slippage 0.05% on traded notional paid
from cash. Their daily portfolio values must agree with the harness's to a relative 1e-6
before any timing is reported.

- ``harness``: :func:`alphaloop.harness.simulate` with a fixed-weights strategy object
  (views, portfolio states, weight validation, decision records, metrics and the data
  hash included: everything a real backtest does);
- ``numpy bound``: the same arithmetic written directly in NumPy, with nothing else
  (values per holding period, trades, end-of-day weights and returns);
- ``vectorbt``: ``Portfolio.from_orders`` with target-percent orders (sells first),
  fees on order value, warmed up first (numba compiles on the first call);
- ``bt``: ``bt.Backtest`` with a small algo that trades each asset to its target weight
  of the pre-trade value through bt's ``transact``, commission from bt's commission
  function. bt's own ``Rebalance`` algo sizes each buy so that price plus commission
  fits the allocated amount (costs come out of the position, not from cash), a different
  cost convention, so it is not used.

How each size is measured:

1. Memory and agreement. Each engine runs once in a fresh Python process that has
   imported everything, loaded the size's prices from a file and run the engine once on
   a tiny panel (numba compiles there). Just before the run the process's resident-set
   high-water mark is restarted at its current size (``/proc/self/clear_refs``); after
   it, ``VmHWM`` of ``/proc/self/status`` is the run's peak resident set, and that peak
   minus the resident set just before is what the run added on top of the interpreter,
   the libraries and the input prices. (``getrusage(...).ru_maxrss`` is not used: Linux
   carries the parent's high-water mark over ``fork`` and ``exec``, so a worker reads
   the parent's size.) The run's daily values are compared with the harness's.
2. Time. The harness, the bound and vectorbt run in one fresh process, one run each per
   round, round after round, so that a noisy stretch of the shared machine slows all of
   them alike; fewer rounds at large sizes (a time budget per size, at least 5). bt,
   about a thousand times slower than the bound, is timed in its own process (its
   memory run counts as its first timed run) with a cap on one run: a size whose run
   would take longer than the cap, estimated from the smaller sizes' per-cell time or
   found by a timeout, is recorded as "skipped (over N s)".

Run by hand from the repository root (``pip install -e '.[bench]'`` first)::

    python benchmarks/bench_harness.py [--assets 30,100,500] [--years 5,10,30]
        [--budget 20] [--bt-cap 60] [--name harness]

Results go to ``benchmarks/results/<name>.json``, ``<name>.md`` and ``<name>.png``
(time against assets and against years per engine, log scales, and peak memory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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

DAYS_PER_YEAR = 252
CAPITAL = 1_000_000.0
COSTS = Costs()
TOLERANCE = 1e-6
RESULTS = ROOT / "benchmarks" / "results"
FAST = ("harness", "numpy bound", "vectorbt")
ENGINES = (*FAST, "bt")
MIN_ROUNDS = 5


# -- data and strategy ------------------------------------------------------------------
def make_prices(n_assets: int, n_days: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Random-walk closes ``[day, asset]`` and target weights summing to 0.95."""
    rng = np.random.default_rng(seed)
    vol = rng.uniform(0.005, 0.03, n_assets)
    log_returns = rng.normal(0.0003, 1.0, (n_days, n_assets)) * vol
    prices = 50.0 * np.exp(np.cumsum(log_returns, axis=0))
    return prices, 0.95 * rng.dirichlet(np.ones(n_assets))


def market_data(prices: np.ndarray) -> MarketData:
    n_days, n_assets = prices.shape
    return MarketData(
        dates=pd.bdate_range("1990-01-01", periods=n_days),
        assets=tuple(AssetInfo(ticker=f"A{i:03d}", asset_class="stocks")
                     for i in range(n_assets)),
        prices=prices, volumes=np.full((n_days, n_assets), 1e6), source="bench")


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
    units, cash, upto = np.zeros(len(weights)), CAPITAL, -1
    held = np.empty((len(schedule), len(weights)))
    for j, day in enumerate(schedule):
        block = values[upto + 1:day + 1]
        np.matmul(prices[upto + 1:day + 1], units, out=block)
        block += cash
        value = block[-1]
        drifted = units * prices[day] / value
        cost = rate * float(np.abs(weights - drifted).sum()) * value
        units = weights * value / prices[day]
        cash = value * (1.0 - invested) - cost
        values[day] = value - cost
        held[j] = units
        upto = day
    np.matmul(prices[upto + 1:], units, out=values[upto + 1:])
    values[upto + 1:] += cash
    lengths = np.diff(np.append(schedule, last + 1))
    end_weights = np.repeat(held, lengths, axis=0)
    end_weights *= prices
    end_weights /= values[:, None]
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


RUNNERS: dict[str, Callable[[MarketData, np.ndarray], np.ndarray]] = {
    "harness": run_harness, "numpy bound": run_numpy, "vectorbt": run_vectorbt, "bt": run_bt,
}


# -- inside a worker process ------------------------------------------------------------
def _load(path: Path) -> tuple[MarketData, np.ndarray]:
    with np.load(path) as saved:
        return market_data(saved["prices"]), saved["weights"]


def _warm_up(engines: list[str]) -> None:
    """Run each engine on a tiny panel: imports, numba compilation, first-call caches."""
    prices, weights = make_prices(3, 60, seed=1)
    small = market_data(prices)
    for name in engines:
        RUNNERS[name](small, weights)


def _status_mib(field: str) -> float:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"/proc/self/status has no {field}; the memory figures need Linux")


def _reset_peak() -> bool:
    """Restart the resident-set high-water mark at the current size (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _timed(run: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process, all its threads) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _times(times: list[tuple[float, float]]) -> dict[str, float]:
    wall = [t for t, _ in times]
    return {"best_s": min(wall), "median_s": statistics.median(wall),
            "cpu_best_s": min(c for _, c in times), "runs": len(times)}


def solo_worker(engine: str, data_path: Path, out: Path, repeat: int, budget: float) -> None:
    """One engine in this fresh process: memory of the first run, then timed re-runs
    while they fit in ``budget`` seconds (the first run counts as a timed run)."""
    data, weights = _load(data_path)
    _warm_up([engine])
    before = _status_mib("VmRSS")
    reset = _reset_peak()
    kept: list[np.ndarray] = []
    times = [_timed(lambda: kept.append(RUNNERS[engine](data, weights)))]
    after = _status_mib("VmHWM")
    np.save(out.with_suffix(".npy"), kept.pop())
    while len(times) < repeat and sum(t for t, _ in times) + times[-1][0] <= budget:
        times.append(_timed(lambda: RUNNERS[engine](data, weights)))
    out.write_text(json.dumps({"peak_mib": after, "added_mib": after - before,
                               "before_mib": before, "peak_reset": reset,
                               **_times(times)}))


def interleaved_worker(engines: list[str], data_path: Path, out: Path, repeat: int,
                       budget: float) -> None:
    """Time every engine once per round, round after round; stop after ``repeat`` rounds
    or when the next round would pass ``budget`` seconds (but never before 5 rounds)."""
    data, weights = _load(data_path)
    data.content_hash()  # computed once per panel; not a per-run cost
    _warm_up(engines)
    for name in engines:
        RUNNERS[name](data, weights)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    while True:
        for name in engines:
            times[name].append(_timed(lambda name=name: RUNNERS[name](data, weights)))
        rounds = len(times[engines[0]])
        spent = sum(wall for runs in times.values() for wall, _ in runs)
        if rounds >= repeat or (rounds >= MIN_ROUNDS and spent * (rounds + 1) / rounds > budget):
            break
    parts = breakdown(data, weights, max(rounds, MIN_ROUNDS))
    out.write_text(json.dumps({"timings": {name: _times(t) for name, t in times.items()},
                               "harness_breakdown_best_ms": parts}))


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

    parts: dict[str, Callable[[], Any]] = {
        "views (data.view, all decisions)": views,
        "weight validation (all decisions)": validation,
        "metrics (compute_metrics)": lambda: compute_metrics(returns, turnover=returns ** 2),
    }
    best = {}
    for name, fn in parts.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        best[name] = min(times) * 1e3
    return best


# -- the parent: sizes, agreement, caps, reports ----------------------------------------
def _spawn(args: list[str], timeout: float | None = None) -> None:
    subprocess.run([sys.executable, __file__, *args], check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)


def machine() -> dict[str, Any]:
    import bt
    import vectorbt

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "numpy": np.__version__,
            "pandas": pd.__version__, "vectorbt": vectorbt.__version__,
            "bt": bt.__version__, "load_average_start": list(os.getloadavg())}


def measure_size(n_assets: int, years: int, work: Path, args: argparse.Namespace,
                 bt_per_cell: float | None) -> dict[str, Any]:
    """Every engine at one size: memory and agreement, then time."""
    n_days = years * DAYS_PER_YEAR
    prices, weights = make_prices(n_assets, n_days)
    data_path = work / f"a{n_assets}y{years}.npz"
    np.savez(data_path, prices=prices, weights=weights)
    label = f"{n_assets} assets x {years} years"
    cell: dict[str, Any] = {"assets": n_assets, "years": years, "days": n_days,
                            "decisions": len(rebalance_positions(
                                market_data(prices).dates, 0, n_days - 1, "monthly")),
                            "engines": {}}
    engines = cell["engines"]
    for name in ENGINES:
        out = work / f"{name.replace(' ', '_')}-a{n_assets}y{years}.json"
        solo = ["--solo", name, "--data", str(data_path), "--out", str(out)]
        if name != "bt":
            _spawn([*solo, "--repeat", "1"])
        else:
            estimate = None if bt_per_cell is None else bt_per_cell * n_assets * n_days
            if estimate is not None and estimate > args.bt_cap:
                engines[name] = {"skipped": f"skipped (over {args.bt_cap:g} s; about "
                                            f"{estimate:.0f} s a run, estimated)"}
                continue
            try:
                _spawn([*solo, "--repeat", str(args.bt_repeat), "--budget", str(args.bt_cap)],
                       timeout=args.bt_cap * (args.bt_repeat + 1) + 120)
            except subprocess.TimeoutExpired:
                engines[name] = {"skipped": f"skipped (over {args.bt_cap:g} s; timed out)"}
                continue
            if json.loads(out.read_text())["best_s"] > args.bt_cap:
                engines[name] = {"skipped": f"skipped (over {args.bt_cap:g} s; a run took "
                                            f"{json.loads(out.read_text())['best_s']:.0f} s)"}
                continue
        engines[name] = json.loads(out.read_text())
        engines[name]["values"] = np.load(out.with_suffix(".npy"))
    reference = engines["harness"]["values"]
    for name, result in engines.items():
        if "values" not in result:
            continue
        gap = float(np.max(np.abs(result.pop("values") / reference - 1.0)))
        result["max_relative_gap"] = gap
        if not gap <= TOLERANCE:
            raise SystemExit(f"{label}: {name} disagrees with the harness: largest relative "
                             f"gap in daily value {gap:.3g} > {TOLERANCE:g}; timings not "
                             "reported")
    out = work / f"fast-a{n_assets}y{years}.json"
    slowest = max(engines[name]["best_s"] for name in FAST)
    rounds = max(MIN_ROUNDS, min(args.repeat, int(args.budget / (3 * slowest))))
    _spawn(["--interleaved", ",".join(FAST), "--data", str(data_path), "--out", str(out),
            "--repeat", str(rounds), "--budget", str(args.budget)])
    timed = json.loads(out.read_text())
    for name, times in timed["timings"].items():
        engines[name].update(times)  # the solo run's single time gives way to the rounds
    cell["harness_breakdown_best_ms"] = timed["harness_breakdown_best_ms"]
    bound = engines["numpy bound"]
    for result in engines.values():
        if "best_s" in result:
            result["x_numpy_bound"] = result["best_s"] / bound["best_s"]
            result["x_numpy_bound_cpu"] = result["cpu_best_s"] / bound["cpu_best_s"]
    data_path.unlink()
    return cell


def _engine_cell(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"{result['skipped']} | - | - | - | -"
    return (f"{_ms(result['best_s'])} / {_ms(result['median_s'])} ({result['runs']}) | "
            f"{result['x_numpy_bound']:.1f}x | {_ms(result['cpu_best_s'])} | "
            f"{result['x_numpy_bound_cpu']:.1f}x | {result['peak_mib']:.0f} / "
            f"{result['added_mib']:.0f}")


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"


def markdown(report: dict[str, Any], args: argparse.Namespace) -> str:
    info = report["machine"]
    lines = [
        "# Harness benchmark",
        "",
        "The harness against a NumPy lower bound, vectorbt and bt at every size of the grid: "
        "fixed target weights (95% invested), monthly rebalance, commission "
        f"{COSTS.commission:g} + slippage {COSTS.slippage:g}. At every size every engine's "
        f"daily values agree with the harness's to a relative {TOLERANCE:g} (largest gaps "
        "in the JSON). Produced by `python benchmarks/bench_harness.py`.",
        "",
        "- Time: best / median of the runs (their number in brackets), in ms. The harness, "
        "the bound and vectorbt run in turn in one process, one run each per round, so "
        "load on the shared machine falls on all of them alike; large sizes get fewer "
        f"rounds (a budget of {args.budget:g} s a size, at least {MIN_ROUNDS}).",
        "- x bound: best time over the NumPy bound's best time.",
        "- CPU: the least CPU time of a run (`time.process_time`, all threads of the "
        "process) and its ratio to the bound's; less disturbed than wall time by other "
        "work on the shared machine.",
        "- Memory: peak resident set during one run of the engine in a fresh process "
        "(`VmHWM` of `/proc/self/status`, restarted just before the run) / what the run "
        "added to the resident set it started from (the interpreter, the libraries, "
        "the input prices and a warm-up run on a tiny panel); MiB.",
        f"- bt has a cap of {args.bt_cap:g} s a run: a size where one run would take "
        "longer (estimated from the smaller sizes' time per asset-day, or found by a "
        'timeout) is "skipped", not run for hours.',
        "",
        "| assets | years | decisions | engine | time best / median (runs), ms | x bound "
        "| CPU best, ms | x bound (CPU) | memory peak / added, MiB |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for cell in report["grid"]:
        for name, result in cell["engines"].items():
            lines.append(f"| {cell['assets']} | {cell['years']} | {cell['decisions']} | "
                         f"{name} | {_engine_cell(result)} |")
    lines += [
        "",
        "Harness / bound across the grid, best wall time (best CPU time):",
        "",
        "| assets \\ years | " + " | ".join(str(y) for y in args.years) + " |",
        "| ---: |" + " ---: |" * len(args.years),
    ]
    by_size = {(c["assets"], c["years"]): c for c in report["grid"]}
    for n_assets in args.assets:
        ratios = [by_size[n_assets, y]["engines"]["harness"] for y in args.years]
        row = [f"{r['x_numpy_bound']:.2f} ({r['x_numpy_bound_cpu']:.2f})" for r in ratios]
        lines.append(f"| {n_assets} | " + " | ".join(row) + " |")
    parts = list(report["grid"][0]["harness_breakdown_best_ms"])
    lines += [
        "",
        "Where the harness's time goes beyond the arithmetic (best ms, measured "
        "separately in the timing process):",
        "",
        "| assets | years | " + " | ".join(parts) + " |",
        "| ---: | ---: |" + " ---: |" * len(parts),
    ]
    for cell in report["grid"]:
        row = [f"{cell['harness_breakdown_best_ms'][p]:.2f}" for p in parts]
        lines.append(f"| {cell['assets']} | {cell['years']} | " + " | ".join(row) + " |")
    lines += [
        "",
        f"![time and memory per engine]({args.name}.png)",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, NumPy "
        f"{info['numpy']}, pandas {info['pandas']}, vectorbt {info['vectorbt']}, bt "
        f"{info['bt']}, {info['platform']}. Load average (1, 5, 15 min) "
        f"{', '.join(f'{x:.1f}' for x in info['load_average_start'])} at the start and "
        f"{', '.join(f'{x:.1f}' for x in info['load_average_end'])} at the end; the "
        f"machine is shared, so compare the best columns. Wall time {report['wall_s']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"harness": "tab:blue", "numpy bound": "black", "vectorbt": "tab:orange",
               "bt": "tab:red"}
    styles = ["-", "--", ":"]
    grid = report["grid"]
    assets = sorted({c["assets"] for c in grid})
    years = sorted({c["years"] for c in grid})
    by_size = {(c["assets"], c["years"]): c for c in grid}

    def series(name: str, key: str, sizes: list[tuple[int, int]],
               along: int) -> tuple[list[int], list[float]]:
        """``key`` of engine ``name`` at ``sizes``; x is the size's ``along`` element."""
        points = [(size[along], by_size[size]["engines"][name][key]) for size in sizes
                  if key in by_size[size]["engines"][name]]
        return [x for x, _ in points], [y for _, y in points]

    fig, axes = plt.subplots(1, 3, figsize=(17, 7))
    for name, colour in colours.items():
        for style, y in zip(styles, years, strict=False):
            x, t = series(name, "best_s", [(a, y) for a in assets], 0)
            axes[0].plot(x, t, style, color=colour, marker="o", label=f"{name}, {y} y")
        for style, a in zip(styles, assets, strict=False):
            x, t = series(name, "best_s", [(a, y) for y in years], 1)
            axes[1].plot(x, t, style, color=colour, marker="o", label=f"{name}, {a} assets")
        top = years[-1]
        x, m = series(name, "peak_mib", [(a, top) for a in assets], 0)
        axes[2].plot(x, m, "-", color=colour, marker="o", label=f"{name}, peak")
        x, m = series(name, "added_mib", [(a, top) for a in assets], 0)
        axes[2].plot(x, np.maximum(m, 1.0), ":", color=colour, marker="s",
                     label=f"{name}, added by the run")
    axes[0].set(xscale="log", yscale="log", xlabel="assets", ylabel="best time (s)",
                title="time vs assets (line style: years)")
    axes[1].set(xscale="log", yscale="log", xlabel="years", ylabel="best time (s)",
                title="time vs years (line style: assets)")
    axes[2].set(xscale="log", yscale="log", xlabel="assets", ylabel="MiB (at least 1)",
                title=f"memory of one run at {years[-1]} years")
    axes[2].yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    for ax, ticks in ((axes[0], assets), (axes[1], years), (axes[2], assets)):
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
    for ax, columns in ((axes[0], 2), (axes[1], 2), (axes[2], 2)):
        ax.legend(fontsize=7, ncol=columns, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    skipped = any("skipped" in c["engines"]["bt"] for c in grid)
    note = "; bt's missing points were skipped (over the time cap)" if skipped else ""
    fig.suptitle(f"Harness benchmark: monthly fixed weights, best time of the runs, "
                 f"{report['machine']['cores']} cores{note}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, "
                                         f"got {text!r} (e.g. 30,100,500)") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive whole numbers, got {text!r}")
    return sorted(set(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=_int_list, default=[30, 100, 500],
                        help="asset counts, comma-separated (default 30,100,500)")
    parser.add_argument("--years", type=_int_list, default=[5, 10, 30],
                        help="years of 252 trading days, comma-separated (default 5,10,30)")
    parser.add_argument("--repeat", type=int, default=50, help="most rounds per size")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds of timed rounds per size (at least 5 rounds)")
    parser.add_argument("--bt-repeat", type=int, default=3, help="most timed runs of bt")
    parser.add_argument("--bt-cap", type=float, default=60.0,
                        help="seconds one bt run may take; larger sizes are skipped")
    parser.add_argument("--name", default="harness", help="results file name, no suffix")
    parser.add_argument("--solo", help=argparse.SUPPRESS)
    parser.add_argument("--interleaved", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solo:
        return solo_worker(args.solo, args.data, args.out, args.repeat,
                           args.budget if args.solo == "bt" else 0.0)
    if args.interleaved:
        return interleaved_worker(args.interleaved.split(","), args.data, args.out,
                                  args.repeat, args.budget)

    started = time.perf_counter()
    report: dict[str, Any] = {
        "setup": {"frequency": "monthly", "commission": COSTS.commission,
                  "slippage": COSTS.slippage, "tolerance": TOLERANCE,
                  "days_per_year": DAYS_PER_YEAR, "budget_s": args.budget,
                  "bt_cap_s": args.bt_cap,
                  "memory": "VmHWM of a fresh process per engine and size, restarted "
                            "just before one run: peak_mib as is, added_mib minus the "
                            "VmRSS just before the run"},
        "machine": machine(), "grid": []}
    bt_per_cell: float | None = None
    sizes = sorted(((a, y) for a in args.assets for y in args.years), key=lambda s: s[0] * s[1])
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as work:
        for n_assets, years in sizes:
            cell = measure_size(n_assets, years, Path(work), args, bt_per_cell)
            bt_result = cell["engines"]["bt"]
            if "best_s" in bt_result:
                bt_per_cell = bt_result["best_s"] / (n_assets * cell["days"])
            report["grid"].append(cell)
            harness = cell["engines"]["harness"]
            print(f"{n_assets} assets x {years} years: harness {_ms(harness['best_s'])} ms "
                  f"({harness['x_numpy_bound']:.2f}x bound), {harness['peak_mib']:.0f} MiB",
                  flush=True)
    report["grid"].sort(key=lambda c: (c["assets"], c["years"]))
    report["machine"]["load_average_end"] = list(os.getloadavg())
    report["wall_s"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report, args)
    (RESULTS / f"{args.name}.md").write_text(text)
    plot(report, RESULTS / f"{args.name}.png")
    print(text)


if __name__ == "__main__":
    main()
