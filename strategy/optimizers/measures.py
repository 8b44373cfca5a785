"""Risk and efficiency measures of a weight vector, shared by optimisers and their callers.

All take weights in covariance order and per-period inputs; nothing is annualised here.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "conditional_value_at_risk",
    "diversification_ratio",
    "portfolio_sharpe",
    "portfolio_volatility",
    "risk_contributions",
]


def portfolio_volatility(weights: np.ndarray, covariance: np.ndarray) -> float:
    """``sqrt(w' Sigma w)``."""
    w = np.asarray(weights, dtype=float)
    return float(np.sqrt(max(float(w @ np.asarray(covariance, dtype=float) @ w), 0.0)))


def risk_contributions(weights: np.ndarray, covariance: np.ndarray, *,
                       relative: bool = False) -> np.ndarray:
    """Euler risk contributions ``w_i (Sigma w)_i / sigma_p``; they sum to ``sigma_p``.

    With ``relative=True`` each is divided by ``sigma_p`` so they sum to one.
    """
    w = np.asarray(weights, dtype=float)
    marginal = np.asarray(covariance, dtype=float) @ w
    variance = float(w @ marginal)
    if variance <= 0.0:
        return np.zeros_like(w)
    contributions = w * marginal / np.sqrt(variance)
    return contributions / np.sqrt(variance) if relative else contributions


def diversification_ratio(weights: np.ndarray, covariance: np.ndarray) -> float:
    """Weighted average volatility over portfolio volatility, ``w'sigma / sqrt(w'Sigma w)``."""
    w = np.asarray(weights, dtype=float)
    vols = np.sqrt(np.diag(np.asarray(covariance, dtype=float)))
    volatility = portfolio_volatility(w, covariance)
    return float(w @ vols / volatility) if volatility > 0.0 else float("nan")


def portfolio_sharpe(weights: np.ndarray, expected_returns: np.ndarray,
                     covariance: np.ndarray, *, risk_free: float = 0.0) -> float:
    """Ex-ante Sharpe ratio ``(mu - rf)'w / sqrt(w'Sigma w)`` (uninvested weight earns rf)."""
    w = np.asarray(weights, dtype=float)
    volatility = portfolio_volatility(w, covariance)
    excess = float((np.asarray(expected_returns, dtype=float) - risk_free) @ w)
    return excess / volatility if volatility > 0.0 else float("nan")


def conditional_value_at_risk(weights: np.ndarray, returns: np.ndarray, *,
                              confidence: float = 0.95) -> float:
    """Historical CVaR (expected shortfall) of the portfolio loss over return scenarios.

    Uses the Rockafellar-Uryasev definition, ``min_a a + E[(loss - a)+] / (1 - beta)``,
    which for equally likely scenarios counts the quantile scenario fractionally. A
    positive number is a loss (fraction of capital per period).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    losses = np.sort(-(np.asarray(returns, dtype=float) @ np.asarray(weights, dtype=float)))
    n = losses.size
    beyond = np.concatenate([np.cumsum(losses[::-1])[::-1][1:], [0.0]])
    counts = np.arange(n - 1, -1, -1, dtype=float)
    objective = losses + (beyond - counts * losses) / ((1.0 - confidence) * n)
    return float(np.min(objective))
