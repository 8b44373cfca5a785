"""Minimum CVaR over return scenarios (Rockafellar & Uryasev, 2000).

With equally likely scenarios ``r_t`` (rows of ``returns``) and confidence ``beta``, the
portfolio's CVaR (expected loss in the worst ``1 - beta`` of scenarios) is

    CVaR(w) = min_a  a + 1 / ((1 - beta) T) * sum_t max(0, -r_t'w - a)

and minimising it over ``w`` is a linear programme in ``(w, a, z)``:

    minimise    a + sum_t z_t / ((1 - beta) T)
    subject to  z_t >= -r_t'w - a,  z_t >= 0,  sum(w) = budget,  lower <= w <= upper
                (and mu'w >= target_return when a target is set)

That programme has one row per scenario. Its dual has one row per asset instead:

    maximise    nu * budget + lower's - upper't (+ q * target_return)
    subject to  R'p + nu + q mu + s - t = 0,  sum(p) = 1,
                0 <= p_t <= 1 / ((1 - beta) T),  s, t, q >= 0

(``p`` are the scenario probabilities of the worst-case distribution), which HiGHS's
dual simplex solves several times faster. The weights are the multipliers of its asset
rows. Strong duality certifies them: the CVaR of the recovered weights must equal the
dual optimum; if it does not, or the dual is not solved, the primal programme is solved
instead. Both go through :func:`scipy.optimize.linprog` (HiGHS).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import OptimizeResult, linprog

from strategy.optimizers.measures import conditional_value_at_risk
from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.result import OptimizationError

__all__ = ["min_cvar"]

_CERTIFICATE_TOLERANCE = 1e-9


def _solve_dual(scenarios: np.ndarray, problem: Problem, confidence: float,
                mu: np.ndarray | None, target: float | None) -> np.ndarray | None:
    """Weights from the dual programme, or ``None`` when they cannot be certified."""
    n_obs, n_assets = scenarios.shape
    cap = 1.0 / ((1.0 - confidence) * n_obs)
    with_target = target is not None and mu is not None
    n_columns = n_obs + 1 + 2 * n_assets + int(with_target)
    # Few rows (one per asset, plus one): a dense matrix is the quickest to hand over.
    equalities = np.zeros((n_assets + 1, n_columns))
    equalities[:n_assets, :n_obs] = -scenarios.T
    equalities[:n_assets, n_obs] = -1.0
    diagonal = np.arange(n_assets)
    equalities[diagonal, n_obs + 1 + diagonal] = -1.0
    equalities[diagonal, n_obs + 1 + n_assets + diagonal] = 1.0
    equalities[n_assets, :n_obs] = 1.0
    cost = np.concatenate([np.zeros(n_obs), [-problem.budget], -problem.lower, problem.upper])
    bounds = np.empty((n_columns, 2))
    bounds[:n_obs] = (0.0, cap)
    bounds[n_obs] = (-np.inf, np.inf)
    bounds[n_obs + 1:] = (0.0, np.inf)
    if with_target:
        equalities[:n_assets, -1] = -mu
        cost = np.concatenate([cost, [-float(target)]])
    result = linprog(cost, A_eq=equalities, b_eq=np.concatenate([np.zeros(n_assets), [1.0]]),
                     bounds=bounds, method="highs-ds", options={"presolve": False})
    if result.status != 0 or result.eqlin is None:
        return None
    weights = np.asarray(result.eqlin.marginals[:n_assets], dtype=float)
    feasible = (np.all(weights >= problem.lower - 1e-9)
                and np.all(weights <= problem.upper + 1e-9)
                and abs(weights.sum() - problem.budget) <= 1e-9
                and (not with_target or mu @ weights >= target - 1e-9))
    value = conditional_value_at_risk(weights, scenarios, confidence=confidence)
    scale = max(abs(value), float(np.max(np.abs(scenarios))) * 1e-3)
    if not feasible or abs(value + result.fun) > _CERTIFICATE_TOLERANCE * scale:
        return None
    return weights


def _solve_primal(scenarios: np.ndarray, problem: Problem, confidence: float,
                  mu: np.ndarray | None, target: float | None) -> OptimizeResult:
    n_obs, n_assets = scenarios.shape
    cost = np.concatenate([np.zeros(n_assets), [1.0],
                           np.full(n_obs, 1.0 / ((1.0 - confidence) * n_obs))])
    shortfall = sparse.hstack([sparse.csr_matrix(-scenarios),
                               sparse.csr_matrix(-np.ones((n_obs, 1))),
                               -sparse.identity(n_obs, format="csr")], format="csr")
    rhs = np.zeros(n_obs)
    if target is not None and mu is not None:
        target_row = sparse.csr_matrix(np.concatenate([-mu, np.zeros(n_obs + 1)])[None, :])
        shortfall = sparse.vstack([shortfall, target_row], format="csr")
        rhs = np.concatenate([rhs, [-float(target)]])
    budget_row = sparse.csr_matrix(np.concatenate([np.ones(n_assets),
                                                   np.zeros(n_obs + 1)])[None, :])
    bounds = ([(float(lo), float(hi)) for lo, hi in zip(problem.lower, problem.upper,
                                                         strict=True)]
              + [(None, None)] + [(0.0, None)] * n_obs)
    return linprog(cost, A_ub=shortfall, b_ub=rhs, A_eq=budget_row, b_eq=[problem.budget],
                   bounds=bounds, method="highs")


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
    mu = None
    if target_return is not None:
        mu = problem.expected_returns if problem.expected_returns is not None else (
            scenarios.mean(axis=0))
    weights = _solve_dual(scenarios, problem, confidence, mu, target_return)
    programme = "dual"
    if weights is None:
        result = _solve_primal(scenarios, problem, confidence, mu, target_return)
        if result.status != 0 or result.x is None:
            return MethodOutcome(np.full(n_assets, problem.budget / n_assets), False,
                                 f"cvar: linear programme not solved ({result.message})")
        weights, programme = np.asarray(result.x[:n_assets], dtype=float), "primal"
    details = {"cvar": conditional_value_at_risk(weights, scenarios, confidence=confidence),
               "confidence": confidence, "scenarios": n_obs, "programme": programme}
    return MethodOutcome(weights, True, "", details)
