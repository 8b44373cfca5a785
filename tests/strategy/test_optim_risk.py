"""Risk-driven methods: equal weight, inverse volatility, risk parity, maximum
diversification and hierarchical risk parity, each against its defining property."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.cluster.hierarchy as sch

from strategy.optimizers import (
    diversification_ratio,
    hrp_order,
    optimize,
    project_to_bounds,
    risk_contributions,
)


def covariance(seed: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n_assets, 3)) * rng.uniform(0.02, 0.2, size=(n_assets, 1))
    return factor @ factor.T + np.diag(rng.uniform(0.001, 0.04, n_assets))


def test_equal_weight_splits_the_budget_and_respects_bounds() -> None:
    cov = covariance(0, 5)
    np.testing.assert_allclose(optimize("equal_weight", covariance=cov, budget=0.8).weights,
                               np.full(5, 0.16), atol=1e-15)
    upper = np.array([0.1, 1.0, 1.0, 1.0, 1.0])
    weights = optimize("equal_weight", covariance=cov, bounds=(0.0, upper)).weights
    np.testing.assert_allclose(weights, [0.1, 0.225, 0.225, 0.225, 0.225], atol=1e-15)


def test_inverse_volatility_is_one_over_sigma_normalised() -> None:
    cov = covariance(1, 6)
    inverse = 1.0 / np.sqrt(np.diag(cov))
    result = optimize("inverse_volatility", covariance=cov, budget=0.9)
    np.testing.assert_allclose(result.weights, 0.9 * inverse / inverse.sum(), atol=1e-15)


def test_inverse_volatility_redistributes_clipped_weight_proportionally() -> None:
    vols = np.array([0.01, 0.1, 0.2, 0.4])
    cov = np.diag(vols**2)
    weights = optimize("inverse_volatility", covariance=cov, bounds=(0.0, 0.5)).weights
    assert weights[0] == pytest.approx(0.5)
    inverse = 1.0 / vols[1:]
    np.testing.assert_allclose(weights[1:], 0.5 * inverse / inverse.sum(), atol=1e-14)


@pytest.mark.parametrize("budget", [1.0, 0.75])
def test_risk_parity_equalises_risk_contributions(budget: float) -> None:
    cov = covariance(2, 12)
    result = optimize("risk_parity", covariance=cov, budget=budget)
    contributions = risk_contributions(result.weights, cov, relative=True)
    np.testing.assert_allclose(contributions, np.full(12, 1 / 12), atol=1e-6)
    assert np.ptp(contributions) < 1e-10
    assert result.weights.sum() == pytest.approx(budget, abs=1e-12)


def test_risk_parity_honours_risk_budgets() -> None:
    cov = covariance(3, 5)
    budgets = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    result = optimize("risk_parity", covariance=cov, risk_budgets=budgets)
    contributions = risk_contributions(result.weights, cov, relative=True)
    np.testing.assert_allclose(contributions, budgets / budgets.sum(), atol=1e-10)


def test_risk_parity_two_uncorrelated_assets_by_hand() -> None:
    # Uncorrelated: equal risk <=> w_i sigma_i equal <=> w = (2/3, 1/3) for sigmas 0.1, 0.2.
    cov = np.diag([0.01, 0.04])
    np.testing.assert_allclose(optimize("risk_parity", covariance=cov).weights, [2 / 3, 1 / 3],
                               atol=1e-12)


def test_bounded_risk_parity_equalises_risk_among_assets_inside_their_bounds() -> None:
    vols = np.array([0.02, 0.1, 0.15, 0.2, 0.3, 0.6])
    correlation = np.full((6, 6), 0.3) + 0.7 * np.eye(6)
    cov = correlation * np.outer(vols, vols)
    free = optimize("risk_parity", covariance=cov).weights
    assert free[0] > 0.3 and free[5] < 0.05  # a cap on asset 0 and a floor on 5 will bind
    lower = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.05])
    result = optimize("risk_parity", covariance=cov, bounds=(lower, 0.3), budget=0.95)
    assert result.converged and "bounds bind" in result.message
    w = result.weights
    assert w[0] == pytest.approx(0.3, abs=1e-12) and w[5] == pytest.approx(0.05, abs=1e-12)
    contributions = risk_contributions(w, cov)
    inside = contributions[1:5]
    assert np.ptp(inside) < 1e-10 * inside.mean()
    assert contributions[0] < inside.mean()  # capped: would take more risk if allowed
    assert contributions[5] > inside.mean()  # floored: carries more than its share


def test_bounded_risk_budgets_hold_for_assets_inside_their_bounds() -> None:
    cov = covariance(9, 8)
    budgets = np.arange(1.0, 9.0)
    free = optimize("risk_parity", covariance=cov, risk_budgets=budgets).weights
    cap = float(np.sort(free)[-2])  # the two largest positions bind
    result = optimize("risk_parity", covariance=cov, risk_budgets=budgets, bounds=(0.0, cap))
    inside = result.weights < cap - 1e-9
    assert inside.sum() == 6
    scaled = risk_contributions(result.weights, cov)[inside] / budgets[inside]
    assert np.ptp(scaled) < 1e-10 * scaled.mean()


def test_max_diversification_beats_random_feasible_portfolios() -> None:
    cov = covariance(4, 10)
    rng = np.random.default_rng(1)
    for bounds in [None, (0.0, 0.15)]:
        result = optimize("max_diversification", covariance=cov, bounds=bounds)
        lower, upper = (np.zeros(10), np.ones(10)) if bounds is None else (
            np.zeros(10), np.full(10, 0.15))
        best = diversification_ratio(result.weights, cov)
        samples = rng.dirichlet(np.full(10, 0.5), size=3000)
        ratios = [diversification_ratio(project_to_bounds(s, lower, upper, 1.0), cov)
                  for s in samples]
        assert best >= max(ratios)
        assert result.converged


def test_max_diversification_first_order_condition() -> None:
    """Choueifaty: at the long-only optimum every held asset has the same correlation
    with the portfolio... precisely sigma_i / (Sigma w)_i * sigma_p^2 equals the ratio."""
    cov = covariance(5, 8)
    w = optimize("max_diversification", covariance=cov).weights
    vols = np.sqrt(np.diag(cov))
    ratio = diversification_ratio(w, cov)
    marginal = cov @ w / np.sqrt(w @ cov @ w)  # d sigma_p / d w_i
    held = w > 1e-9
    # Held assets: sigma_i = ratio * marginal_i; excluded ones: sigma_i <= ratio * marginal_i.
    np.testing.assert_allclose(vols[held], ratio * marginal[held], rtol=1e-8)
    assert np.all(vols[~held] <= ratio * marginal[~held] * (1 + 1e-9))


def test_hrp_matches_hand_computed_bisection() -> None:
    sigma = np.array([0.1, 0.2, 0.15, 0.25])
    rho = np.array([[1.0, 0.9, 0.1, 0.1],
                    [0.9, 1.0, 0.1, 0.1],
                    [0.1, 0.1, 1.0, 0.8],
                    [0.1, 0.1, 0.8, 1.0]])
    cov = rho * np.outer(sigma, sigma)
    order = list(hrp_order(cov))
    assert {frozenset(order[:2]), frozenset(order[2:])} == {frozenset({0, 1}),
                                                           frozenset({2, 3})}
    # Cluster {0, 1} at inverse-variance weights (100, 25)/125 = (0.8, 0.2):
    var_left = 0.8**2 * 0.01 + 0.2**2 * 0.04 + 2 * 0.8 * 0.2 * 0.9 * 0.1 * 0.2  # 0.01376
    # Cluster {2, 3} at (1/0.0225, 1/0.0625) normalised:
    a, b = 1 / 0.0225, 1 / 0.0625
    p, q = a / (a + b), b / (a + b)
    var_right = p**2 * 0.0225 + q**2 * 0.0625 + 2 * p * q * 0.8 * 0.15 * 0.25
    alpha = 1 - var_left / (var_left + var_right)
    # Single assets split each pair by inverse variance.
    expected = np.array([alpha * 0.8, alpha * 0.2, (1 - alpha) * p, (1 - alpha) * q])
    assert var_left == pytest.approx(0.01376)
    result = optimize("hrp", covariance=cov)
    np.testing.assert_allclose(result.weights, expected, atol=1e-14)
    assert result.details["order"] == order


def _textbook_hrp(cov: pd.DataFrame, corr: pd.DataFrame) -> pd.Series:
    """Lopez de Prado, Advances in Financial Machine Learning, snippets 16.1-16.4."""

    def get_ivp(c):
        ivp = 1.0 / np.diag(c)
        return ivp / ivp.sum()

    def get_cluster_var(c, items):
        c_ = c.loc[items, items]
        w_ = get_ivp(c_).reshape(-1, 1)
        return float((w_.T @ c_.values @ w_)[0, 0])

    def get_quasi_diag(link):
        link = link.astype(int)
        sort_ix = pd.Series([link[-1, 0], link[-1, 1]])
        num_items = link[-1, 3]
        while sort_ix.max() >= num_items:
            sort_ix.index = range(0, sort_ix.shape[0] * 2, 2)
            df0 = sort_ix[sort_ix >= num_items]
            i, j = df0.index, df0.values - num_items
            sort_ix[i] = link[j, 0]
            df0 = pd.Series(link[j, 1], index=i + 1)
            sort_ix = pd.concat([sort_ix, df0]).sort_index()
            sort_ix.index = range(sort_ix.shape[0])
        return sort_ix.tolist()

    def get_rec_bipart(c, sort_ix):
        w = pd.Series(1.0, index=sort_ix)
        c_items = [sort_ix]
        while len(c_items) > 0:
            c_items = [i[j:k] for i in c_items for j, k in ((0, len(i) // 2),
                                                              (len(i) // 2, len(i))) if len(i) > 1]
            for i in range(0, len(c_items), 2):
                c0, c1 = c_items[i], c_items[i + 1]
                v0, v1 = get_cluster_var(c, c0), get_cluster_var(c, c1)
                alpha = 1 - v0 / (v0 + v1)
                w[c0] *= alpha
                w[c1] *= 1 - alpha
        return w

    dist = ((1 - corr) / 2.0).clip(lower=0.0) ** 0.5  # clip: rounding on the diagonal
    with warnings.catch_warnings():  # the book passes the square matrix on purpose
        warnings.simplefilter("ignore", sch.ClusterWarning)
        link = sch.linkage(dist.values, "single")
    sort_ix = corr.index[get_quasi_diag(link)].tolist()
    return get_rec_bipart(cov, sort_ix).sort_index()


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_hrp_agrees_with_the_textbook_implementation(seed: int) -> None:
    cov = covariance(seed, 9)
    vols = np.sqrt(np.diag(cov))
    corr = cov / np.outer(vols, vols)
    expected = _textbook_hrp(pd.DataFrame(cov), pd.DataFrame(corr))
    np.testing.assert_allclose(optimize("hrp", covariance=cov).weights, expected.values,
                               atol=1e-13)


def test_hrp_respects_caps_by_clipping_and_redistributing() -> None:
    sigma = np.array([0.02, 0.15, 0.2, 0.25, 0.3])
    cov = np.diag(sigma**2)  # uncorrelated: HRP is close to inverse variance
    raw = optimize("hrp", covariance=cov).weights
    assert raw[0] > 0.5
    capped = optimize("hrp", covariance=cov, bounds=(0.0, 0.5), budget=0.9)
    assert capped.weights[0] == pytest.approx(0.5)
    np.testing.assert_allclose(capped.weights[1:] / capped.weights[1:].sum(),
                               raw[1:] / raw[1:].sum(), atol=1e-12)
    assert "bounds bind" in capped.message


@pytest.mark.parametrize("seed", range(12))
def test_unbounded_risk_budgeting_takes_the_general_newton_steps(seed: int) -> None:
    from strategy.optimizers.risk_budgeting import _box_newton, risk_budget_weights

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    factors = rng.normal(size=(n, n)) * rng.uniform(0.005, 0.03, n)
    cov = factors @ factors.T + np.diag(rng.uniform(1e-5, 1e-4, n))
    budgets = rng.uniform(0.2, 1.0, n)
    budgets /= budgets.sum()
    weights, converged, iterations = risk_budget_weights(cov, budgets)
    # the same problem through the bounded solver with bounds that never bind
    sigma = cov / float(np.mean(np.diag(cov)))
    start = budgets / np.sqrt(np.diag(sigma))
    start /= np.sqrt(start @ sigma @ start)
    general, general_ok, general_iterations = _box_newton(
        sigma, budgets, 1.0, np.zeros(n), np.full(n, np.inf), np.zeros(n), start, 100)
    assert converged and general_ok and iterations == general_iterations
    np.testing.assert_allclose(weights, general / general.sum(), rtol=0, atol=1e-15)
    contributions = weights * (cov @ weights)
    np.testing.assert_allclose(contributions / contributions.sum(), budgets, atol=1e-9)
