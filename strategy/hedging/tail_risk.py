"""Tail-risk assessment of a portfolio (spec 4.5.2).

The portfolio's daily returns over the risk model's window give historical VaR and
CVaR at 95% and 99%, skewness, raw kurtosis (3 for a normal distribution) and the
maximum drawdown of the path. Losses are reported as positive fractions. Without
enough history (see :data:`strategy.risk.model.MIN_OBSERVATIONS`) the figures are the
Gaussian ones implied by the model's covariance.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from strategy.managers.regime import tail_level
from strategy.records import TailRiskMetrics
from strategy.risk.model import MIN_OBSERVATIONS, RiskModel, quantile

__all__ = ["assess_tail_risk", "conditional_value_at_risk", "max_drawdown"]


def max_drawdown(returns: np.ndarray) -> float:
    """Largest peak-to-trough loss of the compounded path, as a positive fraction."""
    if returns.size == 0:
        return 0.0
    wealth = np.cumprod(1.0 + returns)
    peaks = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return float(max(0.0, np.max(1.0 - wealth / peaks)))


def _gaussian_tail(sigma: float, level: float) -> tuple[float, float]:
    z = float(stats.norm.ppf(level))
    return z * sigma, sigma * float(stats.norm.pdf(z)) / (1.0 - level)


def conditional_value_at_risk(model: RiskModel, w: np.ndarray, level: float = 0.95) -> float:
    """Daily CVaR (expected shortfall) of weights ``w`` as a positive loss."""
    if model.n_obs < MIN_OBSERVATIONS:
        return _gaussian_tail(float(np.sqrt(model.variance(w))), level)[1]
    r = model.portfolio_returns(w)
    cutoff = quantile(r, 1.0 - level)
    return float(max(0.0, -r[r <= cutoff].mean()))


def _skew_kurtosis(r: np.ndarray) -> tuple[float, float]:
    """Sample skewness and raw kurtosis (biased moments, as ``scipy.stats`` by default)."""
    deviations = r - r.mean()
    m2 = float(np.mean(deviations**2))
    if m2 <= 1e-20 + 1e-16 * float(r.mean()) ** 2:
        return 0.0, 3.0
    return (float(np.mean(deviations**3)) / m2**1.5, float(np.mean(deviations**4)) / m2**2)


def assess_tail_risk(model: RiskModel, w: np.ndarray, vix: float) -> TailRiskMetrics:
    """Tail-risk metrics of weights ``w`` (model order; the rest is cash)."""
    sigma = float(np.sqrt(model.variance(w)))
    if model.n_obs < MIN_OBSERVATIONS:
        var95, cvar95 = _gaussian_tail(sigma, 0.95)
        var99, cvar99 = _gaussian_tail(sigma, 0.99)
        skew, kurt, drawdown = 0.0, 3.0, 0.0
    else:
        r = model.portfolio_returns(w)
        q95, q99 = quantile(r, 0.05), quantile(r, 0.01)
        var95, var99 = max(0.0, -q95), max(0.0, -q99)
        cvar95 = max(0.0, -float(r[r <= q95].mean()))
        cvar99 = max(0.0, -float(r[r <= q99].mean()))
        skew, kurt = _skew_kurtosis(r)
        drawdown = max_drawdown(r)
    return TailRiskMetrics(
        vix=float(vix), vix_level=tail_level(vix), var_95=var95, var_99=var99,
        cvar_95=cvar95, cvar_99=cvar99, skewness=skew, kurtosis=kurt,
        max_drawdown=drawdown, annual_volatility=model.volatility(w), n_obs=model.n_obs,
    )
