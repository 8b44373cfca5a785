"""Smooth non-quadratic objectives over the budget-and-bounds set, solved with SLSQP.

The ratio (maximum Sharpe, maximum diversification) and robust methods are solved by
sequences of exact quadratic programmes; when such a sequence has not settled they hand
their objective, with its analytic gradient, to :func:`minimize_with_budget` to finish.
Success is judged by first-order optimality (:func:`kkt_violation`) rather than by the
solver's own status alone, so a run that stops at the optimum for lack of further
progress in floating point still counts as converged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, OptimizeResult, minimize

from strategy.optimizers.projection import project_to_bounds

__all__ = ["SmoothSolution", "kkt_violation", "minimize_with_budget", "secant_level"]

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
_AT_BOUND = 1e-8
_KKT_TOLERANCE = 1e-5
_RUNS = 2  # a restart refreshes SLSQP's curvature estimate when it stops a little short


@dataclass(frozen=True)
class SmoothSolution:
    """Outcome of one SLSQP run: feasible weights and whether they are a stationary point."""

    weights: np.ndarray
    converged: bool
    message: str
    iterations: int


def kkt_violation(gradient: np.ndarray, weights: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray) -> float:
    """How far ``weights`` are from first-order optimality of a minimisation.

    At a minimiser over ``{sum(w) = b, lower <= w <= upper}`` some ``nu`` makes
    ``g_i = nu`` for assets strictly inside their bounds, ``g_i >= nu`` at a lower bound
    and ``g_i <= nu`` at an upper bound. Returns the largest breach for the best ``nu``
    (0 at an exact optimum), in the gradient's units: scale the objective to be of
    order one for the number to be comparable across problems.
    """
    g = np.asarray(gradient, dtype=float)
    width = np.maximum(upper - lower, 1.0)
    at_lower = weights <= lower + _AT_BOUND * width
    at_upper = ~at_lower & (weights >= upper - _AT_BOUND * width)
    pinned = lower == upper
    free = ~(at_lower | at_upper)
    low_side = g[at_lower & ~pinned]
    high_side = g[at_upper & ~pinned]
    floor = float(np.max(high_side)) if high_side.size else -np.inf  # nu must be >= this
    ceiling = float(np.min(low_side)) if low_side.size else np.inf  # nu must be <= this
    if free.any():
        g_free = g[free]
        nu = float(np.clip(0.5 * (g_free.max() + g_free.min()), floor, ceiling)) if (
            floor <= ceiling) else 0.5 * (floor + ceiling)
        breach = max(float(np.max(np.abs(g_free - nu))),
                     max(floor - nu, 0.0) if np.isfinite(floor) else 0.0,
                     max(nu - ceiling, 0.0) if np.isfinite(ceiling) else 0.0)
    else:
        breach = max(floor - ceiling, 0.0) / 2.0 if np.isfinite(floor - ceiling) else 0.0
    return breach


def minimize_with_budget(
    objective: Objective,
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    budget: float,
    *,
    max_iterations: int | None = None,
    tolerance: float = 1e-12,
) -> SmoothSolution:
    """Minimise ``objective`` (value and gradient) over the budget-and-bounds set.

    The objective should be scaled to be of order one near ``start``; ``tolerance`` is
    SLSQP's ``ftol`` on that scale. When SLSQP reports success short of first-order
    optimality it is restarted once from where it stopped.
    """
    weights = project_to_bounds(start, lower, upper, budget)
    limit = 200 if max_iterations is None else max_iterations
    iterations, message = 0, ""
    for _ in range(_RUNS):
        try:
            result = _slsqp(objective, weights, lower, upper, budget, limit - iterations,
                            tolerance)
        except (ValueError, np.linalg.LinAlgError) as error:
            return SmoothSolution(weights, False, f"SLSQP failed: {error}", iterations)
        iterations += int(result.nit)
        candidate = np.asarray(result.x, dtype=float)
        if not np.all(np.isfinite(candidate)):
            return SmoothSolution(weights, False, "SLSQP returned non-finite weights "
                                  f"({result.message})", iterations)
        weights = project_to_bounds(candidate, lower, upper, budget)
        violation = kkt_violation(objective(weights)[1], weights, lower, upper)
        if violation <= _KKT_TOLERANCE and result.status in (0, 8):
            return SmoothSolution(weights, True, "", iterations)
        message = (f"SLSQP stopped without reaching an optimum ({result.message}; "
                   f"first-order violation {violation:.2g})")
        if result.status not in (0, 8) or iterations >= limit:
            break
    return SmoothSolution(weights, False, message, iterations)


def _slsqp(objective: Objective, start: np.ndarray, lower: np.ndarray, upper: np.ndarray,
           budget: float, max_iterations: int, tolerance: float) -> OptimizeResult:
    ones = np.ones_like(start)
    constraint = {"type": "eq", "fun": lambda w: np.array([w.sum() - budget]),
                  "jac": lambda w: ones[None, :]}
    return minimize(objective, start, jac=True, method="SLSQP", bounds=Bounds(lower, upper),
                    constraints=[constraint],
                    options={"maxiter": max(max_iterations, 1), "ftol": tolerance})


def secant_level(level: float, gap: float, implied: float,
                 previous: tuple[float, float] | None) -> float:
    """The next guess for a positive fixed point ``level = implied(level)``.

    ``gap`` is ``implied - level`` at the current guess and ``previous`` the (level, gap)
    pair before it. The secant through the two pairs finds where the gap vanishes; without
    a usable secant (first step, flat gap, or a non-positive root) the implied level is
    taken as the next guess.
    """
    if previous is not None and gap != previous[1]:
        secant = level - gap * (level - previous[0]) / (gap - previous[1])
        if np.isfinite(secant) and secant > 0.0:
            return secant
    return implied
