"""Allocations driven by risk alone: equal weight, inverse volatility, risk parity and
maximum diversification. None of them needs expected returns.

- Equal weight: ``budget / n`` each; if bounds forbid that, the feasible portfolio
  nearest to it.
- Inverse volatility: ``w_i`` proportional to ``1 / sigma_i``, clipped to bounds with the
  excess redistributed proportionally.
- Risk parity (risk budgeting): each asset's risk contribution ``w_i (Sigma w)_i``
  proportional to its budget (equal by default); with binding bounds, the assets inside
  their bounds keep that property (see :mod:`strategy.optimizers.risk_budgeting`).
- Maximum diversification (Choueifaty): maximise ``w'sigma / sqrt(w'Sigma w)``. For
  long-only bounds this is the minimum-variance portfolio of the correlation matrix
  rescaled by ``1 / sigma``; when that breaks a bound, the ratio is maximised directly
  by :func:`strategy.optimizers.ratio.maximize_ratio`.
"""

from __future__ import annotations

import numpy as np

from strategy.optimizers.estimation import correlation_from_covariance
from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.projection import project_to_bounds, redistribute_to_bounds
from strategy.optimizers.qp import solve_budget_qp
from strategy.optimizers.ratio import maximize_ratio
from strategy.optimizers.result import OptimizationError
from strategy.optimizers.risk_budgeting import (
    bounded_risk_budget_weights,
    risk_budget_weights,
)

__all__ = [
    "equal_weight",
    "inverse_volatility",
    "max_diversification",
    "risk_parity",
]

_INSIDE = 1e-12


def _within(weights: np.ndarray, problem: Problem) -> bool:
    return bool(np.all(weights >= problem.lower - _INSIDE)
                and np.all(weights <= problem.upper + _INSIDE))


def equal_weight(problem: Problem) -> MethodOutcome:
    """``budget / n`` per asset, or the nearest feasible portfolio to it."""
    target = np.full(problem.n_assets, problem.budget / problem.n_assets)
    return MethodOutcome(project_to_bounds(target, problem.lower, problem.upper,
                                           problem.budget))


def inverse_volatility(problem: Problem) -> MethodOutcome:
    """Weights proportional to ``1 / sigma_i``, scaled to the budget within bounds."""
    inverse = 1.0 / problem.volatilities
    raw = problem.budget * inverse / inverse.sum()
    return MethodOutcome(redistribute_to_bounds(raw, problem.lower, problem.upper,
                                                problem.budget))


def _checked_budgets(risk_budgets: np.ndarray | None, n_assets: int) -> np.ndarray:
    if risk_budgets is None:
        return np.full(n_assets, 1.0 / n_assets)
    budgets = np.asarray(risk_budgets, dtype=float)
    if budgets.shape != (n_assets,) or not np.all(np.isfinite(budgets)) or np.any(
            budgets <= 0.0):
        raise OptimizationError(
            f"risk_budgets must be {n_assets} positive finite numbers (one per asset); "
            f"got {np.asarray(risk_budgets).tolist()}"
        )
    return budgets / budgets.sum()


def risk_parity(problem: Problem, *, risk_budgets: np.ndarray | None = None,
                max_iterations: int | None = None) -> MethodOutcome:
    """Risk contributions proportional to ``risk_budgets`` (equal when omitted)."""
    budgets = _checked_budgets(risk_budgets, problem.n_assets)
    weights, converged, iterations = risk_budget_weights(problem.covariance, budgets)
    if not converged:
        return MethodOutcome(problem.budget * weights, False,
                             f"risk_parity: Newton's method did not converge in {iterations} "
                             "iterations")
    weights = problem.budget * weights
    if _within(weights, problem):
        return MethodOutcome(weights, True, "", {"bounds_active": False})
    weights, converged, message = bounded_risk_budget_weights(
        problem.covariance, budgets, problem.lower, problem.upper, problem.budget,
        max_iterations=100 if max_iterations is None else max_iterations)
    if not converged:
        return MethodOutcome(weights, False, f"risk_parity: {message}")
    return MethodOutcome(weights, True, "risk_parity: bounds bind; assets inside their "
                         "bounds share risk in the budgeted proportions",
                         {"bounds_active": True})


def max_diversification(problem: Problem, *, initial_weights: np.ndarray | None = None,
                        max_iterations: int | None = None) -> MethodOutcome:
    """Maximise the diversification ratio ``w'sigma / sqrt(w'Sigma w)``."""
    correlation, vols = correlation_from_covariance(problem.covariance)
    n_assets = problem.n_assets
    core = solve_budget_qp(correlation, np.zeros(n_assets), np.zeros(n_assets),
                           np.ones(n_assets), 1.0)
    candidate = core.weights / vols
    candidate = problem.budget * candidate / candidate.sum()
    if core.converged and np.all(problem.lower >= 0.0) and _within(candidate, problem):
        return MethodOutcome(candidate, True, "", {"closed_form": True})
    candidates = [candidate] if initial_weights is None else [candidate, initial_weights]
    solution = maximize_ratio(vols, problem.covariance, problem.lower, problem.upper,
                              problem.budget, candidates=candidates,
                              max_iterations=max_iterations)
    if solution is None:
        return MethodOutcome(candidate, False, "max_diversification: no feasible portfolio has "
                             "a positive weighted-average volatility")
    return MethodOutcome(solution.weights, solution.converged,
                         f"max_diversification: {solution.message}" if solution.message
                         else "", {"closed_form": False, "iterations": solution.iterations,
                                   "diversification_ratio": float(solution.ratio)})
