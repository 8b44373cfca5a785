"""Allocations driven by risk alone: equal weight, inverse volatility, risk parity and
maximum diversification. None of them needs expected returns.

- Equal weight: ``budget / n`` each; if bounds forbid that, the feasible portfolio
  nearest to it.
- Inverse volatility: ``w_i`` proportional to ``1 / sigma_i``, clipped to bounds with the
  excess redistributed proportionally.
- Risk parity (risk budgeting): each asset's risk contribution ``w_i (Sigma w)_i``
  proportional to its budget (equal by default). Solved exactly with Newton's method on
  Spinu's convex formulation ``min 1/2 y'Sigma y - sum b_i log y_i``; when the result
  breaks a bound, the feasible portfolio whose relative contributions are closest (least
  squares) to the budgets is found with SLSQP.
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
from strategy.optimizers.smooth import minimize_with_budget

__all__ = [
    "equal_weight",
    "inverse_volatility",
    "max_diversification",
    "risk_budget_weights",
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


def risk_budget_weights(covariance: np.ndarray, budgets: np.ndarray, *,
                        max_iterations: int = 100) -> tuple[np.ndarray, bool, int]:
    """Fully invested long-only weights whose risk contributions match ``budgets``.

    Newton's method with a backtracking line search on Spinu (2013)'s strictly convex
    ``F(y) = 1/2 y'Sigma y - sum b_i log y_i``; at its minimiser
    ``y_i (Sigma y)_i = b_i``, so ``w = y / sum(y)`` has risk contributions in the
    proportions ``b``. Returns ``(weights, converged, iterations)``.
    """
    scale = float(np.mean(np.diag(covariance)))
    sigma = covariance / scale
    vols = np.sqrt(np.diag(sigma))
    y = budgets / vols
    y /= np.sqrt(y @ sigma @ y)

    def value(point: np.ndarray) -> float:
        return float(0.5 * point @ sigma @ point - budgets @ np.log(point))

    current = value(y)
    for iteration in range(1, max_iterations + 1):
        gradient = sigma @ y - budgets / y
        gap = float(np.max(np.abs(gradient * y)))  # |y_i (Sigma y)_i - b_i|
        if gap <= 1e-12:
            return y / y.sum(), True, iteration
        hessian = sigma + np.diag(budgets / y**2)
        step = -np.linalg.solve(hessian, gradient)
        shrinking = step < 0.0
        alpha = min(1.0, 0.99 * float(np.min(-y[shrinking] / step[shrinking]))) if (
            shrinking.any()) else 1.0
        slope = float(gradient @ step)
        if -slope < 1e-10:  # Newton decrement tiny: quadratic convergence, take the step
            y = y + alpha * step
            current = value(y)
            continue
        while alpha > 1e-12:
            trial = y + alpha * step
            trial_value = value(trial)
            if trial_value <= current + 1e-4 * alpha * slope:
                break
            alpha *= 0.5
        else:  # no further decrease representable: settled if the gap is negligible
            return y / y.sum(), gap <= 1e-9, iteration
        y, current = trial, trial_value
    return y / y.sum(), False, max_iterations


def risk_parity(problem: Problem, *, risk_budgets: np.ndarray | None = None,
                initial_weights: np.ndarray | None = None,
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
    covariance = problem.covariance
    n_assets = problem.n_assets

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        marginal = covariance @ w
        variance = max(float(w @ marginal), 1e-300)
        contributions = w * marginal
        gap = contributions / variance - budgets
        value = float(gap @ gap)
        gradient = (2.0 * (gap * marginal + covariance @ (gap * w)) / variance
                    - 4.0 * float(gap @ contributions) * marginal / variance**2)
        return n_assets * value, n_assets * gradient

    start = redistribute_to_bounds(weights if initial_weights is None else initial_weights,
                                   problem.lower, problem.upper, problem.budget)
    solution = minimize_with_budget(objective, start, problem.lower, problem.upper,
                                    problem.budget, max_iterations=max_iterations)
    return MethodOutcome(solution.weights, solution.converged,
                         f"risk_parity: {solution.message}" if solution.message else
                         "risk_parity: bounds bind; risk contributions are as close to the "
                         "budgets as the bounds allow",
                         {"bounds_active": True, "iterations": solution.iterations})


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
                                   "diversification_ratio": solution.ratio})
