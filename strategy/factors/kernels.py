"""Array kernels behind the factor scorers: ndarray in, ndarray out, no pandas.

Arrays are ``[day, asset]`` windows ending at the decision date (last row = today) or
``[asset]`` vectors. Missing values are NaN; every kernel tolerates them without
warnings and returns NaN where an asset has too little data. Results that are scores
are clipped to ``[-CLIP, CLIP]``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from alphaloop.contract import TRADING_DAYS_PER_YEAR

__all__ = [
    "CLIP",
    "MIN_ASSETS_FOR_ZSCORE",
    "MIN_MOMENTUM_DAYS",
    "cornish_fisher_var",
    "cross_sectional",
    "idiosyncratic_volatility",
    "last_valid",
    "log_growth",
    "log_returns",
    "momentum",
    "normal_cdf",
    "own_history_z",
    "realised_volatility",
    "scaled_level",
    "volatility_regime_z",
]

CLIP = 3.0
#: Classes with fewer assets than this are normalised by rank, not by z-score.
MIN_ASSETS_FOR_ZSCORE = 5
#: Momentum needs at least this many days between its start and its skipped tail.
MIN_MOMENTUM_DAYS = 21


_ONES: dict[int, np.ndarray] = {}


def _ones(n: int) -> np.ndarray:
    """A read-only vector of ``n`` ones, made once per length (windows repeat lengths)."""
    ones = _ONES.get(n)
    if ones is None:
        ones = np.ones(n)
        ones.setflags(write=False)
        if len(_ONES) < 64:
            _ONES[n] = ones
    return ones


def _day_sum(x: np.ndarray) -> np.ndarray:
    """Sum over the day axis (``-2``) of a finite array.

    A product with a vector of ones: BLAS does it many times faster than a strided
    ``sum(axis=-2)`` over these tall, narrow ``[day, asset]`` windows.
    """
    return _ones(x.shape[-2]) @ x


def _mean_std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, population std and count of the finite values along the day axis (``-2``)."""
    n = x.shape[-2]
    if n == 0:
        shape = x.shape[:-2] + x.shape[-1:]
        return np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, dtype=int)
    finite = np.isfinite(x)
    if finite.all():
        mean = _day_sum(x) / n
        centred = x - mean[..., None, :]
        std = np.sqrt(_day_sum(centred * centred) / n)
        return mean, std, np.full(std.shape, n)
    count = _day_sum(finite.astype(float))
    safe = np.maximum(count, 1.0)
    mean = _day_sum(np.where(finite, x, 0.0)) / safe
    centred = np.where(finite, x - mean[..., None, :], 0.0)
    std = np.sqrt(_day_sum(centred * centred) / safe)
    empty = count == 0
    return np.where(empty, np.nan, mean), np.where(empty, np.nan, std), count.astype(int)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where both are finite and ``den > 0``; 0 where ``den`` is 0; else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.true_divide(num, den)
        defined = np.isfinite(num) & np.isfinite(den)
        return np.where(den > 1e-15, out, np.where(defined, 0.0, np.nan))


def _clip(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, -CLIP), CLIP)


def last_valid(series: np.ndarray) -> np.ndarray:
    """The most recent finite value along the day axis (``-2``); NaN where there is none."""
    last = series[..., -1, :]
    if np.isfinite(last).all():
        return last.copy()
    finite = np.isfinite(series)
    idx = series.shape[-2] - 1 - np.argmax(finite[..., ::-1, :], axis=-2)
    out = np.take_along_axis(series, np.expand_dims(idx, -2), axis=-2)[..., 0, :]
    return np.where(finite.any(axis=-2), out, np.nan)


