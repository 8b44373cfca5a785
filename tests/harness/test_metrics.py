"""Tests for alphaloop.harness.metrics: hand-computed values, empyrical agreement, edges."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.harness.compare import compare_paired
from alphaloop.harness.errors import HarnessError
from alphaloop.harness.metrics import (
    Metrics,
    MetricsError,
    annual_return,
    annual_volatility,
    calmar_ratio,
    compute_metrics,
    cvar,
    downside_deviation,
    drawdown_series,
    hit_rate,
    kurtosis,
    max_drawdown,
    reward,
    sharpe_ratio,
    skew,
    sortino_ratio,
    total_return,
    value_at_risk,
)

# Five days worked through by hand below.
TINY = [0.10, -0.05, 0.02, -0.10, 0.05]


def _fat_tailed(seed: int, n: int = 750) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 0.0004 + 0.01 * rng.standard_t(df=4, size=n)


# --- hand-computed values on TINY -------------------------------------------------------

def test_total_return_and_drawdown_by_hand() -> None:
    # wealth: 1.1, 1.045, 1.0659, 0.95931, 1.0072755; the peak stays at 1.1
    assert total_return(TINY) == pytest.approx(0.0072755, abs=1e-12)
    expected = [0.0, 0.05, 1 - 1.0659 / 1.1, 1 - 0.95931 / 1.1, 1 - 1.0072755 / 1.1]
    np.testing.assert_allclose(drawdown_series(TINY), expected, atol=1e-12)
    assert max_drawdown(TINY) == pytest.approx(0.1279, abs=1e-12)


def test_moments_and_ratios_by_hand() -> None:
    # mean 0.004; squared deviations sum to 0.02532, so the sample variance is 0.00633
    std = math.sqrt(0.00633)
    assert annual_volatility(TINY, periods_per_year=1) == pytest.approx(std, rel=1e-12)
    assert sharpe_ratio(TINY, periods_per_year=1) == pytest.approx(0.004 / std, rel=1e-12)
    assert sharpe_ratio(TINY) == pytest.approx(0.004 / std * math.sqrt(252), rel=1e-12)
    # excess over a 0.001 risk-free rate: mean 0.003, same deviation
    assert sharpe_ratio(TINY, 1, risk_free=0.001) == pytest.approx(0.003 / std, rel=1e-12)
    # downside: (0.05^2 + 0.1^2) / 5 = 0.0025, root 0.05
    assert downside_deviation(TINY, periods_per_year=1) == pytest.approx(0.05, rel=1e-12)
    assert sortino_ratio(TINY, periods_per_year=1) == pytest.approx(0.08, rel=1e-12)
    # five periods per year: one year, so the annual return is the total return
    assert annual_return(TINY, periods_per_year=5) == pytest.approx(0.0072755, rel=1e-10)
    assert calmar_ratio(TINY, 5) == pytest.approx(0.0072755 / 0.1279, rel=1e-10)
    # two years of five periods each: (1 + total) ** 0.5 - 1
    assert annual_return(TINY, 2.5) == pytest.approx(math.sqrt(1.0072755) - 1, rel=1e-10)


def test_tail_risk_by_hand() -> None:
    # sorted: -0.10, -0.05, 0.02, 0.05, 0.10; the 5 % quantile sits at position 0.2
    assert value_at_risk(TINY, 0.05) == pytest.approx(0.09, abs=1e-12)
    assert cvar(TINY, 0.05) == pytest.approx(0.10, abs=1e-12)
    # 50 % quantile is the median 0.02 (a gain: negative loss); CVaR averages the 3 worst
    assert value_at_risk(TINY, 0.5) == pytest.approx(-0.02, abs=1e-12)
    assert cvar(TINY, 0.5) == pytest.approx((0.10 + 0.05 - 0.02) / 3, abs=1e-12)


def test_hit_rate_ignores_flat_days() -> None:
    assert hit_rate(TINY) == pytest.approx(0.6)
    assert hit_rate([0.01, 0.0, 0.0, -0.02]) == pytest.approx(0.5)
    assert math.isnan(hit_rate([0.0, 0.0]))


def test_first_day_loss_is_a_drawdown() -> None:
    np.testing.assert_allclose(drawdown_series([-0.2, 0.25, 0.1]), [0.2, 0.0, 0.0], atol=1e-12)


# --- agreement with empyrical -----------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_empyrical(seed: int) -> None:
    r = _fat_tailed(seed)
    series = pd.Series(r, index=pd.bdate_range("2020-01-01", periods=r.size))
    assert annual_return(r) == pytest.approx(empyrical.annual_return(series), rel=1e-9)
    assert annual_volatility(r) == pytest.approx(empyrical.annual_volatility(series), rel=1e-9)
    assert sharpe_ratio(r) == pytest.approx(empyrical.sharpe_ratio(series), rel=1e-9)
    assert sharpe_ratio(r, risk_free=0.0001) == pytest.approx(
        empyrical.sharpe_ratio(series, risk_free=0.0001), rel=1e-9
    )
    assert sharpe_ratio(r, periods_per_year=52) == pytest.approx(
        empyrical.sharpe_ratio(series, annualization=52), rel=1e-9
    )
    assert downside_deviation(r) == pytest.approx(empyrical.downside_risk(series), rel=1e-9)
    assert sortino_ratio(r) == pytest.approx(empyrical.sortino_ratio(series), rel=1e-9)
    # empyrical reports drawdowns and VaR/CVaR as negative returns
    assert max_drawdown(r) == pytest.approx(-empyrical.max_drawdown(series), rel=1e-9)
    assert calmar_ratio(r) == pytest.approx(empyrical.calmar_ratio(series), rel=1e-9)
    for alpha in (0.05, 0.01):
        assert value_at_risk(r, alpha) == pytest.approx(
            -empyrical.value_at_risk(series, cutoff=alpha), rel=1e-9
        )
        assert cvar(r, alpha) == pytest.approx(
            -empyrical.conditional_value_at_risk(series, cutoff=alpha), rel=1e-9
        )


@pytest.mark.parametrize("seed", [4, 5])
def test_higher_moments_agree_with_pandas_and_scipy(seed: int) -> None:
    r = _fat_tailed(seed, n=200)
    assert skew(r) == pytest.approx(pd.Series(r).skew(), rel=1e-9)
    assert skew(r) == pytest.approx(stats.skew(r, bias=False), rel=1e-9)
    assert kurtosis(r) == pytest.approx(pd.Series(r).kurt(), rel=1e-9)
    assert kurtosis(r, excess=False) == pytest.approx(
        stats.kurtosis(r, fisher=False, bias=False), rel=1e-9
    )
    assert kurtosis(r) > 0.5  # t(4) tails are visibly fat in 200 draws


# --- edge cases ---------------------------------------------------------------------------

def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(MetricsError, match="empty"):
        sharpe_ratio([])
    with pytest.raises(MetricsError, match="position 2"):
        max_drawdown([0.01, 0.02, math.nan])
    with pytest.raises(MetricsError, match="more than 100 %"):
        total_return([0.01, -1.5])
    with pytest.raises(MetricsError, match="one-dimensional"):
        annual_volatility(np.zeros((3, 2)))
    with pytest.raises(MetricsError, match="alpha"):
        value_at_risk(TINY, 5.0)


def test_single_observation_gives_nan_where_undefined() -> None:
    m = compute_metrics([0.01])
    assert m.n_days == 1
    assert math.isnan(m.annual_volatility) and math.isnan(m.sharpe)
    assert math.isnan(m.skew) and math.isnan(m.excess_kurtosis)
    assert m.total_return == pytest.approx(0.01)
    assert m.max_drawdown == 0.0


def test_constant_positive_returns_have_infinite_ratios() -> None:
    r = [0.001] * 30
    assert sharpe_ratio(r) == math.inf
    assert sortino_ratio(r) == math.inf
    assert calmar_ratio(r) == math.inf
    assert max_drawdown(r) == 0.0
    assert math.isnan(skew(r)) and math.isnan(kurtosis(r))
    assert sharpe_ratio([-0.001] * 30) == -math.inf


def test_all_zero_returns_are_undefined_not_zero() -> None:
    m = compute_metrics(np.zeros(40))
    for value in (m.sharpe, m.sortino, m.calmar, m.hit_rate):
        assert math.isnan(value)
    assert m.total_return == 0.0 and m.max_drawdown == 0.0 and m.annual_volatility == 0.0


def test_all_positive_but_varying_returns() -> None:
    r = [0.01, 0.02, 0.005, 0.03]
    assert sortino_ratio(r) == math.inf
    assert math.isfinite(sharpe_ratio(r)) and sharpe_ratio(r) > 0
    assert value_at_risk(r) < 0  # even the tail is a gain


def test_total_loss() -> None:
    r = [0.1, -1.0, 0.0]
    assert total_return(r) == -1.0
    assert annual_return(r) == -1.0
    assert max_drawdown(r) == pytest.approx(1.0)


# --- the Metrics record -------------------------------------------------------------------

def test_compute_metrics_matches_kernels_and_annualises_turnover() -> None:
    r = _fat_tailed(7, n=300)
    turnover = np.zeros(r.size)
    turnover[::21] = 0.3  # a 30 % trade every 21 days
    m = compute_metrics(r, turnover=turnover)
    assert m.sharpe == pytest.approx(sharpe_ratio(r))
    assert m.max_drawdown == pytest.approx(max_drawdown(r))
    assert m.cvar_99 == pytest.approx(cvar(r, 0.01))
    assert m.cvar_99 >= m.var_99 and m.cvar_95 >= m.var_95
    assert m.kurtosis == pytest.approx(kurtosis(r, excess=False))
    assert m.turnover == pytest.approx(0.3 * 15 / 300 * 252)
    assert math.isnan(compute_metrics(r).turnover)


def test_compute_metrics_rejects_bad_turnover() -> None:
    with pytest.raises(MetricsError, match="one turnover value per return"):
        compute_metrics(TINY, turnover=[0.1, 0.2])
    with pytest.raises(MetricsError, match="non-negative"):
        compute_metrics(TINY, turnover=[0.1, -0.2, 0.0, 0.0, 0.0])
    with pytest.raises(MetricsError, match="periods_per_year"):
        compute_metrics(TINY, periods_per_year=0)


def test_metrics_json_round_trip_keeps_nan_and_inf() -> None:
    m = compute_metrics([0.001] * 5)
    text = m.model_dump_json()
    assert '"Infinity"' in text and '"NaN"' in text
    back = Metrics.model_validate_json(text)
    assert back.sharpe == math.inf and math.isnan(back.skew)
    assert back.total_return == m.total_return and back.n_days == 5


def test_accepts_pandas_series() -> None:
    series = pd.Series(TINY, index=pd.bdate_range("2024-01-01", periods=5))
    assert sharpe_ratio(series) == pytest.approx(sharpe_ratio(np.array(TINY)))


# --- properties ---------------------------------------------------------------------------

_returns_strategy = arrays(
    np.float64,
    st.integers(min_value=2, max_value=60),
    elements=st.floats(min_value=-0.5, max_value=0.5, allow_nan=False),
)


@given(_returns_strategy)
def test_drawdown_and_tail_invariants(r: np.ndarray) -> None:
    dd = drawdown_series(r)
    assert np.all(dd >= 0.0) and np.all(dd <= 1.0)
    assert max_drawdown(r) == pytest.approx(float(dd.max()))
    assert cvar(r, 0.05) >= value_at_risk(r, 0.05) - 1e-12
    assert cvar(r, 0.01) >= cvar(r, 0.05) - 1e-12
    assert total_return(r) == pytest.approx(float(np.prod(1.0 + r) - 1.0), rel=1e-9, abs=1e-12)


@given(_returns_strategy)
def test_the_record_tails_are_the_tail_functions(r: np.ndarray) -> None:
    # compute_metrics sorts once for all four tail figures; they must be the very
    # figures value_at_risk and cvar give, and those NumPy's quantile and the mean of
    # the worst floor((n - 1) * alpha) + 1 returns.
    m = compute_metrics(r)
    for alpha, var_, cvar_ in ((0.05, m.var_95, m.cvar_95), (0.01, m.var_99, m.cvar_99)):
        assert var_ == pytest.approx(value_at_risk(r, alpha), rel=1e-12, abs=1e-15)
        assert cvar_ == pytest.approx(cvar(r, alpha), rel=1e-12, abs=1e-15)
        assert var_ == pytest.approx(-np.quantile(r, alpha), rel=1e-12, abs=1e-15)
        worst = np.sort(r)[: int((r.size - 1) * alpha) + 1]
        assert cvar_ == pytest.approx(-worst.mean(), rel=1e-12, abs=1e-15)


@given(_returns_strategy)
def test_gains_only_never_draw_down(r: np.ndarray) -> None:
    assert max_drawdown(np.abs(r)) == 0.0


@given(_returns_strategy, st.floats(min_value=0.1, max_value=10.0))
def test_sharpe_is_scale_invariant(r: np.ndarray, scale: float) -> None:
    small = r * 0.1  # keep scaled returns above -100 %
    if np.std(small, ddof=1) < 1e-9:
        return
    assert sharpe_ratio(small * scale) == pytest.approx(sharpe_ratio(small), rel=1e-7, abs=1e-9)


def test_metrics_error_is_a_harness_error_and_a_value_error() -> None:
    assert issubclass(MetricsError, HarnessError) and issubclass(MetricsError, ValueError)


def test_the_reward_is_sharpe_minus_lambda_times_drawdown() -> None:
    r = np.random.default_rng(3).normal(0.0004, 0.01, 300)
    assert reward(r, 5.0) == sharpe_ratio(r) - 5.0 * max_drawdown(r)
    assert reward(r, 0.0) == sharpe_ratio(r)
    assert reward(r, 2.0, periods_per_year=1) == sharpe_ratio(r, 1) - 2.0 * max_drawdown(r)
    assert math.isnan(reward([0.01], 5.0)) and math.isnan(reward([], 5.0))
    # the paired test measures the very same function on each side
    paired = compare_paired(r, r[::-1].copy(), reward_lambda=5.0, n_resamples=50)
    assert paired.metric("reward").branch == reward(r, 5.0)


def test_annualisation_defaults_to_the_contracts_trading_year() -> None:
    r = np.random.default_rng(4).normal(0.0004, 0.01, 300)
    assert TRADING_DAYS_PER_YEAR == 252
    assert sharpe_ratio(r) == sharpe_ratio(r, TRADING_DAYS_PER_YEAR)
    assert compute_metrics(r).annual_volatility == annual_volatility(r, 252)
