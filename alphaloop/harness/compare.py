"""Paired improvement test: is the branch better than ``main``, beyond noise?

Both strategies are simulated on the same days, so their daily returns come in pairs.
A metric functional ``f`` (reward, Sharpe, max drawdown, ...) is measured on each side
and the difference ``f(branch) - f(main)`` is the estimate. Its uncertainty comes from a
stationary block bootstrap (Politis and Romano; :class:`arch.bootstrap.StationaryBootstrap`)
that resamples *days* - both sides with the same indices, so the pairing and the serial
dependence within blocks survive - with the mean block length of
:func:`arch.bootstrap.optimal_block_length` on the daily differences and a fixed seed, so
the same inputs give the same figures bit for bit.

For each metric, with ``improvement = s * (f(branch) - f(main))`` (``s = +1`` where higher
is better, ``-1`` where lower is) and ``B`` resamples:

- the interval is the ``alpha`` and ``1 - alpha`` percentiles of the resampled
  differences, ``alpha = 1 - confidence``: each bound is a one-sided bound at
  ``confidence``;
- ``p_superior = (1 + #{improvement* <= min_effect}) / (1 + B)`` tests superiority
  (H0: the improvement is at most the minimum effect);
- ``p_noninferior = (1 + #{improvement* <= -margin}) / (1 + B)`` tests non-inferiority
  (H0: the branch is worse by at least the margin).

A test passes when its p-value is at most ``alpha``. After ``k`` distinct trials the
confidence is Sidak-adjusted to ``confidence ** (1 / k)`` (``alpha_k = 1 - (1 - alpha) **
(1 / k)``), the level at which the best of ``k`` independent tries of noise passes with
probability ``alpha``. Identical series are recognised and never bootstrapped: the
difference is exactly 0 on every resample.

The resamples are arch's own (:meth:`~arch.bootstrap.StationaryBootstrap.update_indices`,
drawn in the order :meth:`~arch.bootstrap.StationaryBootstrap.apply` draws them); the
metrics of a batch of them are computed at once, row by row, with the same operations as
:mod:`alphaloop.harness.metrics` applies to one series, so every figure is the one a
resample at a time would give, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.harness.metrics import (
    _ZERO_TOLERANCE,
    MetricsError,
    _annual_return,
    _annual_volatility,
    _calmar_ratio,
    _max_drawdown,
    _reward,
    _sharpe_ratio,
)

__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "CompareMetric",
    "MetricComparison",
    "PairedComparison",
    "compare_paired",
    "sidak_confidence",
]

CompareMetric = Literal["reward", "sharpe", "max_drawdown", "annual_return",
                        "annual_volatility", "turnover", "calmar"]

HIGHER_IS_BETTER: dict[str, bool] = {
    "reward": True, "sharpe": True, "annual_return": True, "calmar": True,
    "max_drawdown": False, "annual_volatility": False, "turnover": False,
}
"""Which way each metric improves."""

METRICS: tuple[str, ...] = tuple(HIGHER_IS_BETTER)
"""The metrics :func:`compare_paired` measures."""

#: Fewer paired days than this cannot carry a block bootstrap.
MIN_DAYS = 20

#: Resamples whose metrics are computed together (a few MB per series at daily length).
_BATCH = 200


class MetricComparison(BaseModel):
    """One metric's paired difference, its interval and its two one-sided tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: CompareMetric
    higher_is_better: bool
    branch: float
    main: float
    estimate: float = Field(description="branch - main on the observed days")
    ci_low: float = Field(description="alpha percentile of the resampled differences")
    ci_high: float = Field(description="1 - alpha percentile of the resampled differences")
    min_effect: float = Field(description="smallest improvement that counts as one")
    margin: float = Field(description="largest loss that still counts as no worse")
    p_superior: float = Field(description="one-sided p-value, H0: improvement <= min_effect")
    p_noninferior: float = Field(description="one-sided p-value, H0: improvement <= -margin")
    superior: bool
    noninferior: bool

    @property
    def improvement(self) -> float:
        """The estimate signed so that positive is better."""
        return self.estimate if self.higher_is_better else -self.estimate

    def text(self, test: Literal["superior", "noninferior"] = "superior") -> str:
        """``reward +0.1234 [+0.0456, +0.2012], p 0.0040`` with enough digits to tell."""
        p = self.p_superior if test == "superior" else self.p_noninferior
        return (f"{self.metric} {self.estimate:+.4g} (branch {self.branch:.4g}, main "
                f"{self.main:.4g}) interval [{self.ci_low:+.4g}, {self.ci_high:+.4g}], "
                f"p {p:.4f}")


