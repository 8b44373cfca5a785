"""Black-Litterman, minimum CVaR and robust optimisation against independent
computations: the posterior's textbook formula, brute force over a grid, and the
limits the robust model must reach."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from strategy.optimizers import (
    black_litterman_posterior,
    conditional_value_at_risk,
    market_implied_returns,
    optimize,
    project_to_bounds,
)


def covariance(seed: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n_assets, 2)) * 0.12
    return factor @ factor.T + np.diag(rng.uniform(0.01, 0.04, n_assets))


# --- Black-Litterman --------------------------------------------------------------------

def test_posterior_matches_the_textbook_master_formula() -> None:
    sigma = covariance(0, 5)
    w_mkt = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    delta, tau = 2.5, 0.05
    pi = delta * sigma @ w_mkt
    p = np.array([[1.0, 0.0, 0.0, 0.0, 0.0],
                  [0.0, 1.0, -1.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0, 0.5, 0.5]])
    q = np.array([0.08, 0.02, 0.05])
    omega = np.diag([0.002, 0.001, 0.003])
    # Textbook (inverse) form: M = [(tau S)^-1 + P' O^-1 P]^-1, mu = M [(tau S)^-1 pi + P' O^-1 Q]
    prior_precision = np.linalg.inv(tau * sigma)
    view_precision = p.T @ np.linalg.inv(omega) @ p
    m = np.linalg.inv(prior_precision + view_precision)
    expected_mean = m @ (prior_precision @ pi + p.T @ np.linalg.inv(omega) @ q)
    mean, cov = black_litterman_posterior(sigma, market_implied_returns(sigma, w_mkt, delta),
                                          view_matrix=p, view_returns=q, view_uncertainty=omega,
                                          tau=tau)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cov, sigma + m, rtol=1e-10, atol=1e-14)


def test_default_view_uncertainty_is_he_litterman() -> None:
    sigma = covariance(1, 4)
    pi = market_implied_returns(sigma, np.full(4, 0.25))
    p, q = np.array([[1.0, -1.0, 0.0, 0.0]]), np.array([0.03])
    implicit, _ = black_litterman_posterior(sigma, pi, view_matrix=p, view_returns=q)
    explicit, _ = black_litterman_posterior(sigma, pi, view_matrix=p, view_returns=q,
                                            view_uncertainty=0.05 * p @ sigma @ p.T)
    np.testing.assert_allclose(implicit, explicit, atol=1e-15)
    # With equal prior and view uncertainty the posterior spread lands half-way.
    spread = float((p @ implicit)[0])
    assert spread == pytest.approx(0.5 * float((p @ pi)[0]) + 0.5 * 0.03, rel=1e-12)


def test_no_views_returns_the_prior_and_inflated_covariance() -> None:
    sigma = covariance(2, 3)
    pi = market_implied_returns(sigma, np.array([0.5, 0.3, 0.2]), 3.0)
    np.testing.assert_allclose(pi, 3.0 * sigma @ [0.5, 0.3, 0.2])
    mean, cov = black_litterman_posterior(sigma, pi, tau=0.1)
    np.testing.assert_allclose(mean, pi)
    np.testing.assert_allclose(cov, 1.1 * sigma)


def test_black_litterman_weights_are_mean_variance_on_the_posterior() -> None:
    sigma = covariance(3, 5)
    w_mkt = np.array([0.4, 0.2, 0.2, 0.1, 0.1])
    p, q = np.array([[0.0, 0.0, 1.0, 0.0, 0.0]]), np.array([0.15])
    result = optimize("black_litterman", covariance=sigma, bounds=(-3.0, 3.0),
                      market_weights=w_mkt, view_matrix=p, view_returns=q)
    mean, cov = black_litterman_posterior(sigma, 2.5 * sigma @ w_mkt, view_matrix=p,
                                          view_returns=q)
    # Unconstrained mean-variance with the budget: w = (C^-1 (mu - nu 1)) / delta.
    inv_mu, inv_ones = np.linalg.solve(cov, mean), np.linalg.solve(cov, np.ones(5))
    nu = (inv_mu.sum() - 2.5) / inv_ones.sum()
    np.testing.assert_allclose(result.weights, (inv_mu - nu * inv_ones) / 2.5, atol=1e-10)
    np.testing.assert_allclose(result.details["posterior_returns"], mean, atol=1e-15)
    # A bullish view on asset 2 raises its weight above the market's.
    assert result.weights[2] > w_mkt[2]


def test_expected_returns_act_as_absolute_views() -> None:
    sigma = covariance(4, 4)
    mu = np.array([0.05, 0.07, 0.02, 0.04])
    from_mu = optimize("black_litterman", covariance=sigma, expected_returns=mu)
    from_views = optimize("black_litterman", covariance=sigma, view_matrix=np.eye(4),
                          view_returns=mu)
    np.testing.assert_allclose(from_mu.weights, from_views.weights, atol=1e-14)


def test_malformed_views_raise() -> None:
    from strategy.optimizers import OptimizationError
    sigma = covariance(5, 3)
    with pytest.raises(OptimizationError, match="views do not fit"):
        optimize("black_litterman", covariance=sigma, view_matrix=np.eye(2),
                 view_returns=[0.1, 0.1])
    with pytest.raises(OptimizationError, match="both view_matrix"):
        optimize("black_litterman", covariance=sigma, view_returns=[0.1])


# --- CVaR -------------------------------------------------------------------------------

def scenarios(seed: int, n_obs: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.standard_t(3, size=(n_obs, 1)) * 0.01
    return common * rng.uniform(0.2, 1.5, n_assets) + rng.normal(size=(n_obs, n_assets)) * (
        rng.uniform(0.005, 0.02, n_assets)) + 0.0005


def test_cvar_measure_is_the_mean_of_the_worst_tail() -> None:
    returns = scenarios(0, 200, 3)
    w = np.array([0.5, 0.3, 0.2])
    losses = np.sort(-(returns @ w))[::-1]
    assert conditional_value_at_risk(w, returns, confidence=0.95) == pytest.approx(
        losses[:10].mean(), rel=1e-12)  # 5% of 200 scenarios = the 10 worst
    # A fractional tail weighs the boundary scenario pro rata: 0.3 * 7 = 2.1 scenarios.
    small = returns[:7]
    tail = np.sort(-(small @ w))[::-1]
    assert conditional_value_at_risk(w, small, confidence=0.7) == pytest.approx(
        (tail[0] + tail[1] + 0.1 * tail[2]) / 2.1, rel=1e-12)


def test_cvar_lp_beats_brute_force_on_a_small_problem() -> None:
    returns = scenarios(1, 40, 3)
    result = optimize("cvar", covariance=np.cov(returns, rowvar=False), returns=returns,
                      confidence=0.9)
    optimum = conditional_value_at_risk(result.weights, returns, confidence=0.9)
    assert result.details["cvar"] == pytest.approx(optimum, abs=1e-12)
    step = 0.005
    grid = np.arange(0.0, 1.0 + step / 2, step)
    w1, w2 = np.meshgrid(grid, grid)
    keep = w1 + w2 <= 1.0 + 1e-12
    points = np.stack([w1[keep], w2[keep], 1.0 - w1[keep] - w2[keep]], axis=1)
    brute = np.array([conditional_value_at_risk(p, returns, confidence=0.9) for p in points])
    assert optimum <= brute.min() + 1e-12
    assert brute.min() - optimum < 2e-4  # the grid comes close to the LP's optimum


def test_cvar_beats_random_feasible_portfolios_with_bounds_and_budget() -> None:
    returns = scenarios(2, 150, 8)
    lower, upper, budget = np.zeros(8), np.full(8, 0.25), 0.9
    result = optimize("cvar", covariance=np.cov(returns, rowvar=False), returns=returns,
                      bounds=(lower, upper), budget=budget)
    optimum = conditional_value_at_risk(result.weights, returns)
    rng = np.random.default_rng(3)
    for draw in rng.dirichlet(np.full(8, 0.6), size=500):
        other = project_to_bounds(draw * budget, lower, upper, budget)
        assert optimum <= conditional_value_at_risk(other, returns) + 1e-12


def test_cvar_target_return_is_met() -> None:
    returns = scenarios(4, 120, 5)
    mu = returns.mean(axis=0)
    free = optimize("cvar", covariance=np.cov(returns, rowvar=False), returns=returns)
    target = float(mu @ free.weights) + 0.5 * (mu.max() - float(mu @ free.weights))
    result = optimize("cvar", covariance=np.cov(returns, rowvar=False), returns=returns,
                      target_return=target)
    assert result.converged
    assert mu @ result.weights >= target - 1e-9
    assert result.details["cvar"] >= free.details["cvar"] - 1e-12  # the target costs risk


# --- Robust -----------------------------------------------------------------------------

def test_robust_without_uncertainty_is_mean_variance() -> None:
    sigma = covariance(6, 6)
    mu = np.linspace(0.0, 0.1, 6)
    robust = optimize("robust", covariance=sigma, expected_returns=mu, uncertainty=0.0,
                      risk_aversion=3.0)
    plain = optimize("mean_variance", covariance=sigma, expected_returns=mu, risk_aversion=3.0)
    np.testing.assert_allclose(robust.weights, plain.weights, atol=1e-15)


def test_robust_moves_towards_min_variance_as_uncertainty_grows() -> None:
    sigma = covariance(7, 8)
    mu = np.linspace(-0.02, 0.15, 8)
    bounds = (0.0, 0.35)
    min_var = optimize("min_variance", covariance=sigma, bounds=bounds).weights
    distances = []
    for kappa in (0.0, 0.5, 2.0, 8.0, 32.0, 1e4):
        result = optimize("robust", covariance=sigma, expected_returns=mu, bounds=bounds,
                          uncertainty=kappa, n_observations=12)
        assert result.converged
        distances.append(float(np.abs(result.weights - min_var).sum()))
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(distances))
    assert distances[0] > 0.2 and distances[-1] < 1e-3


def test_robust_solution_maximises_the_worst_case_utility() -> None:
    sigma = covariance(8, 6)
    mu = np.array([0.08, 0.03, 0.06, 0.1, 0.01, 0.05])
    omega = np.diag(np.diag(sigma)) / 20.0
    kappa, aversion = 1.5, 2.0
    result = optimize("robust", covariance=sigma, expected_returns=mu, bounds=(0.0, 0.4),
                      uncertainty=kappa, risk_aversion=aversion, mean_covariance=omega)

    def worst_case(w: np.ndarray) -> float:
        # min over the ellipsoid of m'w is mu'w - kappa * ||Omega^1/2 w||
        return mu @ w - kappa * np.sqrt(w @ omega @ w) - aversion / 2 * w @ sigma @ w

    best = worst_case(result.weights)
    rng = np.random.default_rng(0)
    for draw in rng.dirichlet(np.ones(6), size=2000):
        other = project_to_bounds(draw, np.zeros(6), np.full(6, 0.4), 1.0)
        assert best >= worst_case(other) - 1e-14
    mean_variance = optimize("mean_variance", covariance=sigma, expected_returns=mu,
                             bounds=(0.0, 0.4), risk_aversion=aversion).weights
    assert best > worst_case(mean_variance)


@pytest.mark.parametrize("with_target", [False, True])
def test_cvar_dual_programme_agrees_with_the_primal(with_target: bool) -> None:
    from strategy.optimizers.cvar import _solve_primal, min_cvar
    from strategy.optimizers.problem import build_problem

    returns = scenarios(5, 250, 25)
    problem = build_problem(covariance=np.cov(returns, rowvar=False), returns=returns,
                            bounds=(0.0, 0.15))
    target = None
    if with_target:
        free = min_cvar(problem).weights
        means = returns.mean(axis=0)
        target = float(means @ free + 0.3 * (np.sort(means)[-7:].mean() - means @ free))
    outcome = min_cvar(problem, target_return=target)
    assert outcome.converged
    assert outcome.details["programme"] == "dual"
    primal = _solve_primal(returns, problem, 0.95, returns.mean(axis=0), target)
    assert primal.status == 0
    assert outcome.details["cvar"] == pytest.approx(primal.fun, abs=1e-12)
    if target is not None:
        assert returns.mean(axis=0) @ outcome.weights >= target - 1e-9
