"""Mean-variance family: each result checked against the property that defines it,
computed independently here (closed forms, first-order conditions, brute force)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from strategy.optimizers import optimize, portfolio_sharpe, project_to_bounds
from strategy.optimizers.qp import solve_budget_qp


def covariance_and_means(seed: int, n_assets: int):
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n_assets, 2)) * 0.1
    covariance = factor @ factor.T + np.diag(rng.uniform(0.01, 0.05, n_assets))
    return covariance, rng.uniform(-0.02, 0.12, n_assets)


def kkt_breach(gradient, weights, lower, upper, tol=1e-9) -> float:
    """Independent first-order check for min f over {sum w = b, lower <= w <= upper}."""
    at_lower = weights <= lower + tol
    at_upper = weights >= upper - tol
    free = ~(at_lower | at_upper)
    nu = float(np.median(gradient[free])) if free.any() else float(
        0.5 * (gradient[at_upper].max(initial=-np.inf) + gradient[at_lower].min(initial=np.inf)))
    breach = np.abs(gradient[free] - nu).max(initial=0.0)
    breach = max(breach, (nu - gradient[at_lower]).max(initial=0.0))
    return float(max(breach, (gradient[at_upper] - nu).max(initial=0.0)))


def random_feasible(rng, n_samples, lower, upper, budget):
    """Feasible portfolios spread over the set: Dirichlet draws projected onto it."""
    raw = rng.dirichlet(np.full(lower.size, 0.7), size=n_samples) * budget
    return np.array([project_to_bounds(r, lower, upper, budget) for r in raw])


@pytest.mark.parametrize("budget", [1.0, 0.6])
def test_min_variance_matches_the_closed_form_when_unconstrained(budget: float) -> None:
    cov, _ = covariance_and_means(1, 7)
    inverse_ones = np.linalg.solve(cov, np.ones(7))
    expected = budget * inverse_ones / inverse_ones.sum()
    result = optimize("min_variance", covariance=cov, bounds=(-5.0, 5.0), budget=budget)
    np.testing.assert_allclose(result.weights, expected, rtol=0, atol=1e-10)
    assert result.converged and result.fallback is None


def test_min_variance_with_binding_bounds_satisfies_kkt_and_beats_scipy() -> None:
    cov, _ = covariance_and_means(2, 10)
    lower, upper = np.zeros(10), np.full(10, 0.14)
    result = optimize("min_variance", covariance=cov, bounds=(lower, upper))
    w = result.weights
    assert np.any(w >= upper - 1e-12) and np.any(w <= 1e-12)  # both kinds of bound bind
    assert kkt_breach(2 * cov @ w, w, lower, upper) < 1e-12
    reference = minimize(lambda x: x @ cov @ x, np.full(10, 0.1), jac=lambda x: 2 * cov @ x,
                         method="SLSQP", bounds=list(zip(lower, upper, strict=True)),
                         constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1.0}],
                         options={"ftol": 1e-15, "maxiter": 500})
    assert w @ cov @ w <= reference.fun + 1e-15


def test_mean_variance_matches_the_closed_form_when_unconstrained() -> None:
    cov, mu = covariance_and_means(3, 6)
    risk_aversion, budget = 4.0, 0.9
    inv_mu, inv_ones = np.linalg.solve(cov, mu), np.linalg.solve(cov, np.ones(6))
    nu = (inv_mu.sum() - risk_aversion * budget) / inv_ones.sum()
    expected = (inv_mu - nu * inv_ones) / risk_aversion
    result = optimize("mean_variance", covariance=cov, expected_returns=mu,
                      bounds=(-10.0, 10.0), budget=budget, risk_aversion=risk_aversion)
    np.testing.assert_allclose(result.weights, expected, atol=1e-10)


def test_mean_variance_moves_towards_min_variance_as_risk_aversion_grows() -> None:
    cov, mu = covariance_and_means(4, 8)
    bounds = (0.0, 0.4)
    min_var = optimize("min_variance", covariance=cov, bounds=bounds).weights
    gaps = [np.abs(optimize("mean_variance", covariance=cov, expected_returns=mu,
                            bounds=bounds, risk_aversion=a).weights - min_var).sum()
            for a in (0.5, 2.0, 10.0, 100.0, 1e5)]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(gaps))
    assert gaps[-1] < 1e-3 < gaps[0]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_assets=st.integers(2, 12),
       budget=st.floats(0.1, 1.0), cap=st.floats(0.05, 1.0), short=st.booleans())
def test_active_set_qp_reaches_the_kkt_point(seed, n_assets, budget, cap, short) -> None:
    cov, mu = covariance_and_means(seed, n_assets)
    lower = np.full(n_assets, -0.3 if short else 0.0)
    upper = np.full(n_assets, max(cap, 1.01 * budget / n_assets))
    aversion = np.random.default_rng(seed).uniform(0.1, 20.0)
    solution = solve_budget_qp(aversion * cov, mu, lower, upper, budget)
    w = solution.weights
    assert solution.converged
    assert np.all(w >= lower) and np.all(w <= upper) and abs(w.sum() - budget) < 1e-12
    assert kkt_breach(aversion * cov @ w - mu, w, lower, upper) < 1e-10


def test_qp_warm_start_gives_the_same_answer() -> None:
    cov, mu = covariance_and_means(5, 12)
    lower, upper = np.zeros(12), np.full(12, 0.2)
    cold = solve_budget_qp(3 * cov, mu, lower, upper, 1.0)
    warm = solve_budget_qp(3 * cov, mu, lower, upper, 1.0, initial=np.full(12, 1 / 12))
    np.testing.assert_allclose(warm.weights, cold.weights, atol=1e-12)
    again = solve_budget_qp(3 * cov, mu, lower, upper, 1.0, initial=cold.weights)
    assert again.iterations == 1


@pytest.mark.parametrize("budget", [1.0, 0.7])
def test_max_sharpe_is_the_tangency_portfolio_when_unconstrained(budget: float) -> None:
    cov, _ = covariance_and_means(6, 6)
    mu = np.linspace(0.03, 0.09, 6)
    direction = np.linalg.solve(cov, mu)
    expected = budget * direction / direction.sum()
    result = optimize("max_sharpe", covariance=cov, expected_returns=mu,
                      bounds=(-5.0, 5.0), budget=budget)
    np.testing.assert_allclose(result.weights, expected, atol=1e-10)
    assert result.details["closed_form"] is True


def test_max_sharpe_iteration_reaches_the_tangency_when_bounds_are_slack() -> None:
    """Start the iteration away from the closed form: with bounds that do not bind at the
    optimum it must arrive at Sigma^-1 mu normalised."""
    cov, _ = covariance_and_means(7, 5)
    mu = np.linspace(0.05, 0.09, 5)
    direction = np.linalg.solve(cov, mu)
    tangency = direction / direction.sum()
    assert np.all(tangency > 0)
    from strategy.optimizers.ratio import maximize_ratio
    solution = maximize_ratio(mu, cov, np.zeros(5), np.ones(5), 1.0,
                              candidates=[np.array([1.0, 0, 0, 0, 0])])
    assert solution is not None and solution.converged
    np.testing.assert_allclose(solution.weights, tangency, atol=1e-8)


def test_bounded_max_sharpe_beats_brute_force_and_random_portfolios() -> None:
    cov, _ = covariance_and_means(8, 3)
    mu = np.array([0.10, 0.06, 0.02])
    upper = np.array([0.5, 0.5, 0.5])
    result = optimize("max_sharpe", covariance=cov, expected_returns=mu, bounds=(0.0, upper))
    best = portfolio_sharpe(result.weights, mu, cov)
    grid = np.linspace(0.0, 0.5, 501)
    w1, w2 = np.meshgrid(grid, grid)
    w3 = 1.0 - w1 - w2
    ok = (w3 >= 0.0) & (w3 <= 0.5)
    points = np.stack([w1[ok], w2[ok], w3[ok]], axis=1)
    sharpes = points @ mu / np.sqrt(np.einsum("ij,jk,ik->i", points, cov, points))
    assert best >= sharpes.max() - 1e-12
    assert best - sharpes.max() < 1e-5  # the grid gets close to it
    assert np.abs(points[np.argmax(sharpes)] - result.weights).max() < 5e-3


def test_bounded_max_sharpe_satisfies_first_order_conditions() -> None:
    cov, mu = covariance_and_means(9, 15)
    mu = np.abs(mu) + 0.01
    lower, upper = np.zeros(15), np.full(15, 0.12)
    result = optimize("max_sharpe", covariance=cov, expected_returns=mu, bounds=(lower, upper),
                      risk_free=0.02)
    w = result.weights
    excess = mu - 0.02
    vol = np.sqrt(w @ cov @ w)
    gradient = -(excess / vol - (excess @ w) * cov @ w / vol**3)
    assert kkt_breach(gradient, w, lower, upper) < 1e-8
    rng = np.random.default_rng(0)
    others = random_feasible(rng, 2000, lower, upper, 1.0)
    others_sharpe = others @ excess / np.sqrt(np.einsum("ij,jk,ik->i", others, cov, others))
    assert portfolio_sharpe(w, mu, cov, risk_free=0.02) >= others_sharpe.max()