class PairedComparison(BaseModel):
    """The paired test of branch against ``main`` over one set of days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: str
    n_days: int
    identical: bool = Field(description="the two return series are equal, day by day")
    block_length: float
    n_resamples: int
    seed: int
    base_confidence: float
    n_trials: int = Field(ge=1, description="distinct trials the confidence is deflated by")
    confidence: float = Field(description="Sidak-adjusted: base_confidence ** (1 / n_trials)")
    reward_lambda: float
    metrics: dict[str, MetricComparison]

    @property
    def alpha(self) -> float:
        return 1.0 - self.confidence

    def metric(self, name: str) -> MetricComparison:
        try:
            return self.metrics[name]
        except KeyError:
            raise KeyError(f"the comparison did not measure {name!r}; it has "
                           f"{', '.join(self.metrics)}") from None

    def describe(self) -> str:
        """How the figures were made, for a finding's message."""
        deflated = (f"{self.confidence:.4%} (Sidak for {self.n_trials} trials at "
                    f"{self.base_confidence:.0%})" if self.n_trials > 1 else
                    f"{self.confidence:.0%}")
        return (f"{self.n_days} paired days, stationary bootstrap of {self.n_resamples} "
                f"resamples, mean block {self.block_length:.1f} days, confidence {deflated}")


def sidak_confidence(confidence: float, n_trials: int) -> float:
    """The per-test confidence keeping the family-wise one at ``confidence`` over
    ``n_trials`` independent trials: ``confidence ** (1 / n_trials)``."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    return float(confidence ** (1.0 / n_trials))


def _functionals(lam: float, periods: float) -> dict[str, Callable[[np.ndarray, np.ndarray],
                                                                   float]]:
    return {
        "reward": lambda r, t: _reward(r, lam, periods),
        "sharpe": lambda r, t: _sharpe_ratio(r, periods),
        "max_drawdown": lambda r, t: _max_drawdown(r),
        "annual_return": lambda r, t: _annual_return(r, periods),
        "annual_volatility": lambda r, t: _annual_volatility(r, periods),
        "turnover": lambda r, t: float(np.mean(t) * periods),
        "calmar": lambda r, t: _calmar_ratio(r, periods),
    }


def _ratios(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``_ratio`` of each pair: a zero denominator gives +-inf, or NaN over zero."""
    out = numerator / denominator
    flat = denominator <= _ZERO_TOLERANCE
    if flat.any():
        top = numerator[flat]
        out[flat] = np.where(np.abs(top) <= _ZERO_TOLERANCE, math.nan,
                             np.copysign(math.inf, top))
    return out


