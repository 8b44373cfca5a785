"""Is a backtested improvement real, or the best of many lucky tries?

Two guards from the backtest-overfitting literature:

- The **deflated Sharpe ratio** (Bailey & Lopez de Prado, 2014, "The Deflated Sharpe
  Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality"): the
  probability that the true Sharpe ratio of the selected strategy is above the Sharpe
  ratio the best of ``n_trials`` skill-less strategies would show by luck. It builds on
  the **probabilistic Sharpe ratio** (Bailey & Lopez de Prado, 2012), which corrects a
  Sharpe estimate for sample length, skew and fat tails.
- The **probability of backtest overfitting** (Bailey, Borwein, Lopez de Prado & Zhu,
  2015, "The Probability of Backtest Overfitting"), estimated by combinatorially
  symmetric cross-validation (CSCV): how often the configuration that is best in sample
  ranks in the bottom half out of sample.

Units matter. Sharpe ratios here are **per period** (daily mean over daily standard
deviation, not annualised) and kurtosis is **raw** (3 for a normal distribution, not 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict
from scipy import stats

from alphaloop.harness.metrics import MetricsError, sharpe_ratio
from alphaloop.harness.metrics import kurtosis as sample_kurtosis
from alphaloop.harness.metrics import skew as sample_skew

__all__ = [
    "DeflatedSharpeReport",
    "OverfittingError",
    "PBOResult",
    "deflated_sharpe_from_returns",
    "deflated_sharpe_ratio",
    "deflated_sharpe_report",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
]

EULER_MASCHERONI = 0.5772156649015329

# C(20, 10) = 184,756 train/test splits; beyond this CSCV costs more than it tells.
_MAX_COMBINATIONS = 200_000

PerformanceMetric = Literal["sharpe", "mean"] | Callable[[np.ndarray], np.ndarray]


class OverfittingError(MetricsError):
    """Inputs to an overfitting statistic are invalid; the message says which and why."""


def _whole_number(value: object, name: str, minimum: int) -> int:
    """``value`` as an int if it is a whole number >= ``minimum``, else a clear error."""
    numeric = isinstance(value, int | float | np.integer | np.floating)
    whole = None
    if numeric and not isinstance(value, bool) and math.isfinite(value) and int(value) == value:
        whole = int(value)
    if whole is None or whole < minimum:
        raise OverfittingError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return whole


def probabilistic_sharpe_ratio(
    sr: float, n_obs: int, skew: float, kurtosis: float, sr_benchmark: float = 0.0
) -> float:
    """Probability that the true per-period Sharpe ratio exceeds ``sr_benchmark``.

    ``PSR = Phi((sr - sr_benchmark) * sqrt(n_obs - 1) / sqrt(1 - skew * sr
    + (kurtosis - 1) / 4 * sr ** 2))``, with ``sr`` the observed per-period Sharpe ratio
    over ``n_obs`` returns, ``skew`` their skewness and ``kurtosis`` their *raw* kurtosis.
    For normal returns (skew 0, kurtosis 3) the denominator is ``sqrt(1 + sr ** 2 / 2)``.
    """
    for name, value in (("sr", sr), ("skew", skew), ("kurtosis", kurtosis),
                        ("sr_benchmark", sr_benchmark)):
        if not math.isfinite(value):
            raise OverfittingError(f"{name} must be a finite number, got {value}")
    n_obs = _whole_number(n_obs, "n_obs (the number of returns)", 2)
    if kurtosis < 1.0:
        raise OverfittingError(
            f"kurtosis {kurtosis} is below 1, impossible for raw kurtosis; pass raw "
            "kurtosis (3 for normal returns), not excess kurtosis"
        )
    variance = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr**2
    if variance <= 0.0:
        raise OverfittingError(
            f"skew {skew} and kurtosis {kurtosis} give a non-positive Sharpe variance "
            f"({variance:.3g}) at sr={sr}; they cannot come from one return series"
        )
    z = (sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance)
    return float(stats.norm.cdf(z))


def expected_max_sharpe(sr_variance: float, n_trials: int) -> float:
    """Expected largest Sharpe ratio among ``n_trials`` skill-less strategies.

    ``sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))`` with ``V`` the
    variance of the trials' Sharpe ratios, ``N`` the number of independent trials and
    ``g`` the Euler-Mascheroni constant. One trial has no selection: the result is 0.
    """
    n_trials = _whole_number(n_trials, "n_trials", 1)
    if not (math.isfinite(sr_variance) and sr_variance >= 0.0):
        raise OverfittingError(
            f"sr_variance must be a finite non-negative variance, got {sr_variance}"
        )
    if n_trials == 1 or sr_variance == 0.0:
        return 0.0
    n = float(n_trials)
    quantiles = stats.norm.ppf([1.0 - 1.0 / n, 1.0 - 1.0 / (n * math.e)])
    spread = (1.0 - EULER_MASCHERONI) * quantiles[0] + EULER_MASCHERONI * quantiles[1]
    return float(math.sqrt(sr_variance) * spread)


def deflated_sharpe_ratio(
    sr: float, n_obs: int, skew: float, kurtosis: float, sr_variance: float, n_trials: int
) -> float:
    """Probability that the selected strategy's Sharpe ratio beats pure selection luck.

    The probabilistic Sharpe ratio against :func:`expected_max_sharpe` of the trials.
    ``sr`` is per period, ``kurtosis`` raw, ``sr_variance`` the variance of the per-period
    Sharpe ratios of all ``n_trials`` configurations tried. With one trial this equals
    ``probabilistic_sharpe_ratio(sr, n_obs, skew, kurtosis)``. Values above 0.95 are
    the usual bar for calling the result significant.
    """
    benchmark = expected_max_sharpe(sr_variance, n_trials)
    return probabilistic_sharpe_ratio(sr, n_obs, skew, kurtosis, sr_benchmark=benchmark)


class DeflatedSharpeReport(BaseModel):
    """The deflated Sharpe ratio with every input it was computed from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sharpe: float
    n_obs: int
    skew: float
    kurtosis: float
    n_trials: int
    sr_variance: float
    expected_max_sharpe: float
    probability: float


