"""Hierarchical risk parity (Lopez de Prado, 2016).

1. Tree clustering: correlation distance ``d_ij = sqrt((1 - rho_ij) / 2)``, then the
   Euclidean distance between the columns of that matrix (how alike two assets'
   distances to all others are), clustered by single linkage.
2. Quasi-diagonalisation: order the assets as the leaves of the dendrogram, so similar
   assets sit next to each other.
3. Recursive bisection: split the ordered list in halves; give each half a share of the
   parent's weight inversely proportional to its variance (each half held at inverse-
   variance weights), and recurse until single assets remain.

The weights are then scaled to the budget, and bounds are respected by clipping and
redistributing the excess in proportion to the other weights.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from strategy.optimizers.estimation import correlation_from_covariance
from strategy.optimizers.problem import MethodOutcome, Problem
from strategy.optimizers.projection import redistribute_to_bounds
from strategy.optimizers.result import OptimizationError

__all__ = ["LINKAGES", "hierarchical_risk_parity", "hrp_order", "recursive_bisection"]

LINKAGES = ("single", "complete", "average", "ward")


def hrp_order(covariance: np.ndarray, *, method: str = "single") -> np.ndarray:
    """Asset indices in quasi-diagonal order (leaves of the correlation dendrogram)."""
    if method not in LINKAGES:
        raise OptimizationError(f"unknown linkage {method!r}; choose one of {LINKAGES}")
    correlation, _ = correlation_from_covariance(covariance)
    n_assets = correlation.shape[0]
    if n_assets < 2:
        return np.arange(n_assets)
    distance = np.sqrt(np.clip((1.0 - correlation) / 2.0, 0.0, None))
    tree = hierarchy.linkage(pdist(distance, metric="euclidean"), method=method)
    return hierarchy.leaves_list(tree)


def _cluster_variance(covariance: np.ndarray, inverse_variance: np.ndarray,
                      members: np.ndarray) -> float:
    """Variance of the cluster held at inverse-variance weights."""
    weights = np.zeros(inverse_variance.size)
    weights[members] = inverse_variance[members]
    weights /= weights.sum()
    return float(weights @ covariance @ weights)


def recursive_bisection(covariance: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Weights summing to one from top-down bisection of the ordered assets."""
    weights = np.ones(covariance.shape[0])
    inverse_variance = 1.0 / np.diag(covariance)
    clusters = [np.asarray(order)]
    while clusters:
        clusters = [part for cluster in clusters if cluster.size > 1
                    for part in (cluster[: cluster.size // 2], cluster[cluster.size // 2:])]
        for left, right in zip(clusters[::2], clusters[1::2], strict=True):
            left_var = _cluster_variance(covariance, inverse_variance, left)
            right_var = _cluster_variance(covariance, inverse_variance, right)
            alpha = 1.0 - left_var / (left_var + right_var)
            weights[left] *= alpha
            weights[right] *= 1.0 - alpha
    return weights


def hierarchical_risk_parity(problem: Problem, *, linkage: str = "single") -> MethodOutcome:
    """HRP weights scaled to the budget, clipped and redistributed to fit the bounds."""
    order = hrp_order(problem.covariance, method=linkage)
    raw = problem.budget * recursive_bisection(problem.covariance, order)
    weights = redistribute_to_bounds(raw, problem.lower, problem.upper, problem.budget)
    moved = float(np.max(np.abs(weights - raw)))
    message = (f"hrp: bounds bind; weights clipped and redistributed (largest move "
               f"{moved:.3g})") if moved > 1e-12 else ""
    return MethodOutcome(weights, True, message, {"order": [int(i) for i in order]})
