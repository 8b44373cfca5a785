"""Maximising a return-to-risk ratio ``a'w / sqrt(w'Sigma w)`` within bounds and budget.

Maximum Sharpe (``a = mu - rf``) and maximum diversification (``a = sigma``) are both
this problem. It is solved as a sequence of exact quadratic programmes by a
minorise-maximise iteration: at the current weights ``w_k`` with ratio ``R_k`` and
volatility ``s_k``, ``s <= (s^2 / s_k + s_k) / 2`` gives

    a'w - R_k * s(w)  >=  a'w - (R_k / (2 s_k)) w'Sigma w - R_k s_k / 2,

so the mean-variance portfolio with risk aversion ``lambda_k = R_k / s_k`` has a ratio
at least ``R_k``. The ratio rises at every step and the fixed point satisfies the
first-order conditions of the ratio problem (which has a single maximum among
portfolios with a positive ratio, the ratio being quasi-concave there). The fixed point
is a root of the scalar ``phi(lambda) - lambda``, so steps are accelerated by the secant
rule, kept only when they raise the ratio. A run that has not settled within its
iterations is finished with SLSQP from the best point reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from strategy.optimizers.projection import project_to_bounds
from strategy.optimizers.qp import solve_budget_qp
from strategy.optimizers.smooth import kkt_violation, minimize_with_budget, secant_level

__all__ = ["RatioSolution", "maximize_ratio"]

_STEP_TOLERANCE = 1e-11
_KKT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class RatioSolution:
    """Best weights found, their ratio, and whether they are the maximiser."""

    weights: np.ndarray
    ratio: float
    converged: bool
    iterations: int
    message: str = ""


def _ratio(a: np.ndarray, covariance: np.ndarray, w: np.ndarray) -> float:
    variance = float(w @ covariance @ w)
    return float(a @ w) / np.sqrt(variance) if variance > 0.0 else -np.inf


def _implied_aversion(a: np.ndarray, covariance: np.ndarray, w: np.ndarray) -> float:
    """``R / s = a'w / w'Sigma w``: the risk aversion of the next minorising step."""
    return float(a @ w) / float(w @ covariance @ w)


def _greedy(a: np.ndarray, lower: np.ndarray, upper: np.ndarray, budget: float) -> np.ndarray:
    """The feasible portfolio with the largest ``a'w``: fill the best assets first."""
    w = lower.copy()
    left = budget - w.sum()
    for index in np.argsort(-a, kind="stable"):
        add = min(left, float(upper[index] - lower[index]))
        w[index] += add
        left -= add
        if left <= 0.0:
            break
    return w


def _negative_ratio(a: np.ndarray, covariance: np.ndarray,
                    scale: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        marginal = covariance @ w
        volatility = float(np.sqrt(max(w @ marginal, 1e-300)))
        level = float(a @ w)
        gradient = -(a / volatility - level * marginal / volatility**3) / scale
        return -level / volatility / scale, gradient

    return objective


def maximize_ratio(
    a: np.ndarray,
    covariance: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    budget: float,
    *,
    candidates: list[np.ndarray],
    max_iterations: int | None = None,
) -> RatioSolution | None:
    """Maximise ``a'w / sqrt(w'Sigma w)``; ``None`` when no feasible ratio is positive.

    Args:
        candidates: starting points to choose from (projected onto the feasible set);
            the one with the best ratio starts the iteration.
    """
    starts = [project_to_bounds(c, lower, upper, budget) for c in candidates]
    starts.append(_greedy(a, lower, upper, budget))
    ratios = [_ratio(a, covariance, s) for s in starts]
    best = int(np.argmax(ratios))
    w, ratio = starts[best], ratios[best]
    if not ratio > 0.0:
        return None
    limit = 100 if max_iterations is None else max_iterations
    iteration, settled = 0, False
    level = _implied_aversion(a, covariance, w)
    previous: tuple[float, float] | None = None  # (aversion, gap) of the last step
    while iteration < limit and not settled:
        iteration += 1
        step = solve_budget_qp(level * covariance, a, lower, upper, budget, initial=w)
        if not step.converged:
            break
        new_ratio = _ratio(a, covariance, step.weights)
        if new_ratio < ratio - 1e-13 * abs(ratio):
            if previous is None:  # a plain step can only lose to rounding: at the optimum
                settled = True
                break
            level, previous = _implied_aversion(a, covariance, w), None
            continue  # the extrapolated step overshot; retake a plain step from the best
        moved = float(np.max(np.abs(step.weights - w)))
        w, ratio = step.weights, new_ratio
        settled = moved <= _STEP_TOLERANCE * max(budget, 1.0)
        implied = _implied_aversion(a, covariance, w)
        gap = implied - level
        previous, level = (level, gap), secant_level(level, gap, implied, previous)
    objective = _negative_ratio(a, covariance, max(abs(ratio), 1e-12))
    if settled and kkt_violation(objective(w)[1], w, lower, upper) <= _KKT_TOLERANCE:
        return RatioSolution(w, ratio, True, iteration)
    polished = minimize_with_budget(objective, w, lower, upper, budget,
                                    max_iterations=max_iterations)
    polished_ratio = _ratio(a, covariance, polished.weights)
    if polished.converged and polished_ratio >= ratio - 1e-12 * abs(ratio):
        return RatioSolution(polished.weights, polished_ratio, True,
                             iteration + polished.iterations,
                             "finished with SLSQP after the quadratic iteration stalled")
    return RatioSolution(w, ratio, False, iteration,
                         f"ratio iteration did not settle in {iteration} steps; "
                         f"{polished.message}".rstrip("; "))