def _batch_metrics(r: np.ndarray, t: np.ndarray, lam: float,
                   periods: float) -> dict[str, np.ndarray]:
    """Each metric of :func:`_functionals` of every row of ``r`` (returns) and ``t``
    (turnover), ``[resample, day]``: the operations of :mod:`alphaloop.harness.metrics`
    along each row, so each value equals the one computed on that row alone."""
    n = r.shape[1]
    root = math.sqrt(periods)
    # np.mean and np.std(ddof=1) as numpy computes them, sharing the row sums
    mean = np.sum(r, axis=1, keepdims=True) / n
    deviation = r - mean
    np.multiply(deviation, deviation, out=deviation)
    std = (np.sqrt(np.sum(deviation, axis=1) / (n - 1)) if n >= 2
           else np.full(r.shape[0], math.nan))
    sharpe = _ratios(mean[:, 0], std) * root
    wealth = np.cumprod(1.0 + r, axis=1)
    # the running peak from 1 before the first day; the deepest point is where wealth /
    # peak is least (1 - x falls as x rises, rounding included)
    peak = np.maximum.accumulate(wealth, axis=1)
    np.maximum(peak, 1.0, out=peak)
    drawdown = 1.0 - np.min(np.divide(wealth, peak, out=peak), axis=1)
    growth = np.expm1(np.sum(np.log1p(r), axis=1) * periods / n)  # -1 ruins a row: below
    annual = np.where(np.any(r == -1.0, axis=1), -1.0, growth)
    return {
        "reward": sharpe - lam * drawdown,
        "sharpe": sharpe,
        "max_drawdown": drawdown,
        "annual_return": annual,
        "annual_volatility": std * root,
        "turnover": np.mean(t, axis=1) * periods,
        "calmar": _ratios(annual, drawdown),
    }


def _resampled_differences(block: float, b: np.ndarray, m: np.ndarray, bt: np.ndarray,
                           mt: np.ndarray, *, names: Sequence[str], n_resamples: int,
                           seed: int, lam: float, periods: float) -> np.ndarray:
    """``f(branch) - f(main)`` of each metric of ``names`` (columns) on each of
    ``n_resamples`` stationary-bootstrap resamples of the paired days (rows): what
    ``StationaryBootstrap(block, b, m, bt, mt, seed=default_rng(seed)).apply(stats)``
    returns for the scalar metrics, computed a batch of resamples at a time."""
    from arch.bootstrap import StationaryBootstrap  # arch loads matplotlib: lazily

    bootstrap = StationaryBootstrap(block, b, m, bt, mt,  # type: ignore[arg-type]
                                    seed=np.random.default_rng(seed))
    draws = np.empty((n_resamples, len(names)))
    # undefined draws are NaN or infinite, quietly, as the scalar metrics make them
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n_resamples, _BATCH):
            count = min(_BATCH, n_resamples - start)
            rows = np.stack([bootstrap.update_indices() for _ in range(count)])
            branch = _batch_metrics(b[rows], bt[rows], lam, periods)
            main = _batch_metrics(m[rows], mt[rows], lam, periods)
            draws[start:start + count] = np.column_stack([branch[k] - main[k]
                                                          for k in names])
    return draws


def _checked(values: np.ndarray | list[float], name: str, n: int | None) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise MetricsError(f"{name} must be one-dimensional, got shape {array.shape}")
    if n is not None and array.size != n:
        raise MetricsError(f"{name} has {array.size} days but the branch returns have {n}; "
                           "the paired test needs the same days on both sides")
    if not np.isfinite(array).all():
        raise MetricsError(f"{name} holds a non-finite value; the paired test needs clean "
                           "daily series")
    return array


def _block_length(diff: np.ndarray) -> float:
    """The stationary bootstrap's mean block length for ``diff``, kept in [1, n / 4]."""
    n = diff.size
    try:
        from arch.bootstrap import optimal_block_length  # arch loads matplotlib: lazily

        value = float(optimal_block_length(diff)["stationary"].iloc[0])
    except (ValueError, ZeroDivisionError, FloatingPointError):
        value = math.nan
    if not math.isfinite(value):
        value = 1.0
    return float(min(max(value, 1.0), max(1.0, n / 4.0)))


