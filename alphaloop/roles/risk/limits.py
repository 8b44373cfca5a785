"""Hard limits on every decision of a window, exposures, and decision identity.

The hard limits of ``policies/risk.toml`` (one asset, one asset class, the one-day 95%
VaR, the compliance blocklist; :mod:`alphaloop.evaluation.limits`) are checked on every
target the strategy decided in a window - in-sample, held-out and each stress scenario
alike - so a strategy that breaks a limit only when volatility spikes is caught in the
scenario that makes it spike.
Inside a stress scenario the VaR of any portfolio rises; there the VaR limit blocks only
a branch whose VaR is above the limit *and* above ``main``'s in the same scenario.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from alphaloop.checks.findings import Finding, Severity
from alphaloop.data.panel import MarketData
from alphaloop.evaluation.limits import decided_targets, hard_limit_findings, var_95
from alphaloop.harness import BacktestResult
from alphaloop.records import RunMetrics
from alphaloop.roles.risk._format import beside

__all__ = ["decisions_identical", "drawdown_finding", "exposure_profile",
           "hard_limit_findings", "var_95"]


def exposure_profile(results: list[tuple[BacktestResult, MarketData]]) -> dict[str, float]:
    """Peak decided exposures over runs: ``gross`` risky weight and each risky
    ``class:<name>`` (risky: any class but ``cash``), the largest over every decision of
    every run."""
    out: dict[str, float] = {}
    for result, data in results:
        targets, _ = decided_targets(result)
        classes = np.array([data.assets[data.tickers.index(t)].asset_class
                            for t in result.tickers])
        risky = classes != "cash"
        gross = float(np.abs(targets[:, risky]).sum(axis=1).max()) if targets.size else 0.0
        out["gross"] = max(gross, out.get("gross", 0.0))
        for cls in sorted(set(classes) - {"cash"}):
            peak = float(targets[:, classes == cls].sum(axis=1).max()) if targets.size else 0.0
            out[f"class:{cls}"] = max(peak, out.get(f"class:{cls}", 0.0))
    return out


def decisions_identical(branch: BacktestResult, main: BacktestResult) -> bool:
    """Whether two runs decided exactly the same targets on the same dates.

    Equal decisions on equal data give equal returns, so a branch identical to ``main``
    on a window *is* ``main`` there.
    """
    a, b = branch.decision_log, main.decision_log
    return (a.dates == b.dates and branch.tickers == main.tickers
            and np.array_equal(np.asarray(a.targets), np.asarray(b.targets)))


def drawdown_finding(branch: Mapping[str, RunMetrics], main: Mapping[str, RunMetrics],
                     trigger: float) -> Finding:
    """Realised max drawdown of branch and main per window against the de-risking
    trigger; a warning where the branch goes past it (the trigger should have held)."""
    parts, over = [], []
    for label in branch:
        b = branch[label].max_drawdown
        m = main[label].max_drawdown if label in main else float("nan")
        parts.append(f"{label.replace('_', '-')} {beside(b, trigger)} (main "
                     f"{beside(m, trigger)})")
        if b > trigger:
            over.append(label.replace("_", "-"))
    return Finding(
        check="risk.drawdown", severity=Severity.WARN if over else Severity.PASS,
        message=f"realised max drawdown against the {trigger:.0%} de-risking trigger: "
                + "; ".join(parts)
                + (f"; the branch goes past the trigger in {', '.join(over)}" if over else ""),
        evidence={"trigger": trigger,
                  "branch": {k: v.max_drawdown for k, v in branch.items()},
                  "main": {k: v.max_drawdown for k, v in main.items()}})
