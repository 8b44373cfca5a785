"""An exact solver for the quadratic programmes behind mean-variance style methods.

Solves ``minimise 1/2 w'Qw - c'w  subject to  sum(w) = budget, lower <= w <= upper``
for a symmetric positive-definite ``Q`` with a primal active-set method (Nocedal & Wright,
*Numerical Optimization*, algorithm 16.3): variables are split into free ones and ones
held at a bound; each iteration solves the small equality-constrained system for the
free variables, steps towards it until a bound blocks, and releases a held variable whose
multiplier has the wrong sign. With only box constraints and one equality, each step is
a linear solve of at most ``n + 1`` unknowns, and the answer satisfies the KKT conditions
to rounding, which a general-purpose solver would only approach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategy.optimizers.projection import project_to_bounds

__all__ = ["QPSolution", "solve_budget_qp"]

_AT_BOUND = 1e-14
_KKT_TOLERANCE = 1e-11


@dataclass(frozen=True)
class QPSolution:
    """The minimiser, whether optimality was reached, and the work it took."""

    weights: np.ndarray
    converged: bool
    iterations: int
    budget_multiplier: float


def _equality_optimum(q: np.ndarray, c: np.ndarray, budget: float) -> np.ndarray:
    """Minimiser with only the budget constraint (closed form through the KKT system)."""
    n = c.size
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n] = q
    kkt[:n, n] = 1.0
    kkt[n, :n] = 1.0
    rhs = np.concatenate([c, [budget]])
    return np.linalg.solve(kkt, rhs)[:n]


def _solve_free(q: np.ndarray, c: np.ndarray, w: np.ndarray, free: np.ndarray,
                budget: float) -> tuple[np.ndarray, float]:
    held = ~free
    rows = q[free]
    k = rows.shape[0]
    kkt = np.empty((k + 1, k + 1))
    kkt[:k, :k] = rows[:, free]
    kkt[:k, k] = -1.0
    kkt[k, :k] = 1.0
    kkt[k, k] = 0.0
    rhs = np.empty(k + 1)
    rhs[:k] = c[free] - rows[:, held] @ w[held]
    rhs[k] = budget - w[held].sum()
    solution = np.linalg.solve(kkt, rhs)
    return solution[:k], float(solution[k])


def solve_budget_qp(
    q: np.ndarray,
    c: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    budget: float,
    *,
    initial: np.ndarray | None = None,
    max_iterations: int | None = None,
) -> QPSolution:
    """Minimise ``1/2 w'Qw - c'w`` over ``{sum(w) = budget, lower <= w <= upper}``.

    Args:
        q: symmetric positive-definite ``[n, n]`` matrix.
        c: linear term (``n``).
        lower, upper: feasible per-asset bounds.
        budget: required sum of the weights.
        initial: optional warm start (e.g. the previous decision's weights); projected
            onto the feasible set first.
        max_iterations: cap on active-set iterations (default ``10 n + 50``).
    """
    n = c.size
    scale = float(np.mean(np.diag(q))) or 1.0
    q = q / scale
    c = c / scale
    start = _equality_optimum(q, c, budget) if initial is None else np.asarray(initial, float)
    feasible = (np.all(start >= lower) and np.all(start <= upper)
                and abs(float(start.sum()) - budget) <= 1e-13)
    w = start.copy() if feasible else project_to_bounds(start, lower, upper, budget)
    fixed = lower == upper
    at_lower = fixed | (w <= lower + _AT_BOUND)
    at_upper = ~at_lower & (w >= upper - _AT_BOUND)
    free = ~(at_lower | at_upper)
    if not free.any():
        release = np.flatnonzero(~fixed)
        if release.size == 0:
            return QPSolution(w, True, 0, 0.0)
        free[release[0]] = True
        at_lower[release[0]] = at_upper[release[0]] = False
    limit = 10 * n + 50 if max_iterations is None else max_iterations
    tolerance = _KKT_TOLERANCE * (1.0 + float(np.max(np.abs(c))))
    multiplier = 0.0
    for iteration in range(1, limit + 1):
        target, multiplier = _solve_free(q, c, w, free, budget)
        step = target - w[free]
        if step.size == 1 or np.max(np.abs(step)) <= 1e-13 * (1.0 + float(np.max(np.abs(w)))):
            w[free] = target
            reduced = q @ w - c - multiplier
            violation = np.where(at_lower & ~fixed, -reduced, 0.0)
            violation = np.where(at_upper & ~fixed, reduced, violation)
            worst = int(np.argmax(violation))
            if violation[worst] <= tolerance:
                return QPSolution(np.clip(w, lower, upper), True, iteration, multiplier * scale)
            free[worst] = True
            at_lower[worst] = at_upper[worst] = False
            continue
        index = np.flatnonzero(free)
        current = w[index]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(step < 0.0, (lower[index] - current) / step,
                              np.where(step > 0.0, (upper[index] - current) / step, np.inf))
        blocking = int(np.argmin(ratios))
        alpha = min(1.0, max(float(ratios[blocking]), 0.0))
        w[index] = current + alpha * step
        if alpha < 1.0:
            hit = index[blocking]
            free[hit] = False
            if step[blocking] < 0.0:
                w[hit], at_lower[hit] = lower[hit], True
            else:
                w[hit], at_upper[hit] = upper[hit], True
    return QPSolution(np.clip(w, lower, upper), False, limit, multiplier * scale)
