"""Black-Litterman: blend the market's implied returns with explicit views, then
optimise mean-variance on the blended (posterior) returns and covariance.

1. Prior: the returns that make the market (equilibrium) weights optimal for an
   investor with risk aversion ``delta``: ``pi = delta * Sigma * w_mkt``.
2. Views: ``P mu = Q + e`` with ``e ~ N(0, Omega)``; ``P`` is ``[view, asset]`` (a row
   of ``+1`` on one asset is an absolute view, ``+1/-1`` a relative one). When ``Omega``
   is omitted it is ``diag(P tau Sigma P')`` (He & Litterman), i.e. each view is as
   uncertain as the prior on the same portfolio.
3. Posterior: ``mu_BL = pi + tau Sigma P' (P tau Sigma P' + Omega)^-1 (Q - P pi)`` and
   ``Sigma_BL = Sigma + M`` with ``M = tau Sigma - tau Sigma P' (P tau Sigma P' +
   Omega)^-1 P tau Sigma`` (the uncertainty left in the mean).
4. Weights: mean-variance on ``(mu_BL, Sigma_BL)`` with the same ``delta``, within the
   bounds and budget.
"""

from __future__ import annotations

import numpy as np

from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.qp import solve_budget_qp
from strategy.optimizers.result import OptimizationError

__all__ = ["black_litterman", "black_litterman_posterior", "market_implied_returns"]


def market_implied_returns(covariance: np.ndarray, market_weights: np.ndarray,
                           risk_aversion: float = 2.5) -> np.ndarray:
    """Equilibrium returns ``delta * Sigma * w_mkt`` implied by the market weights."""
    if not risk_aversion > 0.0:
        raise OptimizationError(f"risk_aversion must be positive; got {risk_aversion}")
    return risk_aversion * np.asarray(covariance, float) @ np.asarray(market_weights, float)


def _views(view_matrix: object, view_returns: object, view_uncertainty: object | None,
           n_assets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    p = np.atleast_2d(np.asarray(view_matrix, dtype=float))
    q = np.atleast_1d(np.asarray(view_returns, dtype=float))
    if p.shape[1] != n_assets or q.shape != (p.shape[0],):
        raise OptimizationError(
            f"views do not fit: view_matrix (P) has shape {p.shape} and view_returns (Q) "
            f"shape {q.shape}; P must be [views, {n_assets}] and Q hold one value per view"
        )
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))):
        raise OptimizationError("view_matrix and view_returns must hold finite numbers")
    if view_uncertainty is None:
        return p, q, None
    omega = np.asarray(view_uncertainty, dtype=float)
    if omega.ndim == 1:
        omega = np.diag(omega)
    k = p.shape[0]
    if omega.shape != (k, k) or not np.all(np.isfinite(omega)):
        raise OptimizationError(
            f"view_uncertainty (Omega) must be a finite [{k}, {k}] matrix or {k} variances; "
            f"got shape {omega.shape}"
        )
    if np.any(np.diag(omega) < 0.0):
        raise OptimizationError("view_uncertainty (Omega) must have non-negative variances")
    return p, q, omega


def black_litterman_posterior(
    covariance: np.ndarray,
    prior_returns: np.ndarray,
    *,
    view_matrix: object | None = None,
    view_returns: object | None = None,
    view_uncertainty: object | None = None,
    tau: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior ``(mean, covariance)`` of returns given the prior and the views.

    Without views the posterior mean is the prior and the covariance ``(1 + tau) Sigma``.
    """
    sigma = np.asarray(covariance, dtype=float)
    pi = np.asarray(prior_returns, dtype=float)
    if not tau > 0.0:
        raise OptimizationError(f"tau must be positive; got {tau}")
    prior_cov = tau * sigma
    if view_matrix is None and view_returns is None:
        return pi.copy(), sigma + prior_cov
    if view_matrix is None or view_returns is None:
        raise OptimizationError("pass both view_matrix (P) and view_returns (Q), or neither")
    p, q, omega = _views(view_matrix, view_returns, view_uncertainty, sigma.shape[0])
    projected = p @ prior_cov @ p.T
    if omega is None:
        omega = np.diag(np.diag(projected))
    system = projected + omega
    try:
        gain = np.linalg.solve(system, p @ prior_cov).T  # tau Sigma P' (P tau Sigma P' + Omega)^-1
    except np.linalg.LinAlgError as error:
        raise OptimizationError(
            "views are redundant or contradictory with zero uncertainty: "
            "P tau Sigma P' + Omega is singular; drop duplicate views or give them "
            "positive uncertainty"
        ) from error
    mean = pi + gain @ (q - p @ pi)
    residual = prior_cov - gain @ p @ prior_cov
    posterior_cov = sigma + 0.5 * (residual + residual.T)
    return mean, posterior_cov


def black_litterman(
    problem: Problem,
    *,
    market_weights: np.ndarray | None = None,
    risk_aversion: float = 2.5,
    tau: float = 0.05,
    view_matrix: object | None = None,
    view_returns: object | None = None,
    view_uncertainty: object | None = None,
    initial_weights: np.ndarray | None = None,
    max_iterations: int | None = None,
) -> MethodOutcome:
    """Black-Litterman weights within bounds and budget.

    ``market_weights`` default to equal weights summing to the budget. When no views are
    given but the problem has ``expected_returns``, those are taken as absolute views on
    every asset (``P = I``, ``Q = expected_returns``, ``Omega`` by He-Litterman).
    """
    n_assets = problem.n_assets
    if market_weights is None:
        market = np.full(n_assets, problem.budget / n_assets)
    else:
        market = np.asarray(market_weights, dtype=float)
        if market.shape != (n_assets,) or not np.all(np.isfinite(market)):
            raise OptimizationError(
                f"market_weights must be {n_assets} finite numbers; got shape {market.shape}"
            )
    if view_matrix is None and view_returns is None and problem.expected_returns is not None:
        view_matrix, view_returns = np.eye(n_assets), problem.expected_returns
    prior = market_implied_returns(problem.covariance, market, risk_aversion)
    mean, covariance = black_litterman_posterior(
        problem.covariance, prior, view_matrix=view_matrix, view_returns=view_returns,
        view_uncertainty=view_uncertainty, tau=tau)
    solution = solve_budget_qp(risk_aversion * covariance, mean, problem.lower, problem.upper,
                               problem.budget, initial=initial_weights,
                               max_iterations=max_iterations)
    details = {"prior_returns": prior.tolist(), "posterior_returns": mean.tolist(),
               "views": 0 if view_matrix is None else int(np.atleast_2d(view_matrix).shape[0])}
    if not solution.converged:
        return MethodOutcome(solution.weights, False, "black_litterman: active-set QP hit its "
                             f"limit of {solution.iterations} iterations", details)
    return MethodOutcome(solution.weights, True, "", details)
