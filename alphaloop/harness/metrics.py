"""Performance metrics of a daily return series, computed by the trusted harness.

Every function takes *simple* per-period returns (``0.01`` is +1 %), one value per day by
default, as a list, a NumPy array or a pandas Series, and returns plain floats. The
:class:`Metrics` record gathers them all for a backtest and round-trips through JSON.

Conventions (the same as the ``empyrical`` library unless noted):

- Annualisation uses ``periods_per_year``: by default
  :data:`~alphaloop.contract.TRADING_DAYS_PER_YEAR` (252) for daily returns.
- Annual return is geometric: ``(1 + total_return) ** (periods_per_year / n) - 1``.
- Volatility and Sharpe use the sample standard deviation (``ddof=1``); the risk-free
  rate, if any, is per period and subtracted from every return.
- Sortino divides the mean excess return over a target of 0 by the downside deviation
  ``sqrt(mean(min(r, 0) ** 2))`` taken over *all* periods.
- Drawdowns are positive fractions below the running peak of wealth, which starts at 1
  before the first return (so a loss on day one is a drawdown).
- VaR and CVaR are historical, daily and reported as *positive losses*: ``var_95 = 0.02``
  means a 2 % loss on the worst 5 % of days. VaR is the linearly interpolated
  ``alpha`` quantile; CVaR is the mean of the ``floor((n - 1) * alpha) + 1`` lowest
  returns. A negative value means even the tail is a gain.
- Skew and kurtosis are the bias-adjusted sample estimates (as pandas computes them).
- Hit rate is the share of positive days among days whose return is not exactly zero
  (days spent wholly in cash do not count as misses).

Edge cases are explicit. An empty series, a non-finite value or a return below -100 %
raises :class:`MetricsError`. Statistics that are undefined for the data are ``NaN``:
volatility and Sharpe with fewer than 2 returns, skew with fewer than 3, kurtosis with
fewer than 4, hit rate when every return is zero. A ratio whose denominator is zero
(zero volatility, no losing day, no drawdown) is ``+inf``/``-inf`` following the sign of
its numerator, and ``NaN`` when the numerator is zero too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.harness.errors import HarnessError

__all__ = [
    "Metrics",
    "MetricsError",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "compute_metrics",
    "cvar",
    "downside_deviation",
    "drawdown_series",
    "hit_rate",
    "kurtosis",
    "max_drawdown",
    "reward",
    "sharpe_ratio",
    "skew",
    "sortino_ratio",
    "total_return",
    "value_at_risk",
]

# Below this a standard deviation, downside deviation or drawdown is treated as zero: far
# below any real per-period figure, far above the rounding noise of a constant series.
_ZERO_TOLERANCE = 1e-12


class MetricsError(HarnessError, ValueError):
    """Returns or turnover cannot be measured; the message names the problem."""


def _series(values: ArrayLike | Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise MetricsError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise MetricsError(f"{name} is empty: a metric needs at least one period")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise MetricsError(
            f"{name} holds a non-finite value ({array[bad[0]]}) at position {bad[0]}; "
            "clean or drop missing periods before measuring"
        )
    return array


def _returns(returns: ArrayLike | Sequence[float]) -> np.ndarray:
    array = _series(returns, "returns")
    below = np.flatnonzero(array < -1.0)
    if below.size:
        raise MetricsError(
            f"return {array[below[0]]:.4f} at position {below[0]} loses more than 100 % in "
            "one period; returns must be simple fractions (-0.05 is -5 %)"
        )
    return array


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` with a zero denominator mapped to +-inf or NaN."""
    if denominator <= _ZERO_TOLERANCE:
        if abs(numerator) <= _ZERO_TOLERANCE:
            return math.nan
        return math.copysign(math.inf, numerator)
    return numerator / denominator


# Each public metric checks its input, then calls its ``_name`` twin on the checked array;
# compute_metrics checks once and calls the twins directly.


def total_return(returns: ArrayLike) -> float:
    """Compounded return over the whole series: ``prod(1 + r) - 1``."""
    return _total_return(_returns(returns))


def _total_return(r: np.ndarray) -> float:
    return float(np.expm1(np.sum(np.log1p(r)))) if np.all(r > -1.0) else -1.0


