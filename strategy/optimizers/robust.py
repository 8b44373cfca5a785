"""Robust mean-variance: guard against errors in the expected returns.

Expected returns are estimated with large error. Instead of trusting ``mu``, assume the
true mean lies in the ellipsoid ``{m : (m - mu)' Omega^-1 (m - mu) <= kappa^2}`` and
maximise the *worst-case* mean-variance utility over it (Goldfarb & Iyengar 2003;
Ceria & Stubbs 2006). The worst case has a closed form, leaving the convex problem

    maximise  mu'w - kappa * sqrt(w' Omega w) - risk_aversion / 2 * w' Sigma w

solved by a minorise-maximise iteration of exact quadratic programmes: at ``w_k``,
``sqrt(w'Omega w) <= (w'Omega w / s_k + s_k) / 2`` with ``s_k = sqrt(w_k'Omega w_k)``,
so each step is mean-variance with the covariance ``risk_aversion Sigma +
(kappa / s_k) Omega`` and never lowers the worst-case utility. The fixed point is a
root of a scalar equation in ``kappa / s``, so steps are accelerated by the secant rule,
kept only when they raise the utility; SLSQP finishes the job if the iteration has not
settled. ``Omega`` is the covariance of the mean
estimate, ``Sigma / T`` by default (``T`` observations). ``kappa = 0`` is plain
mean-variance; as ``kappa`` grows the return term stops mattering and, with
``Omega`` proportional to ``Sigma``, the answer tends to the minimum-variance portfolio.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from strategy.optimizers.classical import mean_variance, require_expected_returns
from strategy.optimizers.estimation import nearest_positive_definite
from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.qp import solve_budget_qp
from strategy.optimizers.result import OptimizationError
from strategy.optimizers.smooth import kkt_violation, minimize_with_budget, secant_level

__all__ = ["DEFAULT_OBSERVATIONS", "robust"]

DEFAULT_OBSERVATIONS = 252
"""Observations behind the mean when neither ``returns`` nor ``n_observations`` say."""

_STEP_TOLERANCE = 1e-11
_KKT_TOLERANCE = 1e-6


def _mean_covariance(problem: Problem, mean_covariance: object | None,
                     n_observations: int | None) -> tuple[np.ndarray, str]:
    n_assets = problem.n_assets
    if mean_covariance is not None:
        omega = np.asarray(mean_covariance, dtype=float)
        if omega.shape != (n_assets, n_assets) or not np.all(np.isfinite(omega)):
            raise OptimizationError(
                f"mean_covariance (Omega) must be a finite [{n_assets}, {n_assets}] matrix; "
                f"got shape {omega.shape}"
            )
        return nearest_positive_definite(omega), "given"
    if n_observations is None:
        n_observations = (problem.returns.shape[0] if problem.returns is not None
                          else DEFAULT_OBSERVATIONS)
    if n_observations < 1:
        raise OptimizationError(f"n_observations must be at least 1; got {n_observations}")
    return problem.covariance / n_observations, f"covariance / {n_observations}"


def robust(
    problem: Problem,
    *,
    risk_aversion: float = 1.0,
    uncertainty: float = 1.0,
    mean_covariance: object | None = None,
    n_observations: int | None = None,
    initial_weights: np.ndarray | None = None,
    max_iterations: int | None = None,
) -> MethodOutcome:
    """Worst-case mean-variance over an ellipsoid of radius ``uncertainty`` around ``mu``."""
    mu = require_expected_returns(problem, "robust")
    if not uncertainty >= 0.0:
        raise OptimizationError(f"uncertainty (kappa) must be >= 0; got {uncertainty}")
    omega, omega_source = _mean_covariance(problem, mean_covariance, n_observations)
    base = mean_variance(problem, risk_aversion=risk_aversion, initial_weights=initial_weights,
                         max_iterations=max_iterations)
    details = {"uncertainty": uncertainty, "mean_covariance": omega_source}
    if uncertainty == 0.0 or not base.converged:
        return MethodOutcome(base.weights, base.converged,
                             base.message.replace("mean_variance", "robust"), details)
    covariance = problem.covariance
    w = base.weights
    objective = _worst_case_objective(mu, covariance, omega, risk_aversion, uncertainty, w)
    value = objective(w)[0]
    limit = 200 if max_iterations is None else max_iterations
    iteration, settled = 0, False
    weight = _penalty_weight(uncertainty, omega, w)
    previous: tuple[float, float] | None = None  # (penalty weight, gap) of the last step
    while iteration < limit and not settled:
        iteration += 1
        step = solve_budget_qp(risk_aversion * covariance + weight * omega, mu, problem.lower,
                               problem.upper, problem.budget, initial=w)
        if not step.converged:
            break
        new_value = objective(step.weights)[0]
        if new_value > value + 1e-13 * abs(value):
            if previous is None:  # a plain step can only lose to rounding: at the optimum
                settled = True
                break
            weight, previous = _penalty_weight(uncertainty, omega, w), None
            continue  # the extrapolated step overshot; retake a plain step from the best
        settled = float(np.max(np.abs(step.weights - w))) <= _STEP_TOLERANCE
        w, value = step.weights, new_value
        implied = _penalty_weight(uncertainty, omega, w)
        gap = implied - weight
        previous, weight = (weight, gap), secant_level(weight, gap, implied, previous)
    details["iterations"] = iteration
    if settled and kkt_violation(objective(w)[1], w, problem.lower,
                                 problem.upper) <= _KKT_TOLERANCE:
        return MethodOutcome(w, True, "", details)
    polished = minimize_with_budget(objective, w, problem.lower, problem.upper,
                                    problem.budget, max_iterations=max_iterations)
    message = "" if polished.converged else (
        f"robust: iteration did not settle in {iteration} steps; {polished.message}")
    return MethodOutcome(polished.weights, polished.converged, message, details)


def _penalty_weight(uncertainty: float, omega: np.ndarray, w: np.ndarray) -> float:
    """``kappa / s``: the weight on ``Omega`` in the minorising quadratic at ``w``."""
    return uncertainty / max(float(np.sqrt(max(w @ omega @ w, 0.0))), 1e-300)


def _worst_case_objective(
    mu: np.ndarray, covariance: np.ndarray, omega: np.ndarray, risk_aversion: float,
    uncertainty: float, start: np.ndarray,
) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Negative worst-case utility and its gradient, scaled to be of order one."""
    scale = (abs(float(mu @ start)) + uncertainty * float(np.sqrt(max(start @ omega @ start, 0)))
             + 0.5 * risk_aversion * float(start @ covariance @ start)) or 1.0

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        spread = omega @ w
        width = float(np.sqrt(max(w @ spread, 1e-300)))
        marginal = covariance @ w
        value = -mu @ w + uncertainty * width + 0.5 * risk_aversion * float(w @ marginal)
        gradient = -mu + uncertainty * spread / width + risk_aversion * marginal
        return float(value) / scale, gradient / scale

    return objective
