"""The optimiser library's entry point: names, validation, degradation, and the
invariant every method must keep (bounds and budget) on random problems."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategy.optimizers import (
    FALLBACK_METHODS,
    METHOD_ALIASES,
    METHODS,
    OptimizationError,
    OptimizationResult,
    canonical_method,
    method_options,
    optimize,
)


def random_problem(seed: int, n_assets: int, n_obs: int = 120):
    """Factor-structured returns with distinct volatilities; covariance and means from them."""
    rng = np.random.default_rng(seed)
    vols = rng.uniform(0.005, 0.03, size=n_assets)
    market = rng.normal(0.0, 0.01, size=(n_obs, 1))
    loadings = rng.uniform(-0.5, 1.5, size=n_assets)
    returns = market * loadings + rng.normal(size=(n_obs, n_assets)) * vols
    returns += rng.uniform(-0.0002, 0.001, size=n_assets)
    covariance = np.cov(returns, rowvar=False)
    return covariance, returns.mean(axis=0), returns


def assert_feasible(weights: np.ndarray, lower, upper, budget: float) -> None:
    lower = np.broadcast_to(np.asarray(lower, float), weights.shape)
    upper = np.broadcast_to(np.asarray(upper, float), weights.shape)
    assert np.all(np.isfinite(weights))
    assert np.all(weights >= lower - 1e-9), (weights - lower).min()
    assert np.all(weights <= upper + 1e-9), (weights - upper).max()
    assert abs(weights.sum() - budget) <= 1e-9


def test_methods_are_the_eleven_agreed_names() -> None:
    assert METHODS == ("mean_variance", "min_variance", "max_sharpe", "risk_parity",
                       "black_litterman", "max_diversification", "equal_weight",
                       "inverse_volatility", "cvar", "hrp", "robust")
    assert FALLBACK_METHODS == ("inverse_volatility", "equal_weight")


def test_aliases_and_spellings_resolve_to_canonical_names() -> None:
    assert canonical_method("cvar_optimization") == "cvar"
    assert canonical_method("Hierarchical-Risk-Parity") == "hrp"
    assert all(canonical_method(alias) == name for alias, name in METHOD_ALIASES.items())
    with pytest.raises(OptimizationError, match=r"method 'kelly'.*risk_parity"):
        canonical_method("kelly")


def test_method_options_list_what_each_method_accepts() -> None:
    assert "risk_aversion" in method_options("mean_variance")
    assert "risk_budgets" in method_options("risk_parity")
    assert set(method_options("cvar")) == {"confidence", "target_return"}
    assert method_options("equal_weight") == ()


def test_unknown_option_is_rejected_with_the_accepted_ones() -> None:
    cov, mu, _ = random_problem(0, 4)
    with pytest.raises(OptimizationError, match=r"risk_aversoin.*risk_aversion"):
        optimize("mean_variance", covariance=cov, expected_returns=mu, risk_aversoin=2.0)


@pytest.mark.parametrize("method", ["mean_variance", "max_sharpe", "robust"])
def test_methods_needing_expected_returns_say_so(method: str) -> None:
    cov, _, _ = random_problem(1, 4)
    with pytest.raises(OptimizationError, match=f"{method} needs expected_returns"):
        optimize(method, covariance=cov)


def test_cvar_without_scenarios_says_what_to_pass() -> None:
    cov, _, _ = random_problem(1, 4)
    with pytest.raises(OptimizationError, match="cvar needs return scenarios"):
        optimize("cvar", covariance=cov)


@pytest.mark.parametrize(
    ("bounds", "budget", "pattern"),
    [
        ((0.3, 1.0), 1.0, "lower bounds sum to 1.2, more than the budget 1"),
        ((0.0, 0.2), 1.0, "upper bounds sum to 0.8, less than the budget 1"),
        (([0.0, 0.5, 0.0, 0.0], [1.0, 0.4, 1.0, 1.0]), 1.0, "exceeds upper bound 0.4 for asset 1"),
        ((0.0, 1.0), 1.5, r"budget must lie in \(0, 1\]"),
        (([0.0, 0.0], 1.0), 1.0, "lower bounds have shape"),
    ],
)
def test_infeasible_or_malformed_bounds_raise_a_clear_error(bounds, budget, pattern) -> None:
    cov, _, _ = random_problem(2, 4)
    with pytest.raises(OptimizationError, match=pattern):
        optimize("min_variance", covariance=cov, bounds=bounds, budget=budget)


def test_non_finite_or_misshapen_inputs_raise() -> None:
    cov, mu, _ = random_problem(3, 3)
    bad = cov.copy()
    bad[0, 1] = np.nan
    with pytest.raises(OptimizationError, match="covariance holds NaN"):
        optimize("min_variance", covariance=bad)
    with pytest.raises(OptimizationError, match="square"):
        optimize("min_variance", covariance=cov[:2])
    with pytest.raises(OptimizationError, match="expected_returns has shape"):
        optimize("mean_variance", covariance=cov, expected_returns=mu[:2])
    with pytest.raises(OptimizationError, match="initial_weights must be 3"):
        optimize("min_variance", covariance=cov, initial_weights=[0.5, 0.5])


def test_singular_covariance_is_repaired_and_reported() -> None:
    cov, _, returns = random_problem(4, 4)
    duplicated = np.column_stack([returns, returns[:, 0]])  # asset 4 is asset 0 again
    singular = np.cov(duplicated, rowvar=False)
    assert np.linalg.matrix_rank(singular) == 4
    result = optimize("min_variance", covariance=singular)
    assert result.converged
    assert "not positive definite" in result.message and "repaired" in result.message
    assert_feasible(result.weights, 0.0, 1.0, 1.0)
    # The twins share the weight of the unrepaired problem's asset 0.
    alone = optimize("min_variance", covariance=cov).weights
    assert result.weights[0] + result.weights[4] == pytest.approx(alone[0], abs=1e-4)


def test_indefinite_and_asymmetric_covariances_are_repaired() -> None:
    cov = np.array([[0.04, 0.05, 0.0], [0.05, 0.04, 0.0], [0.0, 0.0, 0.09]])
    assert np.linalg.eigvalsh(cov)[0] < 0
    result = optimize("risk_parity", covariance=cov)
    assert "smallest eigenvalue -0.01" in result.message
    assert_feasible(result.weights, 0.0, 1.0, 1.0)
    skewed = np.array([[0.04, 0.01], [0.011, 0.09]])
    result = optimize("min_variance", covariance=skewed)
    assert "not symmetric" in result.message


def test_non_convergence_falls_back_to_inverse_volatility_and_says_why() -> None:
    cov, mu, _ = random_problem(5, 8)
    bounds = (0.0, 0.2)
    full = optimize("max_sharpe", covariance=cov, expected_returns=mu, bounds=bounds)
    assert full.converged and full.fallback is None
    starved = optimize("max_sharpe", covariance=cov, expected_returns=mu, bounds=bounds,
                       max_iterations=1)
    assert not starved.converged
    assert starved.fallback == "inverse_volatility"
    assert "did not settle" in starved.message and "fell back to inverse_volatility" in (
        starved.message)
    inverse = optimize("inverse_volatility", covariance=cov, bounds=bounds)
    np.testing.assert_allclose(starved.weights, inverse.weights, atol=1e-12)


def test_active_set_iteration_limit_triggers_the_fallback() -> None:
    cov, mu, _ = random_problem(6, 10)
    result = optimize("mean_variance", covariance=cov, expected_returns=100 * mu,
                      bounds=(0.0, 0.15), max_iterations=1)
    assert not result.converged and result.fallback == "inverse_volatility"
    assert "active-set QP hit its limit" in result.message


def test_max_sharpe_without_a_positive_excess_return_falls_back() -> None:
    cov, _, _ = random_problem(7, 5)
    result = optimize("max_sharpe", covariance=cov, expected_returns=np.full(5, 0.01),
                      risk_free=0.02)
    assert not result.converged and result.fallback == "inverse_volatility"
    assert "beat the risk-free rate" in result.message


def test_infeasible_cvar_target_falls_back() -> None:
    cov, _mu, returns = random_problem(8, 5)
    result = optimize("cvar", covariance=cov, returns=returns, target_return=1.0)
    assert not result.converged and result.fallback == "inverse_volatility"
    assert "linear programme not solved" in result.message


def test_result_is_read_only_and_records_as_json() -> None:
    cov, mu, _ = random_problem(9, 3)
    result = optimize("black_litterman", covariance=cov, expected_returns=mu)
    assert isinstance(result, OptimizationResult)
    with pytest.raises(ValueError, match="read-only"):
        result.weights[0] = 1.0
    record = result.to_record(["SPY", "TLT", "GLD"])
    assert set(record["weights"]) == {"SPY", "TLT", "GLD"}
    assert record["method"] == "black_litterman" and record["converged"] is True
    assert len(record["details"]["posterior_returns"]) == 3
    json.dumps(record)
    with pytest.raises(OptimizationError, match="2 tickers for 3 weights"):
        result.to_record(["SPY", "TLT"])


def test_inputs_are_not_modified() -> None:
    cov, mu, returns = random_problem(10, 5)
    lower = np.zeros(5)
    upper = np.full(5, 0.4)
    copies = [a.copy() for a in (cov, mu, returns, lower, upper)]
    for method in METHODS:
        optimize(method, covariance=cov, expected_returns=mu, returns=returns,
                 bounds=(lower, upper))
    for original, copy in zip((cov, mu, returns, lower, upper), copies, strict=True):
        np.testing.assert_array_equal(original, copy)
        assert original.flags.writeable


@st.composite
def problems(draw):
    n_assets = draw(st.integers(min_value=2, max_value=8))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    budget = draw(st.floats(min_value=0.2, max_value=1.0))
    kind = draw(st.sampled_from(["default", "caps", "floors_and_caps", "long_short"]))
    rng = np.random.default_rng(seed)
    if kind == "default":
        bounds = None
    elif kind == "caps":
        bounds = (0.0, rng.uniform(budget / n_assets * 1.01, budget, size=n_assets))
    elif kind == "floors_and_caps":
        lower = rng.uniform(0.0, budget / n_assets, size=n_assets) * rng.integers(0, 2, n_assets)
        upper = lower + rng.uniform(budget / n_assets, budget, size=n_assets)
        bounds = (lower, upper)
    else:
        bounds = (rng.uniform(-0.5, 0.0, size=n_assets), rng.uniform(budget / 2, 1.0, n_assets))
    return seed, n_assets, budget, bounds


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems())
def test_every_method_honours_bounds_and_budget(method: str, problem) -> None:
    seed, n_assets, budget, bounds = problem
    cov, mu, returns = random_problem(seed, n_assets, n_obs=60)
    result = optimize(method, covariance=cov, expected_returns=mu, returns=returns,
                      bounds=bounds, budget=budget)
    lower, upper = (0.0, budget) if bounds is None else bounds
    assert_feasible(result.weights, lower, upper, budget)
    assert result.method == method
    assert result.converged == (result.fallback is None)


def test_package_exports_and_imports_only_numpy_scipy_and_pure_stdlib() -> None:
    import ast
    import pathlib

    import strategy.optimizers as package

    for name in package.__all__:
        assert hasattr(package, name), name
    allowed = {"numpy", "scipy", "strategy", "__future__", "collections", "dataclasses",
               "inspect", "types", "typing"}
    folder = pathlib.Path(package.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                roots = set()
            assert roots <= allowed, f"{path.name} imports {roots - allowed}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"open", "exec", "eval", "__import__"}, path.name


@pytest.mark.parametrize("method", METHODS)
def test_a_single_asset_takes_the_whole_budget(method: str) -> None:
    result = optimize(method, covariance=[[0.04]], expected_returns=[0.05],
                      returns=np.array([[0.01], [-0.02], [0.03]]), budget=0.7)
    assert result.converged
    np.testing.assert_allclose(result.weights, [0.7], atol=1e-15)