def normal_cdf(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(ndtr(x), dtype=float)


def log_returns(prices: np.ndarray) -> np.ndarray:
    """Daily log returns ``[day - 1, asset]`` of positive prices."""
    return np.diff(np.log(prices), axis=0)


def momentum(prices: np.ndarray, lookback: int, skip: int
             ) -> tuple[np.ndarray, np.ndarray] | None:
    """Time-series momentum over ``[t - lookback, t - skip]``.

    Returns ``(simple_return, t_stat)`` per asset, where ``t_stat`` is the log return
    divided by its volatility over the same span (a trend's signal-to-noise, comparable
    across assets and dates), or ``None`` when the window holds fewer than
    :data:`MIN_MOMENTUM_DAYS` usable days. A shorter history shortens the lookback.
    """
    n_days = prices.shape[0]
    lookback = min(int(lookback), n_days - 1)
    span = lookback - int(skip)
    if span < MIN_MOMENTUM_DAYS:
        return None
    start, end = prices[-1 - lookback], prices[-1 - skip]
    total = np.log(end / start)
    daily = log_returns(prices[-1 - lookback:n_days - skip])
    _, sigma, _ = _mean_std(daily)
    t_stat = _clip(_ratio(total, sigma * np.sqrt(span)))
    return np.expm1(total), t_stat


def realised_volatility(returns: np.ndarray, days: int) -> np.ndarray:
    """Annualised standard deviation of the last ``days`` daily returns, per asset."""
    _, sigma, count = _mean_std(returns[-int(days):])
    return np.where(count >= 2, sigma * math.sqrt(TRADING_DAYS_PER_YEAR), np.nan)


def own_history_z(series: np.ndarray) -> np.ndarray:
    """The latest value against the asset's own history in the window: ``(x - mean) / std``.

    ``series`` is ``[..., day, asset]``; the latest value is the last finite one. A flat
    history scores 0, no data NaN.
    """
    mean, std, _ = _mean_std(series)
    return _clip(_ratio(last_valid(series) - mean, std))


def scaled_level(series: np.ndarray) -> np.ndarray:
    """The latest value over the root-mean-square of its history: keeps the level's sign.

    Used where the level itself is the signal (a positive roll yield or basis is bullish
    whatever its past), scaled so that a typical magnitude scores about 1.
    """
    finite = np.isfinite(series)
    count = _day_sum(finite.astype(float))
    squares = _day_sum(np.where(finite, series * series, 0.0))
    rms = np.where(count > 0, np.sqrt(squares / np.maximum(count, 1)), np.nan)
    return _clip(_ratio(last_valid(series), rms))


def log_growth(series: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Growth of a positive index over ``horizon`` days: ``(today's log growth, scaled)``.

    ``scaled`` divides today's growth by the root-mean-square of the growth rates seen in
    the window, so steady growth scores about +1 and an unusual burst more. ``None`` when
    the window is shorter than ``horizon + 2`` days.
    """
    horizon = int(horizon)
    if series.shape[0] < horizon + 2:
        return None
    positive = np.where(series > 0, series, np.nan)
    growth = np.log(positive[horizon:] / positive[:-horizon])
    return last_valid(growth), scaled_level(growth)


def idiosyncratic_volatility(returns: np.ndarray) -> np.ndarray:
    """Annualised volatility of each asset's residual against the class's mean return.

    The residual is what remains after regressing an asset's daily returns on the
    equal-weighted average of the class (its own beta); rows with any NaN are dropped.
    """
    rows = np.all(np.isfinite(returns), axis=1)
    r = returns[rows]
    if r.shape[0] < 3:
        return np.full(returns.shape[1], np.nan)
    market = r.mean(axis=1)
    rc, mc = r - _day_sum(r) / r.shape[0], market - market.mean()
    var_m = float(mc @ mc)
    beta = (mc @ rc) / var_m if var_m > 0 else np.zeros(r.shape[1])
    residual = rc - np.outer(mc, beta)
    _, sigma, _ = _mean_std(residual)
    return sigma * math.sqrt(TRADING_DAYS_PER_YEAR)


def cornish_fisher_var(returns: np.ndarray, level: float = 0.99) -> np.ndarray:
    """Daily modified (Cornish-Fisher) value at risk per asset, as a positive loss.

    Combines volatility, skewness and excess kurtosis into one tail-loss estimate: fat
    left tails raise it. Skew is clipped to [-2, 2] and excess kurtosis to [0, 10], where
    the expansion stays monotone.
    """
    mean, std, count = _mean_std(returns)
    z = (returns - mean) / np.where(std > 0, std, 1.0)
    z = np.where(np.isfinite(z), z, 0.0)
    safe = np.maximum(count, 1)
    cubed = z * z * z
    skew = np.clip(_day_sum(cubed) / safe, -2.0, 2.0)
    kurt = np.clip(_day_sum(cubed * z) / safe - 3.0, 0.0, 10.0)
    q = float(ndtri(1.0 - level))
    zq = (q + (q**2 - 1) * skew / 6 + (q**3 - 3 * q) * kurt / 24
          - (2 * q**3 - 5 * q) * skew**2 / 36)
    var = -(mean + zq * std)
    return np.where(count >= 10, var, np.nan)


def volatility_regime_z(returns: np.ndarray, window: int = 21) -> np.ndarray:
    """Today's ``window``-day volatility against its own history in the whole window (z)."""
    if returns.shape[0] < 2 * window:
        return np.full(returns.shape[1], np.nan)
    sq = np.where(np.isfinite(returns), returns**2, 0.0)
    csum = np.vstack([np.zeros((1, sq.shape[1])), np.cumsum(sq, axis=0)])
    rolling = np.sqrt((csum[window:] - csum[:-window]) / window)
    return own_history_z(rolling)


def cross_sectional(values: np.ndarray) -> tuple[np.ndarray, str]:
    """Normalise factor values across the assets of a class; NaN stays NaN.

    ``values`` is ``[asset]`` or ``[factor, asset]`` (each row normalised on its own).
    With at least :data:`MIN_ASSETS_FOR_ZSCORE` valid assets in a row: z-scores
    (population standard deviation, clipped). With fewer: normal scores of the average
    ranks, ``ndtri((rank - 0.5) / m)``, because a z-score over two or three numbers is
    dominated by a single outlier. A row with fewer than two valid assets, or no spread
    at all, scores 0. Returns ``(scores, method)``, the method of the last row
    (``"zscore"`` or ``"rank"``).
    """
    x = np.asarray(values, dtype=float)
    rows = np.atleast_2d(x)
    if rows.shape[0] == 0:
        return rows.copy(), "zscore"
    valid = np.isfinite(rows)
    m = valid.sum(axis=1, keepdims=True)
    filled = np.where(valid, rows, 0.0)
    mean = filled.sum(axis=1, keepdims=True) / np.maximum(m, 1)
    centred = np.where(valid, rows - mean, 0.0)
    std = np.sqrt((centred**2).sum(axis=1, keepdims=True) / np.maximum(m, 1))
    scale = np.maximum(np.abs(filled).max(axis=1, keepdims=True), 1.0)
    flat = (m < 2) | (std <= 1e-12 * scale)
    z = _clip(centred / np.where(flat, 1.0, std))
    use_rank = (m < MIN_ASSETS_FOR_ZSCORE) & ~flat
    if use_rank.any():
        a, b = rows[:, :, None], rows[:, None, :]
        both = valid[:, :, None] & valid[:, None, :]
        greater = ((a > b) & both).sum(axis=2)
        ties = ((a == b) & both).sum(axis=2)
        p = (greater + (ties + 1) / 2.0 - 0.5) / np.maximum(m, 1)
        ranked = ndtri(np.clip(p, 1e-12, 1 - 1e-12))
        z = np.where(use_rank, ranked, z)
    out = np.where(valid, np.where(flat, 0.0, z), np.nan)
    method = "rank" if bool(m[-1, 0] < MIN_ASSETS_FOR_ZSCORE) else "zscore"
    return (out if x.ndim == 2 else out[0]), method