def deflated_sharpe_report(
    returns: ArrayLike,
    trial_sharpes: ArrayLike | Sequence[float],
    *,
    periods_per_year: float | None = None,
) -> DeflatedSharpeReport:
    """Deflated Sharpe ratio of ``returns``, selected from the ``trial_sharpes`` tried.

    ``trial_sharpes`` holds the Sharpe ratio of every configuration tried (the selected
    one included), per period. If they are annualised, pass the ``periods_per_year`` used
    and they are brought back to per period. Their sample variance and count set the
    luck benchmark.
    """
    trials = np.asarray(trial_sharpes, dtype=float).ravel()
    if trials.size < 1:
        raise OverfittingError("trial_sharpes is empty: pass the Sharpe ratio of every trial")
    if not np.all(np.isfinite(trials)):
        raise OverfittingError("trial_sharpes holds NaN or inf; drop trials with no Sharpe")
    if periods_per_year is not None:
        if periods_per_year <= 0:
            raise OverfittingError(f"periods_per_year must be positive, got {periods_per_year}")
        trials = trials / math.sqrt(periods_per_year)
    r = np.asarray(returns, dtype=float)
    sr = sharpe_ratio(r, periods_per_year=1)
    gamma3, gamma4 = sample_skew(r), sample_kurtosis(r, excess=False)
    if not all(math.isfinite(v) for v in (sr, gamma3, gamma4)):
        raise OverfittingError(
            f"the returns give no finite Sharpe, skew and kurtosis (n={r.size}); "
            "they need at least 4 periods and non-zero volatility"
        )
    variance = float(np.var(trials, ddof=1)) if trials.size > 1 else 0.0
    benchmark = expected_max_sharpe(variance, int(trials.size))
    probability = probabilistic_sharpe_ratio(sr, r.size, gamma3, gamma4, benchmark)
    return DeflatedSharpeReport(
        sharpe=sr, n_obs=int(r.size), skew=gamma3, kurtosis=gamma4, n_trials=int(trials.size),
        sr_variance=variance, expected_max_sharpe=benchmark, probability=probability,
    )


