"""Estimating the inputs of an optimiser from a window of asset returns.

All functions take ``returns`` as a ``[day, asset]`` array of simple per-period returns
(no NaN: drop or fill missing history first) and answer in the same per-period units;
annualise by multiplying by the number of periods per year if needed.

- :func:`sample_covariance`: the plain estimate (unbiased, ``T - 1``).
- :func:`shrunk_covariance`: Ledoit-Wolf (2004) shrinkage towards a scaled identity,
  well conditioned even when there are few observations per asset.
- :func:`ewma_covariance`: exponentially weighted (RiskMetrics), reacts to recent moves.
- :func:`nearest_positive_definite`: repairs a matrix that is not positive definite
  (eigenvalue clipping, the nearest symmetric PSD matrix in Frobenius norm, plus a floor).
"""

from __future__ import annotations

import numpy as np

from strategy.optimizers.result import OptimizationError

__all__ = [
    "correlation_from_covariance",
    "ewma_covariance",
    "is_positive_definite",
    "ledoit_wolf_shrinkage",
    "mean_returns",
    "nearest_positive_definite",
    "sample_covariance",
    "shrunk_covariance",
]

DEFAULT_EIGENVALUE_FLOOR = 1e-10
"""Smallest eigenvalue kept by a repair, relative to the largest one."""


