"""Estimation helpers and the feasibility projections, checked against independent
implementations (the Ledoit-Wolf paper's sums, pandas' EWM, a plain bisection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategy.optimizers import (
    OptimizationError,
    correlation_from_covariance,
    ewma_covariance,
    is_positive_definite,
    ledoit_wolf_shrinkage,
    mean_returns,
    nearest_positive_definite,
    project_to_bounds,
    redistribute_to_bounds,
    resolve_bounds,
    sample_covariance,
    shrunk_covariance,
)


def returns(seed: int, n_obs: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_obs, 1)) * 0.01 + rng.normal(size=(n_obs, n_assets)) * 0.02


def test_sample_covariance_is_numpy_cov() -> None:
    data = returns(0, 50, 4)
    np.testing.assert_allclose(sample_covariance(data), np.cov(data, rowvar=False))


def test_ledoit_wolf_intensity_matches_the_paper_sums() -> None:
    """Ledoit & Wolf (2004), lemmas 3.2-3.4, written as explicit loops over observations."""
    data = returns(1, 40, 6)
    n_obs, n_assets = data.shape
    x = data - data.mean(axis=0)
    s = x.T @ x / n_obs
    m = np.trace(s) / n_assets
    d2 = np.sum((s - m * np.eye(n_assets)) ** 2) / n_assets
    b2_bar = sum(np.sum((np.outer(row, row) - s) ** 2) / n_assets for row in x) / n_obs**2
    expected = min(b2_bar, d2) / d2
    assert ledoit_wolf_shrinkage(data) == pytest.approx(expected, rel=1e-12)
    shrunk = shrunk_covariance(data)
    np.testing.assert_allclose(shrunk, expected * m * np.eye(n_assets) + (1 - expected) * s,
                               rtol=1e-12)


def test_ledoit_wolf_agrees_with_scikit_learn() -> None:
    covariance_module = pytest.importorskip("sklearn.covariance")
    data = returns(2, 60, 10)
    estimator = covariance_module.LedoitWolf().fit(data)
    assert ledoit_wolf_shrinkage(data) == pytest.approx(estimator.shrinkage_, rel=1e-10)
    np.testing.assert_allclose(shrunk_covariance(data), estimator.covariance_, rtol=1e-10)


def test_shrinkage_makes_a_short_window_well_conditioned() -> None:
    data = returns(3, 15, 25)  # fewer observations than assets: sample covariance singular
    assert not is_positive_definite(sample_covariance(data))
    assert is_positive_definite(shrunk_covariance(data))
    assert 0.0 < ledoit_wolf_shrinkage(data) <= 1.0


def test_ewma_covariance_matches_pandas() -> None:
    data = returns(4, 80, 3)
    decay = 0.94
    frame = pd.DataFrame(data)
    expected = frame.ewm(alpha=1 - decay, adjust=True).cov(bias=True).loc[79].to_numpy()
    np.testing.assert_allclose(ewma_covariance(data, decay=decay), expected, rtol=1e-10)
    halflife = np.log(0.5) / np.log(decay)
    np.testing.assert_allclose(ewma_covariance(data, halflife=halflife), expected, rtol=1e-10)


def test_ewma_reacts_to_a_recent_shock_more_than_the_sample() -> None:
    data = np.tile([[0.01, 0.01], [-0.01, -0.01]], (125, 1))  # steady 1% moves
    calm = ewma_covariance(data)[0, 0]
    data[-6:] *= 5.0  # then six 5% days
    assert ewma_covariance(data)[0, 0] > 5 * calm
    assert ewma_covariance(data)[0, 0] > 3 * sample_covariance(data)[0, 0]


def test_mean_returns_plain_and_weighted() -> None:
    data = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    np.testing.assert_allclose(mean_returns(data), [1.0, 1.0])
    weighted = mean_returns(data, halflife=1.0)  # weights 1/4, 1/2, 1 normalised
    assert weighted[0] == pytest.approx((0 * 0.25 + 1 * 0.5 + 2 * 1.0) / 1.75)


def test_estimators_reject_missing_data() -> None:
    data = returns(6, 20, 3)
    data[4, 2] = np.nan
    with pytest.raises(OptimizationError, match=r"asset columns \[2\]"):
        shrunk_covariance(data)
    with pytest.raises(OptimizationError, match="at least 2 are needed"):
        sample_covariance(data[:1])


def test_nearest_positive_definite_clips_negative_eigenvalues() -> None:
    matrix = np.array([[1.0, 0.9, 0.7], [0.9, 1.0, -0.4], [0.7, -0.4, 1.0]])
    eigenvalues, vectors = np.linalg.eigh(matrix)
    assert eigenvalues[0] < 0
    repaired = nearest_positive_definite(matrix)
    assert is_positive_definite(repaired)
    clipped = (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T  # Higham's PSD projection
    assert np.abs(repaired - clipped).max() < 1e-8
    # It is no farther than other PSD candidates, e.g. shrinking towards the identity.
    for shrink in (0.1, 0.3, 0.6):
        other = (1 - shrink) * matrix + shrink * np.eye(3)
        if np.linalg.eigvalsh(other)[0] >= 0:
            assert np.linalg.norm(repaired - matrix) <= np.linalg.norm(other - matrix)


def test_nearest_positive_definite_leaves_a_good_matrix_alone() -> None:
    good = np.cov(returns(7, 100, 4), rowvar=False)
    np.testing.assert_array_equal(nearest_positive_definite(good), good)


def test_correlation_from_covariance_round_trips() -> None:
    cov = np.cov(returns(8, 100, 4), rowvar=False)
    corr, vols = correlation_from_covariance(cov)
    np.testing.assert_allclose(corr * np.outer(vols, vols), cov, rtol=1e-12)
    np.testing.assert_allclose(np.diag(corr), 1.0)


def test_resolve_bounds_defaults_and_checks() -> None:
    lower, upper = resolve_bounds(None, 3, 0.9)
    np.testing.assert_array_equal(lower, 0.0)
    np.testing.assert_array_equal(upper, 0.9)
    lower, upper = resolve_bounds(([0.1, 0.2, 0.0], None), 3, 1.0)
    np.testing.assert_allclose(upper, [0.8, 0.9, 0.7])  # what the other floors leave
    with pytest.raises(OptimizationError, match="pair"):
        resolve_bounds((0.0, 1.0, 2.0), 3, 1.0)


def bisection_projection(values, lower, upper, budget):
    """Independent projection: bisect the shift t in clip(v - t) until the sum matches."""
    lo, hi = float(np.min(values - upper)) - 1.0, float(np.max(values - lower)) + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.clip(values - mid, lower, upper).sum() > budget:
            lo = mid
        else:
            hi = mid
    return np.clip(values - 0.5 * (lo + hi), lower, upper)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_assets=st.integers(1, 15),
       budget=st.floats(0.05, 1.0), spread=st.floats(0.01, 3.0))
def test_projection_is_exact_and_nearest(seed, n_assets, budget, spread) -> None:
    rng = np.random.default_rng(seed)
    lower = -rng.uniform(0.0, 0.3, n_assets) * rng.integers(0, 2, n_assets)
    upper = lower + rng.uniform(0.0, 1.0, n_assets)
    if lower.sum() > budget or upper.sum() < budget:
        upper = upper + (budget - upper.sum()) / n_assets + 1e-3 if upper.sum() < budget else (
            upper)
        lower = np.minimum(lower, upper)
    if lower.sum() > budget or upper.sum() < budget:
        return
    values = rng.normal(size=n_assets) * spread
    projected = project_to_bounds(values, lower, upper, budget)
    assert np.all(projected >= lower) and np.all(projected <= upper)
    assert abs(projected.sum() - budget) <= 1e-12
    np.testing.assert_allclose(projected, bisection_projection(values, lower, upper, budget),
                               atol=1e-10)
    np.testing.assert_allclose(project_to_bounds(projected, lower, upper, budget), projected,
                               atol=1e-14)  # feasible points stay put


def test_redistribution_keeps_proportions_of_unclipped_assets() -> None:
    values = np.array([0.6, 0.2, 0.1, 0.1])
    weights = redistribute_to_bounds(values, np.zeros(4), np.full(4, 0.4), 1.0)
    np.testing.assert_allclose(weights, [0.4, 0.3, 0.15, 0.15], atol=1e-15)
    floored = redistribute_to_bounds(values, np.array([0.0, 0.0, 0.2, 0.0]), np.ones(4), 1.0)
    assert floored[2] == pytest.approx(0.2)
    np.testing.assert_allclose(floored[[0, 1, 3]] / floored[[0, 1, 3]].sum(), [0.6, 0.2, 0.1]
                               / np.float64(0.9), atol=1e-14)