def deflated_sharpe_from_returns(
    returns: ArrayLike,
    trial_sharpes: ArrayLike | Sequence[float],
    *,
    periods_per_year: float | None = None,
) -> float:
    """The probability of :func:`deflated_sharpe_report`, for callers that need only it."""
    return deflated_sharpe_report(
        returns, trial_sharpes, periods_per_year=periods_per_year
    ).probability


class PBOResult(BaseModel):
    """Outcome of combinatorially symmetric cross-validation over ``n_trials`` columns.

    ``pbo`` is the share of train/test splits in which the best in-sample configuration
    ranks at or below the out-of-sample median (logit <= 0). ``logits`` holds one value per
    split (``log(w / (1 - w))`` of the selected configuration's relative out-of-sample rank
    ``w``). ``degradation_slope`` and ``degradation_intercept`` regress the selected
    configuration's out-of-sample performance on its in-sample performance (a slope well
    below 1 means in-sample winners disappoint); None when in-sample performance did not
    vary. ``probability_of_loss`` is the share of splits where that out-of-sample
    performance is negative.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pbo: float
    logits: list[float]
    n_combinations: int
    n_splits: int
    n_trials: int
    rows_used: int
    degradation_slope: float | None
    degradation_intercept: float | None
    probability_of_loss: float


def _split_masks(n_splits: int) -> np.ndarray:
    """Boolean [combination, block]: True for the blocks in the training half."""
    chosen = np.array(list(combinations(range(n_splits), n_splits // 2)), dtype=np.intp)
    masks = np.zeros((chosen.shape[0], n_splits), dtype=bool)
    np.put_along_axis(masks, chosen, True, axis=1)
    return masks


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio; a zero denominator gives +-inf by sign, or 0 for 0 / 0."""
    out = np.zeros_like(numerator)
    positive = denominator > 0.0
    np.divide(numerator, denominator, out=out, where=positive)
    degenerate = ~positive & (numerator != 0.0)
    out[degenerate] = np.copysign(np.inf, numerator[degenerate])
    return out


