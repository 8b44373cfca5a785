"""Look-ahead checks: a decision must not know the data after its date.

The harness never shows a strategy a row after its decision date, but a strategy can
still learn the future elsewhere: rows kept in a module global from an earlier backtest
of the same (reused) sandboxed process, a leak in the harness, or the market rebuilt
from a seed or a file. Three tests; Risk runs the first two on every change
(``alphaloop.roles.risk.lookahead``), ``alphaloop check lookahead`` the last two.

* **Prefix invariance** (:func:`prefix_finding`, ``lookahead.prefix``). For ``probes``
  decision dates of the in-sample window, the decision of the normal run (the review's
  reused process) is recomputed in a fresh sandboxed process on a panel whose rows after
  the probe date are replaced by a block bootstrap of earlier returns, with a seed the
  strategy cannot know (keyed with the bot's secret). The weights must agree within
  ``tolerance``. The probes are cached like any backtest (the seed is a function of the
  strategy tree and the data), so a review run again does not run them again.
* **Oracle test** (:func:`oracle_finding`, ``lookahead.oracle``). A strategy that rebuilds
  the market gives the same decisions whatever the panel's future, so the test asks
  whether the decisions know the *true* future: the mean forward return over
  ``horizon_days`` of each decision's weights on the real panel is compared with its
  distribution when each future is replaced by a block of earlier returns (same
  weights). An honest strategy's true forward return is a typical draw; an oracle's is
  extreme. Above ``max_z`` with an excess of at least ``min_effect`` per horizon, the
  change is vetoed.
* **Cut data** (:func:`cut_data_check`), as freqtrade's lookahead-analysis does: every
  decision of a run on the full data is recomputed on the data cut at its date - a
  panel that physically ends there - and the two must agree. The run on the full data is
  the second backtest of one sandboxed process (so anything the strategy keeps between
  backtests has seen the whole window); the recomputation runs in a fresh process, in
  date order, with the portfolio the full run held on each date. Any difference means
  the decision used something the cut data does not hold.

    findings = lookahead_findings(evaluator, head_sha, data, window, rules, seed=seed)
    report = cut_data_check(sandbox, checkout, data, window, profile="default",
                            frequency="weekly", costs=Costs())
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.checks.findings import Finding, Severity
from alphaloop.contract import Decision, MarketView, PortfolioState
from alphaloop.data.panel import MarketData
from alphaloop.evaluation.service import Evaluator
from alphaloop.harness import BacktestResult, Costs, Window, simulate
from alphaloop.harness.schedule import rebalance_positions
from alphaloop.policy.risk import LookaheadRules
from alphaloop.sandbox import Sandbox, SandboxedStrategy

__all__ = ["CutDataReport", "DecisionMismatch", "PhaseProgress", "cut_data_check",
           "lookahead_findings", "lookahead_seed", "oracle_finding", "perturb_future",
           "prefix_finding", "probe_runs"]

#: Called with (phase, decisions done, decisions in the run) while a check runs.
PhaseProgress = Callable[[str, int, int], None]


def lookahead_seed(key: bytes, *parts: str) -> int:
    """A seed the strategy cannot know: an HMAC of the inputs under the bot's key."""
    digest = hmac.new(key, "\x00".join(parts).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def perturb_future(data: MarketData, cut: int, rng: np.random.Generator,
                   block: int = 10) -> MarketData:
    """``data`` with every row after position ``cut`` replaced: returns, volumes and the
    other fields are drawn in blocks of ``block`` days from rows ``1..cut``."""
    n = len(data.dates)
    if cut >= n - 1:
        return data
    if cut < 2:
        raise ValueError("the probe date needs at least two earlier rows")
    rows = []
    while len(rows) < n - cut - 1:
        start = int(rng.integers(1, max(2, cut - block + 2)))
        rows.extend(range(start, min(start + block, cut + 1)))
    rows_arr = np.asarray(rows[:n - cut - 1])
    returns = data.prices[rows_arr] / data.prices[rows_arr - 1]
    prices = data.prices.copy()
    prices[cut + 1:] = data.prices[cut] * np.cumprod(returns, axis=0)
    volumes = data.volumes.copy()
    volumes[cut + 1:] = data.volumes[rows_arr]

    def swap(arr: np.ndarray) -> np.ndarray:
        out = arr.copy()
        out[cut + 1:] = arr[rows_arr]
        return out

    return replace(data, prices=prices, volumes=volumes,
                   fundamentals={k: swap(v) for k, v in data.fundamentals.items()},
                   macro={k: swap(v) for k, v in data.macro.items()},
                   source=f"{data.source} (future replaced after row {cut})")


def _decisions(result: BacktestResult) -> tuple[pd.DatetimeIndex, np.ndarray]:
    entries = result.decisions
    dates = pd.DatetimeIndex([pd.Timestamp(e.date) for e in entries])
    targets = np.array([np.asarray(e.target, dtype=float) for e in entries])
    return dates, targets.reshape(len(entries), len(result.tickers))


def _probe_dates(dates: pd.DatetimeIndex, count: int) -> list[pd.Timestamp]:
    """``count`` decision dates spread over the second half of the decisions."""
    if len(dates) < 4:
        return []
    half = len(dates) // 2
    picks = np.unique(np.linspace(half, len(dates) - 1, num=min(count, len(dates) - half))
                      .round().astype(int))
    return [dates[i] for i in picks]


def _after(data: MarketData, day: pd.Timestamp) -> date:
    """The day after ``day`` in ``data``: a window decides up to, not on, its last day."""
    return data.dates[min(int(data.dates.get_loc(day)) + 1, len(data.dates) - 1)].date()


def probe_runs(data: MarketData, window: Window, rules: LookaheadRules, *, frequency: str,
               seed: int) -> list[tuple[pd.Timestamp, MarketData, Window]]:
    """The prefix-invariance probes of a run over ``window``: for each probe date, the
    panel with its future replaced and the window that ends just after it.

    The probe dates are decision dates of the harness's schedule (the strategy has no say
    in them), so the probes can be prepared, and run, before the run they check.
    """
    first, last = window.bounds(data)
    schedule = data.dates[rebalance_positions(data.dates, first, last, frequency)]
    probes = _probe_dates(pd.DatetimeIndex(schedule), rules.probes)
    rng = np.random.default_rng(seed)
    return [(probe,
             perturb_future(data, int(data.dates.get_loc(probe)), rng, block=rules.block_days),
             Window(start=window.start, end=_after(data, probe), label="lookahead-probe"))
            for probe in probes]


def prefix_finding(evaluator: Evaluator, sha: str, data: MarketData, window: Window,
                   rules: LookaheadRules, *, seed: int) -> Finding:
    """The prefix-invariance test (see the module docstring)."""
    ev = evaluator
    probes = probe_runs(data, window, rules, frequency=ev.settings.frequency, seed=seed)
    if not probes:
        return Finding(check="lookahead.prefix", severity=Severity.PASS,
                       message="too few decisions to probe for look-ahead")
    # The normal run: the review's reused process, after its other backtests.
    ev.backtest(sha, data, window)
    reference = ev.backtest(sha, data, Window(start=window.start,
                                              end=_after(data, probes[-1][0]),
                                              label="lookahead-reference"))
    ref_dates, ref_targets = _decisions(reference)
    fresh = ev.fresh_backtests(sha, [(panel, probe_window) for _, panel, probe_window in probes])
    worst, worst_date, compared = 0.0, probes[0][0], 0
    for (probe, _, _), result in zip(probes, fresh, strict=True):
        dates, targets = _decisions(result)
        if probe not in ref_dates or probe not in dates:
            continue
        compared += 1
        gap = float(np.max(np.abs(targets[dates.get_loc(probe)]
                                  - ref_targets[ref_dates.get_loc(probe)])))
        if not gap <= worst:
            worst, worst_date = (gap if np.isfinite(gap) else float("inf")), probe
    evidence = {"probes": [str(p.date()) for p, _, _ in probes], "compared": compared,
                "max_weight_difference": worst,
                "tolerance": rules.tolerance}
    if compared == 0:
        return Finding(check="lookahead.prefix", severity=Severity.WARN, evidence=evidence,
                       message="no probe date could be compared: look-ahead not assessed")
    if worst > rules.tolerance:
        return Finding(
            check="lookahead.prefix", severity=Severity.BLOCK, evidence=evidence,
            message=f"decisions depend on data after the decision date: on "
                    f"{worst_date.date()} a fresh process given a different future decided "
                    f"weights up to {worst:.3g} away from the review's run (tolerance "
                    f"{rules.tolerance:g}); the strategy carries the future in state or "
                    f"reads it past the view")
    return Finding(check="lookahead.prefix", severity=Severity.PASS, evidence=evidence,
                   message=f"decisions on {compared} probe dates are unchanged when the "
                           f"future after each is replaced")


def oracle_finding(data: MarketData, result: BacktestResult, rules: LookaheadRules, *,
                   seed: int) -> Finding:
    """The oracle test (see the module docstring) on one backtest's decisions."""
    dates, targets = _decisions(result)
    h = rules.horizon_days
    index = data.dates.get_indexer(dates)
    columns = [data.tickers.index(t) for t in result.tickers]
    gross = data.prices[:, columns]
    keep = (index > h + 1) & (index + h < len(data.dates))
    index, targets = index[keep], np.nan_to_num(targets[keep])
    if len(index) < 8:
        return Finding(check="lookahead.oracle", severity=Severity.PASS,
                       message="too few decisions with a known future for the oracle test")

    def forward(starts: np.ndarray) -> np.ndarray:  # h-day growth of each asset from a row
        return gross[starts + h] / gross[starts] - 1.0

    real = float(np.mean(np.sum(targets * forward(index), axis=1)))
    rng = np.random.default_rng(seed)
    draws = np.empty(rules.resamples)
    for b in range(rules.resamples):
        starts = (rng.random(len(index)) * (index - h)).astype(int)  # futures from the past
        draws[b] = np.mean(np.sum(targets * forward(starts), axis=1))
    centre, spread = float(np.mean(draws)), float(np.std(draws, ddof=1))
    excess = real - centre
    z = excess / spread if spread > 0 else (0.0 if excess == 0 else float("inf"))
    evidence = {"decisions": len(index), "horizon_days": h, "forward_return": real,
                "resampled_mean": centre, "resampled_std": spread, "z": z,
                "excess": excess, "max_z": rules.max_z, "min_effect": rules.min_effect,
                "resamples": rules.resamples}
    text = (f"mean {h}-day forward return of the decisions {real:+.4f} against "
            f"{centre:+.4f} +/- {spread:.4f} over {rules.resamples} replaced futures "
            f"(z = {z:.1f}, {len(index)} decisions)")
    if z > rules.max_z and excess >= rules.min_effect:
        return Finding(check="lookahead.oracle", severity=Severity.BLOCK, evidence=evidence,
                       message=f"decisions know the future: {text}; above z {rules.max_z:g} "
                               f"with an excess of at least {rules.min_effect:g}")
    return Finding(check="lookahead.oracle", severity=Severity.PASS, evidence=evidence,
                   message=f"no sign of knowledge of the future: {text}")


def lookahead_findings(evaluator: Evaluator, sha: str, data: MarketData, window: Window,
                       rules: LookaheadRules, *, seed: int) -> list[Finding]:
    """Both tests for the strategy at ``sha`` on ``data`` (the in-sample panel)."""
    result = evaluator.backtest(sha, data, window)
    return [prefix_finding(evaluator, sha, data, window, rules, seed=seed),
            oracle_finding(data, result, rules, seed=seed + 1)]


# -- the cut-data check ----------------------------------------------------------------
class DecisionMismatch(BaseModel):
    """One decision that changed when the data was cut at its date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    max_weight_difference: float
    assets: list[str] = Field(description="the assets whose weights differ most, largest "
                                          "first (up to three)")
    full: dict[str, float] = Field(description="their weights decided on the full data")
    cut: dict[str, float] = Field(description="their weights decided on the cut data")


class CutDataReport(BaseModel):
    """Every decision of a window on the full data against the data cut at its date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: Window
    decisions: int
    tolerance: float
    mismatches: list[DecisionMismatch] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


class _Recording:
    """A strategy that notes the portfolio it was shown on each date."""

    def __init__(self, strategy: SandboxedStrategy) -> None:
        self.strategy = strategy
        self.portfolios: dict[pd.Timestamp, PortfolioState] = {}

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        self.portfolios[view.as_of] = portfolio
        return self.strategy.decide(view, portfolio)


class _CutAtDecision:
    """A strategy asked on each date with a view of the data cut at that date.

    The panel each view is built from ends on the decision date (rows after it are not
    there to leak), and the portfolio is the one the full run held, so the decision's
    inputs differ from the full run's in nothing but what came after.
    """

    def __init__(self, strategy: SandboxedStrategy, data: MarketData,
                 portfolios: dict[pd.Timestamp, PortfolioState]) -> None:
        self.strategy = strategy
        self.data = data
        self.portfolios = portfolios

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        cut = self.data.slice(start=pd.Timestamp(view.dates[0]), end=view.as_of)
        return self.strategy.decide(cut.view(cut.n_days - 1),
                                    self.portfolios.get(view.as_of, portfolio))


@contextlib.contextmanager
def _process(sandbox: Sandbox, checkout: Path, scratch: Path, data: MarketData,
             profile: str) -> Iterator[SandboxedStrategy]:
    scratch.mkdir()
    with SandboxedStrategy(sandbox, checkout=checkout, scratch=scratch,
                           kwargs={"profile": profile}) as strategy:
        strategy.start(data.view(0, 1))
        yield strategy


def _mismatch(day: date, tickers: tuple[str, ...], full: np.ndarray,
              cut: np.ndarray) -> DecisionMismatch:
    gaps = np.nan_to_num(np.abs(full - cut), nan=np.inf)
    order = [int(i) for i in np.argsort(-gaps)[:3] if gaps[i] > 0]
    return DecisionMismatch(
        date=day, max_weight_difference=float(np.max(gaps)),
        assets=[tickers[i] for i in order],
        full={tickers[i]: float(full[i]) for i in order},
        cut={tickers[i]: float(cut[i]) for i in order})


def cut_data_check(sandbox: Sandbox, checkout: Path, data: MarketData, window: Window, *,
                   profile: str, frequency: str, costs: Costs, tolerance: float = 1e-9,
                   progress: PhaseProgress | None = None) -> tuple[CutDataReport,
                                                                   BacktestResult]:
    """The cut-data test (see the module docstring) of ``checkout/strategy``.

    Returns the report and the run on the full data (for :func:`oracle_finding`).
    Raises the sandbox's and the harness's errors when the strategy fails.
    """
    options: dict[str, Any] = {"frequency": frequency, "costs": costs}

    def step(phase: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(phase, done, total)

    with tempfile.TemporaryDirectory(prefix="alphaloop-lookahead-") as scratch:
        with _process(sandbox, checkout, Path(scratch) / "full", data, profile) as strategy:
            simulate(strategy, data, window, lookback=strategy.lookback,
                     progress=step("full data, first pass"), **options)
            strategy.reset()  # same process: what it kept has seen the whole window
            recording = _Recording(strategy)
            full = simulate(recording, data, window, lookback=strategy.lookback,
                            progress=step("full data"), **options)
        with _process(sandbox, checkout, Path(scratch) / "cut", data, profile) as strategy:
            cut = simulate(_CutAtDecision(strategy, data, recording.portfolios), data,
                           window, lookback=strategy.lookback,
                           progress=step("data cut at each date"), **options)
    full_log, cut_log = full.decision_log, cut.decision_log
    mismatches = []
    for j, day in enumerate(full_log.dates):
        a, b = full_log.targets[j], cut_log.targets[j]
        if not np.max(np.abs(a - b), initial=0.0) <= tolerance:  # NaN counts as a mismatch
            mismatches.append(_mismatch(day, full.tickers, a, b))
    report = CutDataReport(window=window, decisions=len(full_log.dates), tolerance=tolerance,
                           mismatches=mismatches)
    return report, full