def _as_returns(returns: np.ndarray, *, minimum_rows: int = 2) -> np.ndarray:
    array = np.asarray(returns, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise OptimizationError(
            f"returns must be a [day, asset] array; got {array.ndim} dimensions"
        )
    if array.shape[0] < minimum_rows:
        raise OptimizationError(
            f"returns hold {array.shape[0]} rows; at least {minimum_rows} are needed "
            "to estimate a covariance (lengthen the lookback window)"
        )
    if not np.all(np.isfinite(array)):
        bad = sorted({int(j) for j in np.argwhere(~np.isfinite(array))[:, 1]})
        raise OptimizationError(
            f"returns hold NaN or infinite values in asset columns {bad}; drop those "
            "assets or fill their history before estimating"
        )
    return array


def _decay_weights(n_rows: int, *, decay: float | None, halflife: float | None) -> np.ndarray:
    if halflife is not None:
        if halflife <= 0:
            raise OptimizationError(f"halflife must be positive; got {halflife}")
        decay = 0.5 ** (1.0 / halflife)
    if decay is None or not 0.0 < decay <= 1.0:
        raise OptimizationError(f"decay must lie in (0, 1]; got {decay}")
    weights = decay ** np.arange(n_rows - 1, -1, -1, dtype=float)
    return weights / weights.sum()


def sample_covariance(returns: np.ndarray) -> np.ndarray:
    """Unbiased sample covariance of ``returns`` (``[asset, asset]``)."""
    array = _as_returns(returns)
    return np.atleast_2d(np.cov(array, rowvar=False, ddof=1))


def _centred_sample(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demeaned returns and their sample covariance normalised by ``T``."""
    centred = array - array.mean(axis=0)
    return centred, centred.T @ centred / array.shape[0]


def _ledoit_wolf_intensity(centred: np.ndarray, sample: np.ndarray) -> float:
    n_obs, n_assets = centred.shape
    mu = np.trace(sample) / n_assets
    target_distance = np.sum((sample - mu * np.eye(n_assets)) ** 2) / n_assets
    if target_distance <= 0.0:
        return 0.0
    fourth = np.sum(np.sum(centred**2, axis=1) ** 2)
    noise = (fourth - n_obs * np.sum(sample**2)) / (n_obs**2 * n_assets)
    return float(np.clip(min(noise, target_distance) / target_distance, 0.0, 1.0))


def ledoit_wolf_shrinkage(returns: np.ndarray) -> float:
    """Ledoit-Wolf optimal intensity in [0, 1] for shrinking towards ``mean variance * I``.

    Follows Ledoit & Wolf (2004), "A well-conditioned estimator for large-dimensional
    covariance matrices", with the sample covariance normalised by ``T``.
    """
    return _ledoit_wolf_intensity(*_centred_sample(_as_returns(returns)))


def shrunk_covariance(returns: np.ndarray, *, shrinkage: float | None = None) -> np.ndarray:
    """Covariance shrunk towards a scaled identity (Ledoit-Wolf by default).

    Args:
        returns: ``[day, asset]`` simple returns.
        shrinkage: intensity in [0, 1]; ``None`` uses :func:`ledoit_wolf_shrinkage`.
    """
    array = _as_returns(returns)
    n_assets = array.shape[1]
    centred, sample = _centred_sample(array)  # shared with the intensity's estimate
    if shrinkage is None:
        shrinkage = _ledoit_wolf_intensity(centred, sample)
    if not 0.0 <= shrinkage <= 1.0:
        raise OptimizationError(f"shrinkage must lie in [0, 1]; got {shrinkage}")
    mu = np.trace(sample) / n_assets
    return (1.0 - shrinkage) * sample + shrinkage * mu * np.eye(n_assets)


def ewma_covariance(
    returns: np.ndarray,
    *,
    decay: float | None = 0.94,
    halflife: float | None = None,
    demean: bool = True,
) -> np.ndarray:
    """Exponentially weighted covariance; the newest row weighs most.

    Args:
        returns: ``[day, asset]`` simple returns, oldest first.
        decay: RiskMetrics lambda in (0, 1]; 0.94 is the daily RiskMetrics value.
        halflife: if given, overrides ``decay`` with ``0.5 ** (1 / halflife)``.
        demean: subtract the weighted mean (``False`` assumes zero mean, as RiskMetrics).
    """
    array = _as_returns(returns)
    weights = _decay_weights(array.shape[0], decay=decay, halflife=halflife)
    centred = array - weights @ array if demean else array
    return (centred * weights[:, None]).T @ centred


def mean_returns(returns: np.ndarray, *, halflife: float | None = None) -> np.ndarray:
    """Per-asset mean return; exponentially weighted when ``halflife`` is given."""
    array = _as_returns(returns, minimum_rows=1)
    if halflife is None:
        return array.mean(axis=0)
    return _decay_weights(array.shape[0], decay=None, halflife=halflife) @ array


def is_positive_definite(
    matrix: np.ndarray, *, relative_floor: float = DEFAULT_EIGENVALUE_FLOOR
) -> bool:
    """True when ``matrix`` is symmetric with every eigenvalue (about) above the floor.

    Half the floor is accepted, so the output of :func:`nearest_positive_definite` with
    the same floor passes despite rounding.
    """
    array = np.asarray(matrix, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or not np.all(np.isfinite(array)):
        return False
    if not np.allclose(array, array.T, rtol=1e-10, atol=1e-14):
        return False
    eigenvalues = np.linalg.eigvalsh(array)
    return bool(eigenvalues[0] > 0.5 * relative_floor * max(eigenvalues[-1], 0.0) > 0.0)


def nearest_positive_definite(
    matrix: np.ndarray, *, relative_floor: float = DEFAULT_EIGENVALUE_FLOOR
) -> np.ndarray:
    """The symmetric positive-definite matrix closest to ``matrix``.

    Symmetrises, then lifts every eigenvalue to at least ``relative_floor`` times the
    largest (Higham 1988: clipping eigenvalues gives the nearest PSD matrix in Frobenius
    norm). A matrix that is already positive definite comes back unchanged up to rounding.
    """
    array = np.asarray(matrix, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise OptimizationError(f"expected a square matrix; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise OptimizationError("cannot repair a matrix holding NaN or infinite values")
    symmetric = 0.5 * (array + array.T)
    eigenvalues, vectors = np.linalg.eigh(symmetric)
    scale = max(float(eigenvalues[-1]), float(np.max(np.abs(np.diag(symmetric)))), 0.0)
    floor = relative_floor * scale if scale > 0.0 else relative_floor
    if eigenvalues[0] >= floor:
        return symmetric
    repaired = (vectors * np.maximum(eigenvalues, floor)) @ vectors.T
    return 0.5 * (repaired + repaired.T)


def correlation_from_covariance(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a covariance into ``(correlation, volatilities)``.

    Assets with zero variance get zero correlation with the others and 1 on the diagonal.
    """
    array = np.asarray(covariance, dtype=float)
    vols = np.sqrt(np.clip(np.diag(array), 0.0, None))
    safe = np.where(vols > 0.0, vols, 1.0)
    correlation = array / np.outer(safe, safe)
    correlation[vols == 0.0, :] = 0.0
    correlation[:, vols == 0.0] = 0.0
    np.fill_diagonal(correlation, 1.0)
    return np.clip(correlation, -1.0, 1.0), vols