def _additive_performance(
    blocks: np.ndarray, masks: np.ndarray, metric: Literal["sharpe", "mean"]
) -> tuple[np.ndarray, np.ndarray]:
    """In- and out-of-sample [combination, trial] performance from per-block sums."""
    n_blocks, block_rows, n_trials = blocks.shape
    # Centre each column first: sums of squares of small deviations lose no precision.
    shift = blocks.reshape(-1, n_trials).mean(axis=0)
    centred = blocks - shift
    sums, squares = centred.sum(axis=1), (centred**2).sum(axis=1)
    rows = block_rows * (n_blocks // 2)
    out = []
    for half in (masks, ~masks):
        weights = half.astype(float)
        mean_centred = weights @ sums / rows
        if metric == "mean":
            out.append(mean_centred + shift)
            continue
        variance = (weights @ squares - rows * mean_centred**2) / (rows - 1)
        std = np.sqrt(np.maximum(variance, 0.0))
        std[std <= 1e-12] = 0.0
        out.append(_safe_divide(mean_centred + shift, std))
    return out[0], out[1]


def _callable_performance(
    blocks: np.ndarray, masks: np.ndarray, metric: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    n_trials = blocks.shape[2]
    results = []
    for half in (masks, ~masks):
        values = np.empty((masks.shape[0], n_trials))
        for i, chosen in enumerate(half):
            scores = np.asarray(metric(blocks[chosen].reshape(-1, n_trials)), dtype=float)
            if scores.shape != (n_trials,):
                raise OverfittingError(
                    f"the metric returned shape {scores.shape}; it must return one score "
                    f"per configuration, shape ({n_trials},)"
                )
            values[i] = scores
        results.append(values)
    return results[0], results[1]


def probability_of_backtest_overfitting(
    performance: ArrayLike,
    n_splits: int = 16,
    metric: PerformanceMetric = "sharpe",
) -> PBOResult:
    """Estimate the probability of backtest overfitting by CSCV.

    ``performance`` is a [T, N] array: the per-period returns of each of the ``N``
    configurations tried (columns) over the same ``T`` periods (rows). The rows are cut
    into ``n_splits`` contiguous blocks of equal size (the oldest ``T mod n_splits`` rows
    are dropped); every way of choosing half of the blocks for training and the rest for
    testing is one split. In each split the configuration with the best in-sample
    ``metric`` is selected and its out-of-sample rank among all configurations recorded.

    ``metric`` is ``"sharpe"`` (per-period Sharpe ratio; zero volatility counts as +-inf,
    or 0 with a zero mean), ``"mean"``, or a function mapping a [rows, N] array to N
    scores, called twice per split (slower). Ties out of sample get their average rank.
    """
    matrix = np.asarray(performance, dtype=float)
    if matrix.ndim != 2:
        raise OverfittingError(
            f"performance must be a 2-D [periods, trials] array, got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise OverfittingError("performance holds NaN or inf; fill or drop those periods")
    n_splits = _whole_number(n_splits, "n_splits", 2)
    if n_splits % 2:
        raise OverfittingError(
            f"n_splits must be even so that train and test halves match, got {n_splits}"
        )
    n_rows, n_trials = matrix.shape
    if n_trials < 2:
        raise OverfittingError(
            f"performance has {n_trials} column(s); CSCV ranks trials against each other "
            "and needs at least 2"
        )
    block_rows = n_rows // n_splits
    if block_rows < 2:
        raise OverfittingError(
            f"performance has {n_rows} rows; n_splits={n_splits} needs at least "
            f"{2 * n_splits} (2 per block): use fewer splits or a longer history"
        )
    n_combinations = math.comb(n_splits, n_splits // 2)
    if n_combinations > _MAX_COMBINATIONS:
        raise OverfittingError(
            f"n_splits={n_splits} gives {n_combinations} splits, more than "
            f"{_MAX_COMBINATIONS}; use n_splits <= 20"
        )
    rows_used = block_rows * n_splits
    blocks = matrix[n_rows - rows_used:].reshape(n_splits, block_rows, n_trials)
    masks = _split_masks(n_splits)
    if callable(metric):
        in_sample, out_of_sample = _callable_performance(blocks, masks, metric)
    elif metric in ("sharpe", "mean"):
        in_sample, out_of_sample = _additive_performance(blocks, masks, metric)
    else:
        raise OverfittingError(f"unknown metric {metric!r}; use 'sharpe', 'mean' or a function")
    if np.any(np.isnan(in_sample)) or np.any(np.isnan(out_of_sample)):
        raise OverfittingError("the metric returned NaN for some split; it must always score")

    best = np.argmax(in_sample, axis=1)
    picked = np.arange(masks.shape[0])
    chosen_out = out_of_sample[picked, best]
    # average rank (1 = worst) of the selected configuration among all, out of sample
    below = np.sum(out_of_sample < chosen_out[:, None], axis=1)
    tied = np.sum(out_of_sample == chosen_out[:, None], axis=1)
    ranks = below + (tied + 1) / 2.0
    relative = ranks / (n_trials + 1.0)
    logits = np.log(relative / (1.0 - relative))

    chosen_in = in_sample[picked, best]
    slope = intercept = None
    finite = np.isfinite(chosen_in) & np.isfinite(chosen_out)
    if finite.sum() >= 2 and np.ptp(chosen_in[finite]) > 0.0:
        fit = stats.linregress(chosen_in[finite], chosen_out[finite])
        slope, intercept = float(fit.slope), float(fit.intercept)
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits.tolist(),
        n_combinations=n_combinations,
        n_splits=n_splits,
        n_trials=n_trials,
        rows_used=rows_used,
        degradation_slope=slope,
        degradation_intercept=intercept,
        probability_of_loss=float(np.mean(chosen_out < 0.0)),
    )
