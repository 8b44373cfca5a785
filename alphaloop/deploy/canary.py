"""Canary analysis: does the deployment do live what its backtest promised?

Each check compares the live record with a bound of ``policies/deploy.toml`` or
``policies/risk.toml``:

- **errors**: the service crashed, hung, broke a sandbox limit or answered invalid weights;
- **hard limits**: every live decision within the risk policy's hard limits;
- **heartbeat**: no wait for an answer longer than the policy allows;
- **tracking error**: the live returns against the trusted backtest of the same commit
  over the same bars (the deployment must behave as the code that was reviewed);
- **drawdown**: the live loss within ``max_drawdown`` (else failed), and within
  ``drawdown_vs_backtest`` times the worst loss the backtest showed over a stretch of the
  same length (else inconclusive: worse than promised, for a human to judge);
- **bars**: enough live bars to judge at all (else inconclusive).

Any failed check fails the deployment; otherwise any inconclusive one makes it
inconclusive; otherwise it is successful.
"""

from __future__ import annotations

import numpy as np

from alphaloop.data.panel import MarketData
from alphaloop.deploy.service import ServiceRun
from alphaloop.evaluation import run_metrics
from alphaloop.evaluation.attribution import attribution
from alphaloop.evaluation.limits import hard_limit_findings
from alphaloop.harness import BacktestResult
from alphaloop.harness.metrics import max_drawdown
from alphaloop.policy.deploy import CanaryPolicy
from alphaloop.policy.risk import RiskPolicy
from alphaloop.records import CanaryCheck, CanaryVerdict, LiveRecord
from alphaloop.records.deploy import Grade

__all__ = ["grade_of", "judge", "tracking_error", "worst_stretch_drawdown"]

_PERIODS = 252.0


def tracking_error(live: BacktestResult, reference: BacktestResult) -> float:
    """Annualised standard deviation of the daily difference of two runs' returns."""
    a, b = np.asarray(live.returns), np.asarray(reference.returns)
    n = min(len(a), len(b))
    if n < 2:
        return 0.0
    return float(np.std(a[:n] - b[:n], ddof=1) * np.sqrt(_PERIODS))


def worst_stretch_drawdown(returns: np.ndarray, length: int) -> float:
    """The worst drawdown inside any ``length`` consecutive days of ``returns``."""
    r = np.asarray(returns, dtype=float)
    if len(r) == 0:
        return 0.0
    length = max(2, min(length, len(r)))
    return max(float(max_drawdown(r[i:i + length])) for i in range(len(r) - length + 1))


def grade_of(checks: list[CanaryCheck]) -> Grade:
    if any(c.status == "fail" for c in checks):
        return "failed"
    if any(c.status == "inconclusive" for c in checks):
        return "inconclusive"
    return "successful"


def judge(run: ServiceRun, *, data: MarketData, reference: BacktestResult | None,
          promise: np.ndarray | None, risk: RiskPolicy, policy: CanaryPolicy,
          reward_lambda: float, backend: str) -> tuple[LiveRecord, CanaryVerdict]:
    """The live record of ``run`` and the canary's verdict on it.

    ``reference`` is the trusted backtest of the same commit over the same bars;
    ``promise`` the in-sample returns the commit's review was based on.
    """
    result = run.result
    checks: list[CanaryCheck] = []
    bars = len(result.dates) if result is not None else 0
    if run.errors:
        checks.append(CanaryCheck(name="errors", status="fail",
                                  message="the service failed: " + "; ".join(run.errors)))
    else:
        checks.append(CanaryCheck(name="errors", status="pass", message="no errors"))
    gap = run.max_gap
    if gap is not None:
        late = gap > policy.max_heartbeat_gap_seconds
        checks.append(CanaryCheck(
            name="heartbeat", status="fail" if late else "pass", value=gap,
            bound=policy.max_heartbeat_gap_seconds,
            message=f"the longest wait for an answer was {gap:.1f} s"
                    + (f", above the {policy.max_heartbeat_gap_seconds:g} s allowed"
                       if late else "")))
    live_te: float | None = None
    promised: float | None = None
    metrics = None
    by_class: dict[str, float] = {}
    if result is not None:
        for finding in hard_limit_findings(result, data, risk, label="live"):
            checks.append(CanaryCheck(name="hard limits", status="fail",
                                      message=finding.message))
        if not any(c.name == "hard limits" for c in checks):
            checks.append(CanaryCheck(name="hard limits", status="pass",
                                      message="every live decision within the hard limits"))
        metrics = run_metrics(result, "live", reward_lambda)
        by_class = attribution(result, data)["asset_class"]
        if reference is not None:
            live_te = tracking_error(result, reference)
            off = live_te > policy.max_tracking_error
            checks.append(CanaryCheck(
                name="tracking error", status="fail" if off else "pass", value=live_te,
                bound=policy.max_tracking_error,
                message=f"tracking error against the backtest of the same commit "
                        f"{live_te:.2%} a year" + (f", above {policy.max_tracking_error:.2%}"
                                                   if off else "")))
        drawdown = float(metrics.max_drawdown)
        promised = worst_stretch_drawdown(promise, bars) if promise is not None else None
        checks.append(_drawdown_check(drawdown, promised, policy))
    if bars < policy.min_bars and not run.errors:
        checks.append(CanaryCheck(
            name="bars", status="inconclusive", value=float(bars), bound=float(policy.min_bars),
            message=f"only {bars} live bars, fewer than the {policy.min_bars} needed to judge"))
    verdict = CanaryVerdict(grade=grade_of(checks), checks=checks)
    record = LiveRecord(
        start=run.window.start, end=run.window.end, bars=bars,
        decisions=len(result.decision_log) if result is not None else 0, metrics=metrics,
        attribution=by_class, heartbeat_max_gap_s=gap, errors=list(run.errors),
        tracking_error=live_te, backtest_max_drawdown=promised, backend=backend,
        isolation=run.isolation)
    return record, verdict


def _drawdown_check(drawdown: float, promised: float | None,
                    policy: CanaryPolicy) -> CanaryCheck:
    if drawdown > policy.max_drawdown:
        return CanaryCheck(name="drawdown", status="fail", value=drawdown,
                           bound=policy.max_drawdown,
                           message=f"live drawdown {drawdown:.2%}, above the "
                                   f"{policy.max_drawdown:.0%} the policy allows")
    if promised is not None and drawdown > policy.drawdown_vs_backtest * promised:
        return CanaryCheck(name="drawdown", status="inconclusive", value=drawdown,
                           bound=policy.drawdown_vs_backtest * promised,
                           message=f"live drawdown {drawdown:.2%}, worse than "
                                   f"{policy.drawdown_vs_backtest:g}x the backtest's worst "
                                   f"stretch of the same length ({promised:.2%})")
    return CanaryCheck(name="drawdown", status="pass", value=drawdown,
                       bound=policy.max_drawdown,
                       message=f"live drawdown {drawdown:.2%}, within what was promised")
