"""Hard limits on every decision of a window, exposures, and decision identity.

The hard limits of ``policies/risk.toml`` (one asset, one asset class, the one-day 95%
VaR, the compliance blocklist) are checked on every target the strategy decided in a
window - in-sample, held-out and each stress scenario alike - so a strategy that breaks
a limit only when volatility spikes is caught in the scenario that makes it spike.
Inside a stress scenario the VaR of any portfolio rises; there the VaR limit blocks only
a branch whose VaR is above the limit *and* above ``main``'s in the same scenario.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from alphaloop.checks.findings import Finding, Severity
from alphaloop.data.panel import MarketData
from alphaloop.harness import BacktestResult
from alphaloop.harness.metrics import value_at_risk
from alphaloop.policy.risk import RiskPolicy
from alphaloop.records import RunMetrics
from alphaloop.roles.risk._format import beside

__all__ = ["decisions_identical", "drawdown_finding", "exposure_profile",
           "hard_limit_findings", "var_95"]

_TOLERANCE = 1e-6


def _targets(result: BacktestResult) -> tuple[np.ndarray, list[str]]:
    log = result.decision_log
    if len(log):
        return np.asarray(log.targets), [str(d) for d in log.dates]
    return np.asarray(result.weights)[:1], [str(d) for d in result.dates[:1]]


def var_95(result: BacktestResult) -> float:
    """One-day historical 95% VaR of the window's returns (0 below 21 days)."""
    returns = np.asarray(result.returns)
    return float(value_at_risk(returns, 0.05)) if len(returns) > 20 else 0.0


def hard_limit_findings(result: BacktestResult, data: MarketData, policy: RiskPolicy, *,
                        label: str, main: BacktestResult | None = None) -> list[Finding]:
    """Blocking findings for every hard limit ``result`` breaks in window ``label``.

    ``main`` is ``main``'s run of the same window; when given (stress scenarios), the
    VaR limit blocks only a branch whose VaR is also above ``main``'s.
    """
    hard = policy.hard_limits
    targets, dates = _targets(result)
    tickers = list(result.tickers)
    classes = np.array([data.assets[data.tickers.index(t)].asset_class for t in tickers])
    findings: list[Finding] = []
    day, col = np.unravel_index(int(np.argmax(targets)), targets.shape)
    top = float(targets[day, col])
    if top > hard.max_single_asset + _TOLERANCE:
        findings.append(Finding(
            check="risk.single_asset", severity=Severity.BLOCK,
            message=f"the strategy put {top:.2%} in {tickers[col]} on {dates[day]} "
                    f"({label}), above the hard limit of {hard.max_single_asset:.0%} for one "
                    "asset", evidence={"ticker": tickers[col], "date": dates[day],
                                       "weight": top, "window": label}))
    for cls in sorted(set(classes) - {"cash"}):
        per_day = targets[:, classes == cls].sum(axis=1)
        worst = int(np.argmax(per_day))
        if per_day[worst] > hard.max_asset_class + _TOLERANCE:
            findings.append(Finding(
                check="risk.asset_class", severity=Severity.BLOCK,
                message=f"the strategy put {per_day[worst]:.2%} in {cls} on {dates[worst]} "
                        f"({label}), above the hard limit of {hard.max_asset_class:.0%} for "
                        "one class",
                evidence={"asset_class": cls, "date": dates[worst],
                          "weight": float(per_day[worst]), "window": label}))
    var = var_95(result)
    main_var = var_95(main) if main is not None else None
    if var > hard.max_portfolio_var_95 + _TOLERANCE and (main_var is None
                                                         or var > main_var + _TOLERANCE):
        than_main = f", and above main's {main_var:.3%}" if main_var is not None else ""
        findings.append(Finding(
            check="risk.var", severity=Severity.BLOCK,
            message=f"one-day 95% VaR over {label} is {var:.3%}, above the hard limit of "
                    f"{hard.max_portfolio_var_95:.0%}{than_main}",
            evidence={"var_95": var, "main_var_95": main_var, "window": label}))
    for ticker in policy.compliance.blocklist:
        if ticker in tickers:
            held = targets[:, tickers.index(ticker)]
            if (held > 0).any():
                first = int(np.argmax(held > 0))
                findings.append(Finding(
                    check="risk.compliance", severity=Severity.BLOCK,
                    message=f"{ticker} is on the compliance blocklist but the strategy "
                            f"bought it on {dates[first]} ({label})",
                    evidence={"ticker": ticker, "window": label}))
    return findings


def exposure_profile(results: list[tuple[BacktestResult, MarketData]]) -> dict[str, float]:
    """Peak decided exposures over runs: ``gross`` risky weight and each risky
    ``class:<name>`` (risky: any class but ``cash``), the largest over every decision of
    every run."""
    out: dict[str, float] = {}
    for result, data in results:
        targets, _ = _targets(result)
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
