"""FinSage optimiser library: one set of portfolio optimisers for the portfolio manager
and the hedging toolkit.

Call :func:`optimize` with a method name from :data:`METHODS`::

    result = optimize("risk_parity", covariance=cov, bounds=(0.0, 0.15), budget=0.95)
    result.weights, result.converged, result.fallback, result.message

Methods: mean-variance, minimum variance, maximum Sharpe, risk parity (risk budgeting),
Black-Litterman, maximum diversification, equal weight, inverse volatility, minimum CVaR,
hierarchical risk parity and robust (worst-case mean) optimisation. Every answer
satisfies the per-asset bounds and the budget; a method that cannot solve a problem
falls back to a simpler one and says so. Estimation helpers (Ledoit-Wolf and EWMA
covariance, positive-definite repair) and portfolio risk measures are exported too.

This package uses only numpy, scipy and the standard library, and does no I/O.
"""

from strategy.optimizers.api import (
    FALLBACK_METHODS,
    METHOD_ALIASES,
    METHODS,
    canonical_method,
    method_options,
    optimize,
)
from strategy.optimizers.black_litterman import black_litterman_posterior, market_implied_returns
from strategy.optimizers.estimation import (
    correlation_from_covariance,
    ewma_covariance,
    is_positive_definite,
    ledoit_wolf_shrinkage,
    mean_returns,
    nearest_positive_definite,
    sample_covariance,
    shrunk_covariance,
)
from strategy.optimizers.hrp import hrp_order, recursive_bisection
from strategy.optimizers.measures import (
    conditional_value_at_risk,
    diversification_ratio,
    portfolio_sharpe,
    portfolio_volatility,
    risk_contributions,
)
from strategy.optimizers.problem import resolve_bounds
from strategy.optimizers.projection import project_to_bounds, redistribute_to_bounds
from strategy.optimizers.result import OptimizationError, OptimizationResult

__all__ = [
    "FALLBACK_METHODS",
    "METHODS",
    "METHOD_ALIASES",
    "OptimizationError",
    "OptimizationResult",
    "black_litterman_posterior",
    "canonical_method",
    "conditional_value_at_risk",
    "correlation_from_covariance",
    "diversification_ratio",
    "ewma_covariance",
    "hrp_order",
    "is_positive_definite",
    "ledoit_wolf_shrinkage",
    "market_implied_returns",
    "mean_returns",
    "method_options",
    "nearest_positive_definite",
    "optimize",
    "portfolio_sharpe",
    "portfolio_volatility",
    "project_to_bounds",
    "recursive_bisection",
    "redistribute_to_bounds",
    "resolve_bounds",
    "risk_contributions",
    "sample_covariance",
    "shrunk_covariance",
]
