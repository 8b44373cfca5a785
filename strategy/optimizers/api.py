"""The one entry point: :func:`optimize` dispatches to a method by name.

Every call validates its inputs, repairs a covariance that is not positive definite,
runs the method, and cleans the answer so it satisfies the bounds and budget within
1e-9. When a method cannot solve the problem (a solver that does not converge, a
max-Sharpe problem with no asset beating the risk-free rate, an infeasible CVaR target)
it degrades instead of failing: the weights come from the first method of
``FALLBACK_METHODS`` that works, and the result says so (``converged=False``,
``fallback`` naming the method, ``message`` giving the reason). Only requests that
cannot be honoured at all raise :class:`OptimizationError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from strategy.optimizers.black_litterman import black_litterman
from strategy.optimizers.classical import max_sharpe, mean_variance, min_variance
from strategy.optimizers.cvar import min_cvar
from strategy.optimizers.hrp import hierarchical_risk_parity
from strategy.optimizers.problem import BoundsLike, MethodOutcome, Problem, build_problem
from strategy.optimizers.projection import project_to_bounds
from strategy.optimizers.result import OptimizationError, OptimizationResult
from strategy.optimizers.risk_based import (
    equal_weight,
    inverse_volatility,
    max_diversification,
    risk_parity,
)
from strategy.optimizers.robust import robust

__all__ = [
    "FALLBACK_METHODS",
    "METHODS",
    "METHOD_ALIASES",
    "canonical_method",
    "method_options",
    "optimize",
]

METHODS: tuple[str, ...] = (
    "mean_variance",
    "min_variance",
    "max_sharpe",
    "risk_parity",
    "black_litterman",
    "max_diversification",
    "equal_weight",
    "inverse_volatility",
    "cvar",
    "hrp",
    "robust",
)
"""Canonical method names accepted by :func:`optimize`."""

METHOD_ALIASES: MappingProxyType[str, str] = MappingProxyType({
    "cvar_optimization": "cvar",
    "hierarchical_risk_parity": "hrp",
    "robust_optimization": "robust",
    "minimum_variance": "min_variance",
    "maximum_sharpe": "max_sharpe",
    "maximum_diversification": "max_diversification",
    "inverse_vol": "inverse_volatility",
})
"""Other spellings (e.g. the FinSage tool names) and the method they mean."""

FALLBACK_METHODS: tuple[str, ...] = ("inverse_volatility", "equal_weight")
"""Tried in order when the requested method cannot solve the problem."""

_Method = Callable[..., MethodOutcome]
_FUNCTIONS: MappingProxyType[str, _Method] = MappingProxyType({
    "mean_variance": mean_variance,
    "min_variance": min_variance,
    "max_sharpe": max_sharpe,
    "risk_parity": risk_parity,
    "black_litterman": black_litterman,
    "max_diversification": max_diversification,
    "equal_weight": equal_weight,
    "inverse_volatility": inverse_volatility,
    "cvar": min_cvar,
    "hrp": hierarchical_risk_parity,
    "robust": robust,
})

_BOUND_TOLERANCE = 1e-9


def _keyword_options(function: _Method) -> tuple[str, ...]:
    parameters = inspect.signature(function).parameters
    return tuple(name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY)


# Each method's keyword options, read once: ``inspect.signature`` is slow, and every
# ``optimize`` call checks its options against these.
_OPTIONS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {name: _keyword_options(function) for name, function in _FUNCTIONS.items()})


def canonical_method(method: str) -> str:
    """The canonical name of ``method`` (accepting aliases), or a clear error."""
    name = str(method).strip().lower().replace("-", "_")
    name = METHOD_ALIASES.get(name, name)
    if name not in _FUNCTIONS:
        raise OptimizationError(
            f"unknown optimisation method {method!r}; choose one of {', '.join(METHODS)}"
        )
    return name


def method_options(method: str) -> tuple[str, ...]:
    """Names of the keyword options ``method`` accepts through ``optimize(**options)``."""
    return _OPTIONS[canonical_method(method)]


def _checked_options(name: str, options: dict[str, Any], problem: Problem) -> dict[str, Any]:
    accepted = method_options(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise OptimizationError(
            f"{name} does not accept option(s) {unknown}; it accepts "
            f"{list(accepted) or 'no options'}"
        )
    checked = dict(options)
    if checked.get("initial_weights") is not None:
        start = np.asarray(checked["initial_weights"], dtype=float)
        if start.shape != (problem.n_assets,) or not np.all(np.isfinite(start)):
            raise OptimizationError(
                f"initial_weights must be {problem.n_assets} finite numbers; got shape "
                f"{start.shape}"
            )
        checked["initial_weights"] = start
    return checked


def _feasible(weights: np.ndarray, problem: Problem) -> np.ndarray | None:
    if weights.shape != (problem.n_assets,) or not np.all(np.isfinite(weights)):
        return None
    cleaned = project_to_bounds(weights, problem.lower, problem.upper, problem.budget)
    if (np.all(cleaned >= problem.lower - _BOUND_TOLERANCE)
            and np.all(cleaned <= problem.upper + _BOUND_TOLERANCE)
            and abs(cleaned.sum() - problem.budget) <= _BOUND_TOLERANCE):
        return cleaned
    return None


def _run(name: str, problem: Problem, options: dict[str, Any]) -> MethodOutcome:
    try:
        return _FUNCTIONS[name](problem, **options)
    except OptimizationError:
        raise
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as error:
        return MethodOutcome(np.full(problem.n_assets, np.nan), False,
                             f"{name} failed: {type(error).__name__}: {error}")


def optimize(
    method: str,
    *,
    covariance: np.ndarray,
    expected_returns: np.ndarray | None = None,
    returns: np.ndarray | None = None,
    bounds: BoundsLike | None = None,
    budget: float = 1.0,
    **options: Any,
) -> OptimizationResult:
    """Portfolio weights by ``method`` within ``bounds`` summing to ``budget``.

    Args:
        method: one of :data:`METHODS` (or an alias from :data:`METHOD_ALIASES`).
        covariance: ``[asset, asset]`` covariance of per-period returns.
        expected_returns: per-asset expected returns in the same units (needed by
            mean_variance, max_sharpe and robust; views for black_litterman).
        returns: ``[scenario, asset]`` return scenarios (needed by cvar; sets the number
            of observations for robust).
        bounds: ``(lower, upper)``, each a scalar or one value per asset; default
            long-only ``0 <= w <= budget``. Negative lower bounds allow short positions
            in the methods that can use them (mean-variance family, cvar).
        budget: sum of the weights, in (0, 1]; the rest is cash.
        **options: method-specific settings, see :func:`method_options` (e.g.
            ``risk_aversion``, ``risk_free``, ``risk_budgets``, ``confidence``,
            ``uncertainty``, ``initial_weights`` for a warm start, ``max_iterations``).

    Raises:
        OptimizationError: unknown method or option, malformed inputs, or bounds no
            portfolio can satisfy (the message names them).
    """
    name = canonical_method(method)
    problem = build_problem(covariance=covariance, expected_returns=expected_returns,
                            returns=returns, bounds=bounds, budget=budget)
    outcome = _run(name, problem, _checked_options(name, options, problem))
    notes = list(problem.notes)
    weights = _feasible(np.asarray(outcome.weights, dtype=float), problem)
    if outcome.converged and weights is not None:
        if outcome.message:
            notes.append(outcome.message)
        return OptimizationResult(weights, name, True, None, "; ".join(notes),
                                  dict(outcome.details))
    notes.append(outcome.message or f"{name} produced no feasible weights")
    for fallback in FALLBACK_METHODS:
        if fallback == name:
            continue
        backup = _run(fallback, problem, {})
        weights = _feasible(np.asarray(backup.weights, dtype=float), problem)
        if backup.converged and weights is not None:
            notes.append(f"fell back to {fallback}")
            return OptimizationResult(weights, name, False, fallback, "; ".join(notes),
                                      dict(outcome.details))
        notes.append(backup.message or f"{fallback} produced no feasible weights")
    raise OptimizationError(  # unreachable for feasible bounds: equal_weight always works
        f"no method could produce feasible weights: {'; '.join(notes)}"
    )
