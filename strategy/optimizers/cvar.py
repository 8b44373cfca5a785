"""Minimum CVaR over return scenarios (Rockafellar & Uryasev, 2000).

With equally likely scenarios ``r_t`` (rows of ``returns``) and confidence ``beta``, the
portfolio's CVaR (expected loss in the worst ``1 - beta`` of scenarios) is

    CVaR(w) = min_a  a + 1 / ((1 - beta) T) * sum_t max(0, -r_t'w - a)

and minimising it over ``w`` is a linear programme in ``(w, a, z)``:

    minimise    a + sum_t z_t / ((1 - beta) T)
    subject to  z_t >= -r_t'w - a,  z_t >= 0,  sum(w) = budget,  lower <= w <= upper
                (and mu'w >= target_return when a target is set)

solved with HiGHS through :func:`scipy.optimize.linprog`. At the optimum ``a`` is the VaR.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.result import OptimizationError

__all__ = ["min_cvar"]


def min_cvar(problem: Problem, *, confidence: float = 0.95,
             target_return: float | None = None) -> MethodOutcome:
    """Weights minimising the historical CVaR of ``problem.returns`` at ``confidence``.

    ``target_return`` (per period) adds ``mu'w >= target_return``, with ``mu`` the
    problem's expected returns or, when absent, the scenario mean.
    """
    if problem.returns is None:
        raise OptimizationError(
            "cvar needs return scenarios: pass returns= as a [scenario, asset] array "
            "(e.g. the lookback window's daily returns)"
        )
    if not 0.0 < confidence < 1.0:
        raise OptimizationError(f"confidence must lie in (0, 1); got {confidence}")
    scenarios = problem.returns
    n_obs, n_assets = scenarios.shape
    cost = np.concatenate([np.zeros(n_assets), [1.0],
                           np.full(n_obs, 1.0 / ((1.0 - confidence) * n_obs))])
    shortfall = sparse.hstack([sparse.csr_matrix(-scenarios),
                               sparse.csr_matrix(-np.ones((n_obs, 1))),
                               -sparse.identity(n_obs, format="csr")], format="csr")
    rhs = np.zeros(n_obs)
    if target_return is not None:
        mu = problem.expected_returns if problem.expected_returns is not None else (
            scenarios.mean(axis=0))
        target_row = sparse.csr_matrix(np.concatenate([-mu, np.zeros(n_obs + 1)])[None, :])
        shortfall = sparse.vstack([shortfall, target_row], format="csr")
        rhs = np.concatenate([rhs, [-float(target_return)]])
    budget_row = sparse.csr_matrix(np.concatenate([np.ones(n_assets),
                                                   np.zeros(n_obs + 1)])[None, :])
    variable_bounds = ([(float(lo), float(hi)) for lo, hi in zip(problem.lower, problem.upper,
                                                                  strict=True)]
                       + [(None, None)] + [(0.0, None)] * n_obs)
    result = linprog(cost, A_ub=shortfall, b_ub=rhs, A_eq=budget_row, b_eq=[problem.budget],
                     bounds=variable_bounds, method="highs")
    if result.status != 0 or result.x is None:
        return MethodOutcome(np.full(n_assets, problem.budget / n_assets), False,
                             f"cvar: linear programme not solved ({result.message})")
    weights = np.asarray(result.x[:n_assets], dtype=float)
    details = {"cvar": float(result.fun), "var": float(result.x[n_assets]),
               "confidence": confidence, "scenarios": n_obs}
    return MethodOutcome(weights, True, "", details)
