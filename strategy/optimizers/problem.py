"""Validated inputs shared by every optimiser.

:func:`build_problem` checks shapes and values, resolves the bounds, verifies that some
portfolio satisfies them, and repairs a covariance matrix that is not symmetric positive
definite (the repair is noted, and reported in the result's message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from strategy.optimizers.estimation import DEFAULT_EIGENVALUE_FLOOR, nearest_positive_definite
from strategy.optimizers.result import OptimizationError

__all__ = ["BoundsLike", "MethodOutcome", "Problem", "build_problem", "resolve_bounds"]

BoundsLike = tuple[object, object]
"""``(lower, upper)``: each a scalar for every asset, a per-asset sequence, or ``None``."""

FEASIBILITY_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Problem:
    """One optimisation request after validation (arrays are not modified by methods)."""

    covariance: np.ndarray
    expected_returns: np.ndarray | None
    returns: np.ndarray | None
    lower: np.ndarray
    upper: np.ndarray
    budget: float
    notes: tuple[str, ...] = ()

    @property
    def n_assets(self) -> int:
        return int(self.covariance.shape[0])

    @property
    def volatilities(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))


@dataclass(frozen=True)
class MethodOutcome:
    """What one method produced, before the final clean-up and any fallback.

    ``converged=False`` asks the caller to fall back to a simpler method; ``message``
    says why.
    """

    weights: np.ndarray
    converged: bool = True
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _per_asset(value: object, n_assets: int, side: str) -> np.ndarray:
    array = np.array(value, dtype=float)
    if array.ndim == 0:
        array = np.full(n_assets, float(array))
    if array.shape != (n_assets,):
        raise OptimizationError(
            f"{side} bounds have shape {array.shape}; expected a scalar or {n_assets} values "
            "(one per asset, in covariance order)"
        )
    if not np.all(np.isfinite(array)):
        raise OptimizationError(f"{side} bounds must be finite numbers; got {array.tolist()}")
    return array


def resolve_bounds(bounds: BoundsLike | None, n_assets: int,
                   budget: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn ``bounds`` into ``(lower, upper)`` arrays and check a portfolio fits them.

    ``None`` (or a ``None`` side) means long-only: lower 0; the default upper lets one
    asset take whatever the other lower bounds leave of the budget.

    Raises:
        OptimizationError: a lower bound above its upper bound, ``sum(lower) > budget``
            or ``sum(upper) < budget``.
    """
    if not np.isfinite(budget) or not 0.0 < budget <= 1.0:
        raise OptimizationError(f"budget must lie in (0, 1]; got {budget}")
    if bounds is None:
        bounds = (None, None)
    if not isinstance(bounds, tuple | list) or len(bounds) != 2:
        raise OptimizationError(
            "bounds must be a pair (lower, upper), each a scalar or one value per asset"
        )
    lower = np.zeros(n_assets) if bounds[0] is None else _per_asset(bounds[0], n_assets, "lower")
    if bounds[1] is None:
        upper = budget - (lower.sum() - lower)
    else:
        upper = _per_asset(bounds[1], n_assets, "upper")
    crossed = np.flatnonzero(lower > upper)
    if crossed.size:
        i = int(crossed[0])
        raise OptimizationError(
            f"lower bound {lower[i]:.6g} exceeds upper bound {upper[i]:.6g} for asset {i}; "
            "fix the bounds so lower <= upper for every asset"
        )
    if lower.sum() > budget + FEASIBILITY_TOLERANCE:
        raise OptimizationError(
            f"infeasible bounds: the lower bounds sum to {lower.sum():.6g}, more than the "
            f"budget {budget:.6g}; lower some lower bounds or raise the budget"
        )
    if upper.sum() < budget - FEASIBILITY_TOLERANCE:
        raise OptimizationError(
            f"infeasible bounds: the upper bounds sum to {upper.sum():.6g}, less than the "
            f"budget {budget:.6g}; raise some upper bounds (caps) or lower the budget"
        )
    return lower, upper


def _repair_covariance(covariance: object) -> tuple[np.ndarray, list[str]]:
    array = np.array(covariance, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise OptimizationError(
            f"covariance must be a non-empty square [asset, asset] matrix; got shape "
            f"{array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise OptimizationError(
            "covariance holds NaN or infinite values; estimate it from complete return "
            "history (drop or fill assets with missing data)"
        )
    notes: list[str] = []
    scale = float(np.max(np.abs(array))) or 1.0
    # |a - a'| <= atol everywhere: ``np.allclose(rtol=0)`` without its overhead
    if not bool(np.all(np.abs(array - array.T) <= 1e-10 * scale)):
        notes.append("covariance was not symmetric; replaced by its symmetric part")
    symmetric = 0.5 * (array + array.T)
    eigenvalues = np.linalg.eigvalsh(symmetric)
    top = max(float(eigenvalues[-1]), 0.0)
    if top <= 0.0 or eigenvalues[0] < DEFAULT_EIGENVALUE_FLOOR * top:
        repaired = nearest_positive_definite(symmetric)
        notes.append(
            f"covariance was not positive definite (smallest eigenvalue {eigenvalues[0]:.3g}, "
            f"largest {eigenvalues[-1]:.3g}); repaired to the nearest positive-definite matrix"
        )
        return repaired, notes
    return symmetric, notes


def _vector(value: object, n_assets: int, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.shape != (n_assets,):
        raise OptimizationError(
            f"{name} has shape {array.shape}; expected {n_assets} values, one per asset"
        )
    if not np.all(np.isfinite(array)):
        raise OptimizationError(f"{name} holds NaN or infinite values; supply finite numbers")
    return array


def build_problem(
    *,
    covariance: object,
    expected_returns: object | None = None,
    returns: object | None = None,
    bounds: BoundsLike | None = None,
    budget: float = 1.0,
) -> Problem:
    """Validate and repair the inputs of :func:`strategy.optimizers.optimize`."""
    matrix, notes = _repair_covariance(covariance)
    n_assets = matrix.shape[0]
    mu = None if expected_returns is None else _vector(expected_returns, n_assets,
                                                         "expected_returns")
    scenarios = None
    if returns is not None:
        scenarios = np.asarray(returns, dtype=float)
        if scenarios.ndim != 2 or scenarios.shape[1] != n_assets or scenarios.shape[0] < 2:
            raise OptimizationError(
                f"returns have shape {scenarios.shape}; expected [scenario, asset] with "
                f"{n_assets} asset columns and at least 2 rows"
            )
        if not np.all(np.isfinite(scenarios)):
            raise OptimizationError(
                "returns hold NaN or infinite values; drop or fill them before optimising"
            )
    lower, upper = resolve_bounds(bounds, n_assets, float(budget))
    for array in (matrix, lower, upper):
        array.setflags(write=False)
    return Problem(matrix, mu, scenarios, lower, upper, float(budget), tuple(notes))