def compare_paired(
    branch_returns: np.ndarray | list[float],
    main_returns: np.ndarray | list[float],
    *,
    branch_turnover: np.ndarray | list[float] | None = None,
    main_turnover: np.ndarray | list[float] | None = None,
    reward_lambda: float,
    min_effect: Mapping[str, float] | None = None,
    margin: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    n_trials: int = 1,
    n_resamples: int = 2000,
    seed: int = 0,
    periods_per_year: float = TRADING_DAYS_PER_YEAR,
    window: str = "walk_forward",
    higher_is_better: Mapping[str, bool] | None = None,
) -> PairedComparison:
    """The paired bootstrap comparison of two daily return series on the same days.

    ``branch_turnover``/``main_turnover`` are the traded fractions per day (0 without a
    trade); without them turnover is compared as 0 against 0. ``min_effect`` and
    ``margin`` map a metric to its thresholds (0 where missing), in the metric's units
    (drawdown and volatility as positive fractions). ``higher_is_better`` overrides
    :data:`HIGHER_IS_BETTER` for a metric claimed to move the other way. Raises
    :class:`~alphaloop.harness.metrics.MetricsError` for series that cannot be paired.
    """
    b = _checked(branch_returns, "branch returns", None)
    m = _checked(main_returns, "main returns", b.size)
    if b.size < MIN_DAYS:
        raise MetricsError(f"the paired test needs at least {MIN_DAYS} days, got {b.size}")
    zeros = np.zeros_like(b)
    bt = zeros if branch_turnover is None else _checked(branch_turnover, "branch turnover",
                                                        b.size)
    mt = zeros if main_turnover is None else _checked(main_turnover, "main turnover", b.size)
    adjusted = sidak_confidence(confidence, n_trials)
    alpha = 1.0 - adjusted
    functionals = _functionals(reward_lambda, periods_per_year)
    names = list(functionals)
    identical = bool(np.array_equal(b, m) and np.array_equal(bt, mt))
    observed_b = {k: float(f(b, bt)) for k, f in functionals.items()}
    observed_m = {k: float(f(m, mt)) for k, f in functionals.items()}
    if identical:
        block, draws = 1.0, np.zeros((n_resamples, len(names)))
    else:
        block = _block_length(b - m)
        draws = _resampled_differences(block, b, m, bt, mt, names=names,
                                       n_resamples=n_resamples,
                                       seed=seed, lam=reward_lambda,
                                       periods=periods_per_year)
    better = {**HIGHER_IS_BETTER, **(higher_is_better or {})}
    out: dict[str, MetricComparison] = {}
    for j, name in enumerate(names):
        sign = 1.0 if better[name] else -1.0
        diffs = draws[:, j]
        finite = diffs[np.isfinite(diffs)]
        effect = float((min_effect or {}).get(name, 0.0))
        loss = float((margin or {}).get(name, 0.0))
        improvement = sign * diffs  # NaN compares False: an undefined draw never helps
        p_sup = (1 + int(np.sum(~(improvement > effect)))) / (1 + n_resamples)
        p_non = (1 + int(np.sum(~(improvement > -loss)))) / (1 + n_resamples)
        low, high = ((float(np.quantile(finite, alpha)), float(np.quantile(finite, 1 - alpha)))
                     if finite.size else (math.nan, math.nan))
        estimate = observed_b[name] - observed_m[name]
        if identical:
            estimate = low = high = 0.0
        out[name] = MetricComparison(
            metric=name, higher_is_better=better[name],  # type: ignore[arg-type]
            branch=observed_b[name], main=observed_m[name], estimate=estimate,
            ci_low=low, ci_high=high, min_effect=effect, margin=loss,
            p_superior=p_sup, p_noninferior=p_non,
            superior=p_sup <= alpha, noninferior=p_non <= alpha)
    return PairedComparison(
        window=window, n_days=int(b.size), identical=identical, block_length=block,
        n_resamples=n_resamples, seed=seed, base_confidence=confidence, n_trials=n_trials,
        confidence=adjusted, reward_lambda=reward_lambda, metrics=out)
