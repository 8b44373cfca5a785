"""Risk-MAS portfolio checks on the holdings a backtest produced.

Given the branch's simulated weights (every day of a window) and the market data, grade
the portfolio the way the Risk-MAS framework does: hard limits (single asset, asset
class, 95% VaR, compliance blocklist; :mod:`.limits`) block; volatility, correlation
clustering and the diversification ratio warn; concentration (HHI, top weight,
effective N) and liquidity (days to liquidate at a share of ADV, quoted spread) are
graded 0 pass, 1 warn, 2 restrict by the thresholds in ``policies/risk.toml``.
"""

from __future__ import annotations

import numpy as np

from alphaloop.checks.findings import Finding, Severity
from alphaloop.data.panel import MarketData
from alphaloop.harness import BacktestResult
from alphaloop.harness.metrics import annual_volatility
from alphaloop.policy.risk import RiskPolicy, Threshold
from alphaloop.roles.risk.limits import hard_limit_findings

__all__ = ["portfolio_findings", "summarise_holdings"]

_TOLERANCE = 1e-6


def _positions(result: BacktestResult, data: MarketData) -> tuple[np.ndarray, np.ndarray]:
    """Weights of the window and the matching rows of ``data``."""
    first = data.index_of(result.dates[0])
    rows = np.arange(first, first + len(result.dates))
    weights = np.asarray(result.weights)
    return weights, rows


def summarise_holdings(result: BacktestResult, data: MarketData) -> dict[str, float]:
    """Peak exposures of a run: largest asset weight, each class's total, gross."""
    weights, _ = _positions(result, data)
    classes = np.array([a.asset_class for a in data.assets])
    out: dict[str, float] = {}
    out["max_single_asset"] = float(weights.max()) if weights.size else 0.0
    for cls in sorted(set(classes)):
        out[f"class:{cls}"] = float(weights[:, classes == cls].sum(axis=1).max())
    out["gross"] = float(weights.sum(axis=1).max())
    return out


def _graded(check: str, name: str, value: float, threshold: Threshold, unit: str,
            evidence: dict[str, object]) -> Finding | None:
    grade = threshold.grade(value)
    if grade == 0:
        return None
    side = "above" if threshold.kind == "max" else "below"
    bound = threshold.restrict if grade == 2 else threshold.warn
    return Finding(check=check, severity=Severity(grade),
                   message=f"{name} {value:.3g}{unit} is {side} the "
                           f"{'restrict' if grade == 2 else 'warn'} level {bound:g}{unit}",
                   evidence={"value": value, **evidence})


def portfolio_findings(result: BacktestResult, data: MarketData, policy: RiskPolicy,
                       *, label: str) -> list[Finding]:
    """Every Risk-MAS finding for the holdings of ``result`` (a window of ``data``)."""
    weights, rows = _positions(result, data)
    tickers = data.tickers
    dates = [str(d) for d in result.dates]
    findings: list[Finding] = []
    hard = policy.hard_limits

    # -- hard limits on every decision: block ------------------------------------------
    findings += hard_limit_findings(result, data, policy, label=label)
    # Between rebalances weights drift with prices; a drift past a limit is worth a warning.
    day, col = np.unravel_index(int(np.argmax(weights)), weights.shape)
    drifted = float(weights[day, col])
    if drifted > hard.max_single_asset + 0.02:
        findings.append(Finding(
            check="risk.drift", severity=Severity.WARN,
            message=f"{tickers[col]} drifted to {drifted:.1%} on {dates[day]} ({label}) between "
                    "rebalances; a tighter rebalance threshold would keep it nearer the limit",
            evidence={"ticker": tickers[col], "date": dates[day], "weight": drifted}))
    returns = np.asarray(result.returns)

    # -- soft limits: warn ----------------------------------------------------------------
    soft = policy.soft_limits
    vol = float(annual_volatility(returns)) if len(returns) > 2 else 0.0
    if vol > soft.target_volatility:
        findings.append(Finding(
            check="risk.volatility", severity=Severity.WARN,
            message=f"annualised volatility over {label} is {vol:.1%}, above the "
                    f"{soft.target_volatility:.0%} target", evidence={"volatility": vol}))
    final = weights[-1]
    asset_returns = data.returns[rows]
    held = final > 1e-4
    if held.sum() >= 2:
        sub = asset_returns[:, held]
        vols = sub.std(axis=0, ddof=1)
        w = final[held] / final[held].sum()
        cov = np.cov(sub, rowvar=False)
        port_vol = float(np.sqrt(max(w @ cov @ w, 1e-18)))
        ratio = float(w @ vols / port_vol)
        if ratio < soft.min_diversification_ratio:
            findings.append(Finding(
                check="risk.diversification", severity=Severity.WARN,
                message=f"diversification ratio of the final holdings is {ratio:.2f}, below "
                        f"{soft.min_diversification_ratio:g}", evidence={"ratio": ratio}))
        corr = np.corrcoef(sub, rowvar=False)
        pair_w = np.outer(w, w)
        np.fill_diagonal(pair_w, 0.0)
        avg_corr = float((corr * pair_w).sum() / max(pair_w.sum(), 1e-12))
        if avg_corr > soft.max_correlation_cluster:
            findings.append(Finding(
                check="risk.correlation", severity=Severity.WARN,
                message=f"weighted average correlation of the holdings is {avg_corr:.2f}, "
                        f"above {soft.max_correlation_cluster:g}",
                evidence={"average_correlation": avg_corr}))

    # -- concentration and liquidity: graded ----------------------------------------------
    invested = final.sum()
    norm = final / invested if invested > 0 else final
    hhi = float((norm**2).sum())
    checks = policy.portfolio
    for finding in (
        _graded("risk.hhi", "HHI of the final holdings", hhi, checks.hhi, "", {}),
        _graded("risk.top_weight", "largest final weight", float(final.max()),
                checks.top_weight, "", {"ticker": tickers[int(np.argmax(final))]}),
        _graded("risk.effective_n", "effective number of holdings (1/HHI)",
                1.0 / hhi if hhi > 0 else 0.0, checks.effective_n, "", {}),
    ):
        if finding is not None:
            findings.append(finding)
    liquidity = policy.liquidity
    last = int(rows[-1])
    capital = result.config.initial_capital * (1 + float(np.prod(1 + returns) - 1))
    findings += _liquidity_findings(final, capital, data, last, policy, label)
    if "spread_bps" in data.fundamentals:
        spreads = np.nan_to_num(data.fundamentals["spread_bps"][last], nan=0.0)
        avg_spread = float((norm * spreads).sum())
        finding = _graded("risk.spread", "weighted quoted spread", avg_spread,
                          liquidity.spread_bps, " bps", {})
        if finding is not None:
            findings.append(finding)
    return findings