def annual_return(returns: ArrayLike, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    """Geometric annualised return (compound annual growth rate)."""
    return _annual_return(_returns(returns), periods_per_year)


def _annual_return(r: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    if np.any(r == -1.0):
        return -1.0
    return float(np.expm1(np.sum(np.log1p(r)) * periods_per_year / r.size))


def annual_volatility(returns: ArrayLike, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    """Sample standard deviation times ``sqrt(periods_per_year)``; NaN below 2 returns."""
    return _annual_volatility(_returns(returns), periods_per_year)


def _annual_volatility(r: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    if r.size < 2:
        return math.nan
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(
    returns: ArrayLike, periods_per_year: float = TRADING_DAYS_PER_YEAR, risk_free: float = 0.0
) -> float:
    """Annualised Sharpe ratio of the excess returns ``r - risk_free`` (per-period rate).

    Pass ``periods_per_year=1`` for the per-period (non-annualised) ratio. NaN below 2
    returns; +-inf or NaN at zero volatility (see the module notes).
    """
    return _sharpe_ratio(_returns(returns), periods_per_year, risk_free)


def _sharpe_ratio(r: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR,
                  risk_free: float = 0.0) -> float:
    excess = r - risk_free
    if excess.size < 2:
        return math.nan
    std = float(np.std(excess, ddof=1))
    return _ratio(float(np.mean(excess)), std) * math.sqrt(periods_per_year)


def downside_deviation(returns: ArrayLike,
                       periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    """Annualised root mean square of the negative returns, over all periods (target 0)."""
    return _downside_deviation(_returns(returns), periods_per_year)


def _downside_deviation(r: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    return float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) * math.sqrt(periods_per_year))


def sortino_ratio(returns: ArrayLike, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    """Annualised mean return over the annualised downside deviation (target 0).

    With no losing period the downside deviation is zero and the ratio is +inf (NaN if
    the mean is zero as well).
    """
    return _sortino_ratio(_returns(returns), periods_per_year)


def _sortino_ratio(r: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    annual_mean = float(np.mean(r)) * periods_per_year
    return _ratio(annual_mean, _downside_deviation(r, periods_per_year))


def drawdown_series(returns: ArrayLike) -> np.ndarray:
    """Drawdown after each period, a positive fraction below the running peak of wealth.

    Wealth starts at 1 before the first return, so the result has one value per return
    and is 0 on days that set a new high.
    """
    return _drawdown_series(_returns(returns))


def _drawdown_series(r: np.ndarray) -> np.ndarray:
    wealth = np.cumprod(1.0 + r)
    peak = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return 1.0 - wealth / peak


def max_drawdown(returns: ArrayLike) -> float:
    """Largest peak-to-trough loss of wealth, a positive fraction (0.2 is a 20 % fall)."""
    return _max_drawdown(_returns(returns))


def _max_drawdown(r: np.ndarray) -> float:
    return float(np.max(_drawdown_series(r)))


def calmar_ratio(returns: ArrayLike, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    """Annual return over maximum drawdown; +inf (or NaN) when there was no drawdown."""
    return _calmar_ratio(_returns(returns), periods_per_year)


def _calmar_ratio(r: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    return _ratio(_annual_return(r, periods_per_year), _max_drawdown(r))


def reward(returns: ArrayLike, reward_lambda: float,
           periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    """The research reward: annualised Sharpe minus ``reward_lambda`` times max drawdown.

    This is the seeds' ``Sharpe - lambda * MaxDrawdown`` (drawdown a positive fraction):
    the Quant aims at it, Risk tests a change against it and the report shows it, all
    through this one function. ``reward_lambda`` is ``[process] reward_lambda`` of
    ``policies/risk.toml`` (:attr:`~alphaloop.policy.risk.ProcessRules.reward_lambda`).
    NaN with fewer than 2 returns, where the Sharpe ratio is undefined.
    """
    if np.size(returns) < 2:
        return math.nan
    return _reward(_returns(returns), reward_lambda, periods_per_year)


def _reward(r: np.ndarray, reward_lambda: float,
            periods_per_year: float = TRADING_DAYS_PER_YEAR) -> float:
    return float(_sharpe_ratio(r, periods_per_year) - reward_lambda * _max_drawdown(r))


def value_at_risk(returns: ArrayLike, alpha: float = 0.05) -> float:
    """Historical one-period VaR at tail probability ``alpha``, as a positive loss."""
    _check_alpha(alpha)
    return _tail(np.sort(_returns(returns)), alpha)[0]


def cvar(returns: ArrayLike, alpha: float = 0.05) -> float:
    """Historical one-period CVaR (expected shortfall), as a positive loss.

    The mean of the ``floor((n - 1) * alpha) + 1`` worst returns, so it is never smaller
    than :func:`value_at_risk` and always includes the single worst period.
    """
    _check_alpha(alpha)
    return _tail(np.sort(_returns(returns)), alpha)[1]


def _tail(ordered: np.ndarray, alpha: float) -> tuple[float, float]:
    """VaR and CVaR at ``alpha`` from returns sorted ascending (one sort serves both).

    VaR interpolates linearly between order statistics, as ``np.quantile`` does.
    """
    position = alpha * (ordered.size - 1)
    low = int(position)
    high = min(low + 1, ordered.size - 1)
    t = position - low
    a, b = float(ordered[low]), float(ordered[high])
    quantile = b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t
    return -quantile, float(-np.mean(ordered[: low + 1]))


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise MetricsError(f"tail probability alpha must lie in (0, 1), got {alpha}")


def _central_moments(r: np.ndarray) -> tuple[float, float, float]:
    deviations = r - np.mean(r)
    squares = deviations**2
    return (
        float(np.mean(squares)),
        float(np.mean(squares * deviations)),
        float(np.mean(squares**2)),
    )


def skew(returns: ArrayLike) -> float:
    """Bias-adjusted sample skewness; NaN below 3 returns or at zero variance."""
    return _skew(_returns(returns))


def _skew(r: np.ndarray) -> float:
    n = r.size
    if n < 3:
        return math.nan
    m2, m3, _ = _central_moments(r)
    if math.sqrt(m2) <= _ZERO_TOLERANCE:
        return math.nan
    return m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)


def kurtosis(returns: ArrayLike, *, excess: bool = True) -> float:
    """Bias-adjusted sample kurtosis: excess (normal = 0) by default, raw (normal = 3)
    with ``excess=False``. NaN below 4 returns or at zero variance."""
    return _kurtosis(_returns(returns), excess=excess)


def _kurtosis(r: np.ndarray, *, excess: bool = True) -> float:
    n = r.size
    if n < 4:
        return math.nan
    m2, _, m4 = _central_moments(r)
    if math.sqrt(m2) <= _ZERO_TOLERANCE:
        return math.nan
    biased_excess = m4 / m2**2 - 3.0
    adjusted = ((n + 1) * biased_excess + 6.0) * (n - 1) / ((n - 2) * (n - 3))
    return adjusted if excess else adjusted + 3.0


def hit_rate(returns: ArrayLike) -> float:
    """Share of positive periods among periods with a non-zero return; NaN if none."""
    return _hit_rate(_returns(returns))


def _hit_rate(r: np.ndarray) -> float:
    active = r != 0.0
    return float(np.mean(r[active] > 0.0)) if np.any(active) else math.nan


class Metrics(BaseModel):
    """Every headline statistic of one return series (see the module notes).

    Undefined values are NaN or +-inf; they serialise to JSON as the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"`` and read back as floats.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")

    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    calmar: float
    var_95: float
    cvar_95: float
    var_99: float
    cvar_99: float
    skew: float
    excess_kurtosis: float
    turnover: float
    hit_rate: float
    n_days: int

    @property
    def kurtosis(self) -> float:
        """Raw kurtosis (normal = 3), as the deflated Sharpe ratio expects."""
        return self.excess_kurtosis + 3.0


def compute_metrics(
    returns: ArrayLike,
    *,
    turnover: ArrayLike | None = None,
    periods_per_year: float = TRADING_DAYS_PER_YEAR,
    risk_free: float = 0.0,
) -> Metrics:
    """Measure a series of per-period net returns.

    ``turnover`` is the traded fraction of portfolio value per period (``sum |w_new -
    w_old|`` on rebalance days, 0 elsewhere), aligned with ``returns``; its annualised
    figure is ``mean(turnover) * periods_per_year``. Without it, ``turnover`` is NaN.
    ``risk_free`` is a per-period rate used by the Sharpe ratio only.
    """
    r = _returns(returns)
    if periods_per_year <= 0:
        raise MetricsError(f"periods_per_year must be positive, got {periods_per_year}")
    annual_turnover = math.nan
    if turnover is not None:
        traded = _series(turnover, "turnover")
        if traded.shape != r.shape:
            raise MetricsError(
                f"turnover has {traded.size} periods but returns has {r.size}; "
                "pass one turnover value per return"
            )
        if np.any(traded < 0.0):
            raise MetricsError("turnover must be non-negative (a sum of absolute trades)")
        annual_turnover = float(np.mean(traded) * periods_per_year)
    ordered = np.sort(r)
    (var_95, cvar_95), (var_99, cvar_99) = _tail(ordered, 0.05), _tail(ordered, 0.01)
    values: dict[str, Any] = {
        "total_return": _total_return(r),
        "annual_return": _annual_return(r, periods_per_year),
        "annual_volatility": _annual_volatility(r, periods_per_year),
        "sharpe": _sharpe_ratio(r, periods_per_year, risk_free),
        "sortino": _sortino_ratio(r, periods_per_year),
        "max_drawdown": _max_drawdown(r),
        "calmar": _calmar_ratio(r, periods_per_year),
        "var_95": var_95, "cvar_95": cvar_95, "var_99": var_99, "cvar_99": cvar_99,
        "skew": _skew(r),
        "excess_kurtosis": _kurtosis(r),
        "turnover": annual_turnover,
        "hit_rate": _hit_rate(r),
        "n_days": int(r.size),
    }
    return Metrics(**values)
