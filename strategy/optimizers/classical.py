"""Markowitz family: mean-variance, minimum variance and maximum Sharpe ratio.

Mean-variance and minimum variance are quadratic programmes solved exactly by
:func:`strategy.optimizers.qp.solve_budget_qp`. Maximum Sharpe uses the tangency
portfolio ``Sigma^-1 (mu - rf)`` when it satisfies the bounds, and otherwise
:func:`strategy.optimizers.ratio.maximize_ratio` (a short sequence of those programmes).
"""

from __future__ import annotations

import numpy as np

from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.qp import solve_budget_qp
from strategy.optimizers.ratio import maximize_ratio
from strategy.optimizers.result import OptimizationError

__all__ = ["max_sharpe", "mean_variance", "min_variance", "require_expected_returns"]

_INSIDE = 1e-12


def require_expected_returns(problem: Problem, method: str) -> np.ndarray:
    """The problem's expected returns, or a clear error naming the method that needs them."""
    if problem.expected_returns is None:
        raise OptimizationError(
            f"{method} needs expected_returns (one per asset); pass them to optimize()"
        )
    return problem.expected_returns


def _qp_outcome(problem: Problem, q: np.ndarray, c: np.ndarray,
                initial_weights: np.ndarray | None, max_iterations: int | None,
                label: str) -> MethodOutcome:
    solution = solve_budget_qp(q, c, problem.lower, problem.upper, problem.budget,
                               initial=initial_weights, max_iterations=max_iterations)
    if not solution.converged:
        return MethodOutcome(solution.weights, False,
                             f"{label}: active-set QP hit its limit of "
                             f"{solution.iterations} iterations")
    return MethodOutcome(solution.weights, True, "", {"iterations": solution.iterations})


def mean_variance(problem: Problem, *, risk_aversion: float = 1.0,
                  initial_weights: np.ndarray | None = None,
                  max_iterations: int | None = None) -> MethodOutcome:
    """Maximise ``mu'w - risk_aversion / 2 * w'Sigma w`` within bounds and budget."""
    mu = require_expected_returns(problem, "mean_variance")
    if not risk_aversion > 0.0:
        raise OptimizationError(f"risk_aversion must be positive; got {risk_aversion}")
    return _qp_outcome(problem, risk_aversion * problem.covariance, mu, initial_weights,
                       max_iterations, "mean_variance")


def min_variance(problem: Problem, *, initial_weights: np.ndarray | None = None,
                 max_iterations: int | None = None) -> MethodOutcome:
    """Minimise ``w'Sigma w`` within bounds and budget (closed form when no bound binds)."""
    return _qp_outcome(problem, problem.covariance, np.zeros(problem.n_assets),
                       initial_weights, max_iterations, "min_variance")


def _within(weights: np.ndarray, problem: Problem) -> bool:
    return bool(np.all(weights >= problem.lower - _INSIDE)
                and np.all(weights <= problem.upper + _INSIDE))


def max_sharpe(problem: Problem, *, risk_free: float = 0.0,
               initial_weights: np.ndarray | None = None,
               max_iterations: int | None = None) -> MethodOutcome:
    """Maximise ``(mu - rf)'w / sqrt(w'Sigma w)`` within bounds and budget.

    The uninvested part of the budget is cash earning ``risk_free``. Needs at least one
    asset expected to beat the risk-free rate; otherwise asks for a fallback.
    """
    mu = require_expected_returns(problem, "max_sharpe")
    excess = mu - risk_free
    if np.max(excess) <= 0.0:
        return MethodOutcome(np.full(problem.n_assets, problem.budget / problem.n_assets),
                             False, "max_sharpe: no asset is expected to beat the risk-free "
                             "rate, so the maximum Sharpe portfolio is undefined")
    direction = np.linalg.solve(problem.covariance, excess)
    candidates = [np.full(problem.n_assets, problem.budget / problem.n_assets),
                  np.where(excess == excess.max(), problem.budget, 0.0)]
    if direction.sum() > 0.0:
        tangency = problem.budget * direction / direction.sum()
        if _within(tangency, problem):
            return MethodOutcome(tangency, True, "", {"closed_form": True})
        candidates.append(tangency)
    if initial_weights is not None:
        candidates.append(initial_weights)
    solution = maximize_ratio(excess, problem.covariance, problem.lower, problem.upper,
                              problem.budget, candidates=candidates,
                              max_iterations=max_iterations)
    if solution is None:
        return MethodOutcome(candidates[0], False,
                             "max_sharpe: no feasible portfolio has a positive excess return")
    return MethodOutcome(solution.weights, solution.converged,
                         f"max_sharpe: {solution.message}" if solution.message else "",
                         {"closed_form": False, "iterations": solution.iterations,
                          "sharpe": float(solution.ratio)})
