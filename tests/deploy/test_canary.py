"""The canary's checks on real harness runs of small in-process strategies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.cycle_repos import FIXTURE, PROJECT

from alphaloop.contract import Decision, MarketView, PortfolioState
from alphaloop.data import open_source
from alphaloop.deploy import (
    ServiceRun,
    judge,
    live_window,
    run_service,
    tracking_error,
    worst_stretch_drawdown,
)
from alphaloop.evaluation import EvalSettings
from alphaloop.harness import Window, simulate
from alphaloop.policy import load_policies
from alphaloop.policy.deploy import CanaryPolicy
from alphaloop.sandbox import open_sandbox

DATA = open_source("synthetic:years=3").load()
RISK = load_policies(PROJECT).risk


class Spread:
    """Equal weights over every asset, 80% invested; from ``bomb_from`` on, 60% in one."""

    def __init__(self, bomb_from: str | None = None) -> None:
        self.bomb_from = None if bomb_from is None else np.datetime64(bomb_from)

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        n = len(view.tickers)
        weights = np.full(n, 0.8 / n)
        if self.bomb_from is not None and np.datetime64(view.as_of) >= self.bomb_from:
            weights = np.zeros(n)
            weights[0] = 0.6
        return Decision(weights=dict(zip(view.tickers, weights.tolist(), strict=True)))


def _run(strategy: Spread, window: Window, **extra: object) -> ServiceRun:
    result = simulate(strategy, DATA, window, frequency="weekly")
    return ServiceRun(window=window, result=result, heartbeats=[0.5, 0.7, 0.9],
                      **extra)  # type: ignore[arg-type]


def _judge(run: ServiceRun, policy: CanaryPolicy | None = None, *,
           reference: object = "same", promise: np.ndarray | None = None):
    ref = run.result if reference == "same" else reference
    return judge(run, data=DATA, reference=ref, promise=promise, risk=RISK,
                 policy=policy or CanaryPolicy(), reward_lambda=0.5, backend="process")


WINDOW = live_window(DATA, DATA.dates[-60].date(), 21)


def test_live_window_is_the_bars_after_the_clock() -> None:
    assert WINDOW is not None and WINDOW.start == DATA.dates[-59].date()
    assert WINDOW.end == DATA.dates[-39].date()
    assert live_window(DATA, DATA.dates[-1].date(), 21) is None  # nothing after the end
    short = live_window(DATA, DATA.dates[-3].date(), 21)
    assert short is not None and short.end == DATA.dates[-1].date()


def test_a_well_behaved_deployment_is_successful() -> None:
    record, verdict = _judge(_run(Spread(), WINDOW))
    assert verdict.grade == "successful", verdict.reasons
    assert record.bars == 21 and record.decisions >= 4 and record.tracking_error == 0.0
    assert record.metrics is not None and record.metrics.n_days == 21
    assert set(record.attribution) == {a.asset_class for a in DATA.assets}
    assert record.heartbeat_max_gap_s == pytest.approx(0.5)


def test_a_strategy_that_breaks_a_hard_limit_only_after_the_clock_fails() -> None:
    bomb = Spread(bomb_from=str(WINDOW.start + (WINDOW.end - WINDOW.start) / 2))
    before = Window(start=DATA.dates[300].date(), end=DATA.dates[-61].date())
    assert _judge(_run(bomb, before))[1].grade == "successful"  # every backtest is clean
    verdict = _judge(_run(bomb, WINDOW))[1]
    assert verdict.grade == "failed"
    failed = [c for c in verdict.checks if c.status == "fail"]
    assert {c.name for c in failed} == {"hard limits"}
    assert any("above the hard limit of 15% for one asset" in c.message for c in failed)


def test_errors_late_heartbeats_and_tracking_error_fail() -> None:
    run = _run(Spread(), WINDOW)
    crashed = ServiceRun(window=WINDOW, errors=["strategy failed in the sandbox: boom"])
    assert _judge(crashed)[1].grade == "failed"
    late = run.model_copy(update={"heartbeats": [0.5, 90.0]})
    [check] = [c for c in _judge(late)[1].checks if c.name == "heartbeat"]
    assert check.status == "fail" and check.value == pytest.approx(89.5)
    other = simulate(Spread(bomb_from=str(WINDOW.start)), DATA, WINDOW, frequency="weekly")
    assert tracking_error(run.result, other) > 0.01
    [te] = [c for c in _judge(run, reference=other)[1].checks if c.name == "tracking error"]
    assert te.status == "fail"


def test_drawdown_past_the_policy_fails_past_the_promise_is_inconclusive() -> None:
    run = _run(Spread(), WINDOW)
    drawdown = run.result.metrics.max_drawdown
    assert drawdown > 0
    strict = CanaryPolicy(max_drawdown=drawdown / 2)
    assert _judge(run, strict)[1].grade == "failed"
    calm = np.full(500, 0.0002)
    calm[::7] = -drawdown / 10  # the backtest never lost more than a fraction of it
    record, verdict = _judge(run, promise=calm)
    assert verdict.grade == "inconclusive"
    assert record.backtest_max_drawdown == pytest.approx(worst_stretch_drawdown(calm, 21))
    assert "worse than 1.5x the backtest's worst stretch" in verdict.reasons[0]


def test_too_few_bars_are_inconclusive() -> None:
    short = live_window(DATA, DATA.dates[-4].date(), 21)
    assert short is not None
    verdict = _judge(_run(Spread(), short))[1]
    assert verdict.grade == "inconclusive" and "only 3 live bars" in verdict.reasons[0]


def test_worst_stretch_drawdown_finds_the_worst_window() -> None:
    returns = np.array([0.01] * 10 + [-0.05, -0.05] + [0.01] * 10)
    assert worst_stretch_drawdown(returns, 5) == pytest.approx(1 - 0.95 * 0.95)
    assert worst_stretch_drawdown(np.array([0.01] * 30), 5) == 0.0


def test_the_service_stops_at_the_next_bar_once_halted(tmp_path: Path) -> None:
    asked = []

    def halted() -> str | None:
        asked.append(1)
        return "halted by Ada: exchange outage" if len(asked) >= 2 else None

    run = run_service(open_sandbox("process"), FIXTURE, tmp_path, DATA, WINDOW,
                      EvalSettings(reward_lambda=0.5), max_gap=60, halted=halted)
    assert run.result is None and len(run.heartbeats) == 2
    assert run.errors == ["halted: halted by Ada: exchange outage"]
    assert _judge(run)[1].grade == "failed"
