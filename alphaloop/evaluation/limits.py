"""The hard limits of ``policies/risk.toml``, checked on every decision of a run.

One asset, one asset class, the one-day 95% VaR and the compliance blocklist are checked
on every target a strategy decided in a window. Risk applies them to its backtests
(in-sample, held-out and each stress scenario), the SRE's canary to what a deployment
decided live: a strategy that breaks a limit only after its deploy date is caught there.
"""

from __future__ import annotations

import numpy as np

from alphaloop.checks.findings import Finding, Severity
from alphaloop.data.panel import MarketData
from alphaloop.harness import BacktestResult
from alphaloop.harness.metrics import value_at_risk
from alphaloop.policy.risk import RiskPolicy

__all__ = ["decided_targets", "hard_limit_findings", "var_95"]

_TOLERANCE = 1e-6


def decided_targets(result: BacktestResult) -> tuple[np.ndarray, list[str]]:
    """Every target weight the run decided ``[decision, asset]``, and the decision dates
    (the first day's weights when it decided nothing)."""
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
    targets, dates = decided_targets(result)
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
