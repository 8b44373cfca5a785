"""Risk budgeting: weights whose risk contributions ``w_i (Sigma w)_i`` are in given
proportions ``b_i`` (equal proportions give equal risk contribution, "risk parity").

Without binding bounds the answer is unique and long-only (Spinu 2013): minimise the
strictly convex ``F(y) = 1/2 y'Sigma y - sum b_i log y_i``; at the minimiser
``y_i (Sigma y)_i = b_i``, and ``w = budget * y / sum(y)``.

With bounds we follow Richard & Roncalli (2019, "Constrained risk budgeting
portfolios"): for a scale ``theta``, minimise ``1/2 w'Sigma w - theta sum b_i log w_i``
over the box ``lower <= w <= upper``; every asset strictly inside its bounds then has
``w_i (Sigma w)_i = theta b_i`` exactly, an asset held at its cap contributes less and
one held at its floor more. The sum of the weights grows with ``theta``, which is found
by a bracketing root search so that the weights sum to the budget.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

__all__ = ["bounded_risk_budget_weights", "risk_budget_weights"]

_GAP_TOLERANCE = 1e-12


def risk_budget_weights(covariance: np.ndarray, budgets: np.ndarray, *,
                        max_iterations: int = 100) -> tuple[np.ndarray, bool, int]:
    """Long-only weights summing to one with risk contributions in proportions ``budgets``.

    Newton's method with a backtracking line search on Spinu's ``F``. Returns
    ``(weights, converged, iterations)``.
    """
    sigma = covariance / float(np.mean(np.diag(covariance)))
    y = budgets / np.sqrt(np.diag(sigma))
    y /= np.sqrt(y @ sigma @ y)
    with np.errstate(divide="ignore"):
        y, converged, iterations = _spinu_newton(sigma, budgets, y, max_iterations)
    return y / y.sum(), converged, iterations


def _spinu_newton(sigma: np.ndarray, budgets: np.ndarray, w: np.ndarray,
                  max_iterations: int) -> tuple[np.ndarray, bool, int]:
    """:func:`_box_newton` without bounds (``theta = 1``, no offset), step for step.

    With ``0 <= w <= inf`` no variable is ever held (the line search keeps every weight
    strictly positive), so the bound bookkeeping of the general loop drops out; what is
    left computes the same numbers with fewer array operations.
    """
    diagonal = slice(None, None, w.size + 1)  # the diagonal of the matrix, flattened

    def value(point: np.ndarray) -> float:
        return float(0.5 * point @ sigma @ point - budgets @ np.log(point))

    current = value(w)
    for iteration in range(1, max_iterations + 1):
        gradient = sigma @ w - budgets / w
        gap = float(np.max(np.abs(gradient * w)))
        if gap <= _GAP_TOLERANCE:
            return w, True, iteration
        hessian = sigma.copy()
        hessian.flat[diagonal] += budgets / w ** 2
        step = -np.linalg.solve(hessian, gradient)
        decrement = -float(gradient @ step)
        shrinking = step < 0.0
        alpha = 1.0
        if shrinking.any():  # stay strictly positive
            alpha = min(1.0, 0.99 * float(np.min(-w[shrinking] / step[shrinking])))
        while True:
            trial = w + alpha * step  # >= 0.01 w > 0 by the choice of alpha
            trial_value = value(trial)
            if decrement < 1e-12 or trial_value <= current - 1e-4 * alpha * decrement:
                break
            alpha *= 0.5
            if alpha < 1e-12:  # no representable decrease left
                return w, gap <= 1e-9, iteration
        w, current = trial, trial_value
    return w, False, max_iterations


def _box_newton(sigma: np.ndarray, budgets: np.ndarray, theta: float, lower: np.ndarray,
                upper: np.ndarray, offset: np.ndarray, start: np.ndarray,
                max_iterations: int) -> tuple[np.ndarray, bool, int]:
    """Minimise ``1/2 w'Sigma w + offset'w - theta b'log w`` over ``lower <= w <= upper``.

    Projected Newton (Bertsekas 1982): variables at a bound that the gradient pushes
    outwards are held; a Newton step is taken in the others, projected onto the box,
    with an Armijo backtracking search. ``lower`` must be >= 0; the logarithm keeps every
    weight positive.
    """
    # a weight held at a zero floor makes log(w) -inf: the objective is +inf there
    with np.errstate(divide="ignore"):
        return _newton_steps(sigma, budgets, theta, lower, upper, offset,
                             np.minimum(np.maximum(start, np.maximum(lower, 1e-300)), upper),
                             max_iterations)


def _newton_steps(sigma: np.ndarray, budgets: np.ndarray, theta: float, lower: np.ndarray,
                  upper: np.ndarray, offset: np.ndarray, w: np.ndarray,
                  max_iterations: int) -> tuple[np.ndarray, bool, int]:
    """The iterations of :func:`_box_newton` from the clipped start ``w``."""
    diagonal = slice(None, None, w.size + 1)  # the diagonal of the matrix, flattened

    def value(point: np.ndarray) -> float:
        return float(0.5 * point @ sigma @ point + offset @ point
                     - theta * budgets @ np.log(point))

    current = value(w)
    for iteration in range(1, max_iterations + 1):
        gradient = sigma @ w + offset - theta * budgets / w
        held = ((w <= lower) & (gradient > 0.0)) | ((w >= upper) & (gradient < 0.0))
        if held.any():
            free = ~held
            gap = float(np.max(np.abs(gradient[free] * w[free]), initial=0.0))
            if gap <= _GAP_TOLERANCE * theta:
                return w, True, iteration
            step = np.zeros_like(w)
            hessian = sigma[np.ix_(free, free)] + np.diag(theta * budgets[free] / w[free] ** 2)
            step[free] = -np.linalg.solve(hessian, gradient[free])
            decrement = -float(gradient[free] @ step[free])
        else:  # every variable free: the same steps without the index bookkeeping
            gap = float(np.max(np.abs(gradient * w)))
            if gap <= _GAP_TOLERANCE * theta:
                return w, True, iteration
            hessian = sigma.copy()
            hessian.flat[diagonal] += theta * budgets / w ** 2
            step = -np.linalg.solve(hessian, gradient)
            decrement = -float(gradient @ step)
        shrinking = step < 0.0
        alpha = 1.0
        guard = shrinking & (lower <= 0.0)
        if guard.any():  # stay strictly positive
            alpha = min(1.0, 0.99 * float(np.min(-w[guard] / step[guard])))
        while True:
            trial = np.minimum(np.maximum(w + alpha * step, lower), upper)
            trial_value = value(trial)
            if decrement < 1e-12 * theta or trial_value <= current - 1e-4 * alpha * decrement:
                break
            alpha *= 0.5
            if alpha < 1e-12:  # no representable decrease left
                return w, gap <= 1e-9 * theta, iteration
        w, current = trial, trial_value
    return w, False, max_iterations


def bounded_risk_budget_weights(
    covariance: np.ndarray,
    budgets: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    *,
    max_iterations: int = 100,
) -> tuple[np.ndarray, bool, str]:
    """Constrained risk budgeting weights summing to ``total``.

    Risk budgeting is long-only: negative lower bounds act as zero, and an asset whose
    upper bound is not positive is held at ``clip(0, lower, upper)``.
    Returns ``(weights, converged, message)``.
    """
    sigma = covariance / float(np.mean(np.diag(covariance)))
    pinned = upper <= 0.0
    weights = np.where(pinned, np.clip(0.0, lower, upper), 0.0)
    free = ~pinned
    lo = np.maximum(lower[free], 0.0)
    hi = upper[free]
    target = total - float(weights[pinned].sum())
    if not free.any() or lo.sum() > target or hi.sum() < target:
        return weights, False, ("risk budgeting is long-only and these bounds leave no "
                                "long-only portfolio that meets the budget")
    sub_sigma = sigma[np.ix_(free, free)]
    sub_budgets = budgets[free] / budgets[free].sum()
    offset = sigma[np.ix_(free, pinned)] @ weights[pinned]
    state = {"w": np.clip(target * sub_budgets, np.maximum(lo, 1e-12 * target), hi),
             "ok": True}

    def excess(log_theta: float) -> float:
        w, ok, _ = _box_newton(sub_sigma, sub_budgets, float(np.exp(log_theta)), lo, hi,
                               offset, state["w"], 200)
        state["w"], state["ok"] = w, state["ok"] and ok
        return float(w.sum()) - target

    # The unbounded solution's scale is a good first guess: sum(w) ~ sqrt(theta).
    low = high = 2.0 * float(np.log(target))
    for _ in range(60):
        if excess(low) <= 0.0:
            break
        low -= 2.0
    for _ in range(60):
        if excess(high) >= 0.0:
            break
        high += 2.0
    try:
        root = low if low == high else brentq(excess, low, high, xtol=1e-13,
                                              maxiter=max_iterations)
    except RuntimeError as error:
        return weights, False, f"root search for the risk scale failed: {error}"
    excess(root)
    weights[free] = state["w"]
    if not state["ok"]:
        return weights, False, "the inner Newton iteration did not converge"
    return weights, True, ""
