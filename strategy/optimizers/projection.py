"""Making weights feasible: within per-asset bounds and summing to the budget.

Two ways, for two purposes:

- :func:`project_to_bounds` finds the feasible portfolio nearest (Euclidean) to a
  candidate: ``w_i = clip(v_i - t, lower_i, upper_i)`` with the shift ``t`` chosen so the
  weights sum to the budget. It is exact (the sum is piecewise linear in ``t``) and is the
  final clean-up applied to every optimiser's answer.
- :func:`redistribute_to_bounds` keeps the *proportions* of a long-only candidate (as
  heuristic methods such as HRP or inverse volatility want): weights beyond a bound are
  clipped to it and the excess or shortfall is shared among the other assets in
  proportion to their weights, repeated until nothing moves.

Both expect feasible bounds (``sum(lower) <= budget <= sum(upper)``); check with
:func:`strategy.optimizers.problem.resolve_bounds` first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["project_to_bounds", "redistribute_to_bounds"]


def _clip(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``np.clip`` for ``lower <= upper`` (the same numbers, without its Python overhead)."""
    return np.minimum(np.maximum(values, lower), upper)


def _shifted_sums(values: np.ndarray, shifts: np.ndarray, lower: np.ndarray,
                  upper: np.ndarray) -> np.ndarray:
    return _clip(values[None, :] - shifts[:, None], lower, upper).sum(axis=1)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of a 1-d float array (sorted, duplicates dropped)."""
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _settle_residual(weights: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                     budget: float) -> np.ndarray:
    """Absorb the last rounding error of the sum into assets that have room."""
    residual = budget - weights.sum()
    if residual == 0.0:
        return weights
    room = (upper - weights) if residual > 0.0 else (weights - lower)
    for index in np.argsort(-room):
        step = min(abs(residual), float(room[index]))
        if step <= 0.0:
            break
        weights[index] += np.copysign(step, residual)
        residual = budget - weights.sum()
        if abs(residual) <= 1e-15:
            break
    return weights


def project_to_bounds(values: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                      budget: float) -> np.ndarray:
    """Euclidean projection of ``values`` onto ``{lower <= w <= upper, sum(w) = budget}``."""
    values = np.asarray(values, dtype=float)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    breakpoints = _sorted_unique(np.concatenate([values - upper, values - lower]))
    sums = _shifted_sums(values, breakpoints, lower, upper)  # non-increasing in the shift
    if sums[0] <= budget:
        shift = breakpoints[0]
    elif sums[-1] >= budget:
        shift = breakpoints[-1]
    else:
        k = int(np.searchsorted(-sums, -budget, side="right")) - 1
        k = min(max(k, 0), breakpoints.size - 2)
        left, right = breakpoints[k], breakpoints[k + 1]
        drop = sums[k] - sums[k + 1]
        fraction = 0.0 if drop <= 0.0 else (sums[k] - budget) / drop
        shift = left + fraction * (right - left)
    weights = _clip(values - shift, lower, upper)
    return _clip(_settle_residual(weights, lower, upper, budget), lower, upper)


def redistribute_to_bounds(values: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                           budget: float) -> np.ndarray:
    """Scale non-negative ``values`` to the budget, clipping and redistributing at bounds.

    Falls back to :func:`project_to_bounds` for what proportional sharing cannot settle
    (negative candidates, or no free weight left to absorb a shortfall).
    """
    weights = np.asarray(values, dtype=float).copy()
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    if np.any(weights < 0.0):
        return project_to_bounds(weights, lower, upper, budget)
    fixed = np.zeros(weights.size, dtype=bool)
    for _ in range(weights.size + 1):
        free = ~fixed
        free_total = weights[free].sum()
        if not free.any() or free_total <= 0.0:
            break
        weights[free] *= (budget - weights[fixed].sum()) / free_total
        over = free & (weights > upper)
        under = free & (weights < lower)
        if not (over.any() or under.any()):
            break
        weights[over] = upper[over]
        weights[under] = lower[under]
        fixed |= over | under
    return project_to_bounds(weights, lower, upper, budget)