def _liquidity_findings(final: np.ndarray, capital: float, data: MarketData, last: int,
                        policy: RiskPolicy, label: str) -> list[Finding]:
    """Days to liquidate each holding at a share of its average daily traded value.

    The average is over the days of the ADV window that have a volume (a missing volume
    is unknown, a zero is a day without trades). A holding whose data has no volume, or
    no trade in the window, is *not assessed*: one warning says so, never an infinite
    figure and never a veto.
    """
    liquidity = policy.liquidity
    window = slice(max(0, last - liquidity.adv_days + 1), last + 1)
    traded = data.prices[window] * data.volumes[window]
    known = np.isfinite(traded)
    count = known.sum(axis=0)
    adv = np.where(known, traded, 0.0).sum(axis=0) / np.maximum(count, 1)
    held = final > 0
    assessed = held & (count > 0) & (adv > 0)
    out: list[Finding] = []
    unassessed = [data.tickers[j] for j in np.flatnonzero(held & ~assessed)]
    if unassessed:
        no_volume = [t for t in unassessed if count[data.tickers.index(t)] == 0]
        reason = ("the data has no volume for " + ", ".join(no_volume) if no_volume else
                  f"no trades were recorded in the last {liquidity.adv_days} days")
        out.append(Finding(
            check="risk.liquidity", severity=Severity.WARN,
            message=f"liquidity not assessed for {', '.join(unassessed)} ({label}): {reason}",
            evidence={"not_assessed": unassessed, "no_volume": no_volume}))
    if assessed.any():
        days = np.zeros_like(final)
        days[assessed] = final[assessed] * capital / (liquidity.participation_rate
                                                      * adv[assessed])
        worst = int(np.argmax(days))
        finding = _graded("risk.liquidity", f"days to liquidate {data.tickers[worst]}",
                          float(days[worst]), liquidity.days_to_liquidate, " days",
                          {"ticker": data.tickers[worst], "adv": float(adv[worst])})
        if finding is not None:
            out.append(finding)
    return out


def one_liquidity_warning(findings: list[Finding]) -> list[Finding]:
    """``findings`` with the "liquidity not assessed" warnings of several windows as one.

    Each window Risk checks finds the same missing volume; the review says so once,
    naming every asset and window concerned.
    """
    unassessed = [f for f in findings
                  if f.check == "risk.liquidity" and "not_assessed" in (f.evidence or {})]
    if len(unassessed) < 2:
        return findings
    tickers = sorted({t for f in unassessed for t in f.evidence["not_assessed"]})
    no_volume = sorted({t for f in unassessed for t in f.evidence.get("no_volume", [])})
    windows = [f.message.rsplit("(", 1)[-1].split(")", 1)[0] for f in unassessed]
    reason = ("the data has no volume for " + ", ".join(no_volume) if no_volume else
              "no trades were recorded in the volume window")
    merged = Finding(check="risk.liquidity", severity=Severity.WARN,
                     message=f"liquidity not assessed for {', '.join(tickers)} "
                             f"({', '.join(windows)}): {reason}",
                     evidence={"not_assessed": tickers, "no_volume": no_volume,
                               "windows": windows})
    first = findings.index(unassessed[0])
    rest = [f for f in findings if f not in unassessed]
    return [*rest[:first], merged, *rest[first:]]

