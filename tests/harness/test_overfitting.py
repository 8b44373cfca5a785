"""Tests for alphaloop.harness.overfitting: PSR, DSR and PBO against known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from alphaloop.harness.metrics import kurtosis, sharpe_ratio, skew
from alphaloop.harness.overfitting import (
    OverfittingError,
    PBOResult,
    deflated_sharpe_from_returns,
    deflated_sharpe_ratio,
    deflated_sharpe_report,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)

sharpes = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False)
observations = st.integers(min_value=2, max_value=5000)
trial_counts = st.integers(min_value=1, max_value=10_000)


# --- probabilistic Sharpe ratio ------------------------------------------------------------

@given(sharpes, observations, sharpes)
def test_psr_for_normal_returns_matches_closed_form(sr: float, n: int, bench: float) -> None:
    z = (sr - bench) * math.sqrt(n - 1) / math.sqrt(1.0 + sr**2 / 2.0)
    assert probabilistic_sharpe_ratio(sr, n, 0.0, 3.0, bench) == pytest.approx(
        stats.norm.cdf(z), abs=1e-12
    )


def test_psr_worked_example() -> None:
    # sr 0.1 over 101 days, skew -1, kurtosis 5: variance term 1 + 0.1 + 0.01 = 1.11
    expected = stats.norm.cdf(0.1 * 10 / math.sqrt(1.11))
    assert probabilistic_sharpe_ratio(0.1, 101, -1.0, 5.0) == pytest.approx(expected)
    assert probabilistic_sharpe_ratio(0.2, 50, 0.5, 4.0, sr_benchmark=0.2) == pytest.approx(0.5)


def test_negative_skew_and_fat_tails_lower_confidence() -> None:
    normal = probabilistic_sharpe_ratio(0.1, 250, 0.0, 3.0)
    assert probabilistic_sharpe_ratio(0.1, 250, -2.0, 3.0) < normal
    assert probabilistic_sharpe_ratio(0.1, 250, 0.0, 12.0) < normal


@given(st.floats(min_value=0.01, max_value=0.5), observations)
def test_psr_grows_with_track_record(sr: float, n: int) -> None:
    assert probabilistic_sharpe_ratio(sr, n + 10, 0.0, 3.0) >= probabilistic_sharpe_ratio(
        sr, n, 0.0, 3.0
    )


def test_psr_rejects_invalid_inputs() -> None:
    with pytest.raises(OverfittingError, match="excess kurtosis"):
        probabilistic_sharpe_ratio(0.1, 100, 0.0, 0.0)
    with pytest.raises(OverfittingError, match="n_obs"):
        probabilistic_sharpe_ratio(0.1, 1, 0.0, 3.0)
    with pytest.raises(OverfittingError, match="non-positive"):
        probabilistic_sharpe_ratio(1.0, 100, 5.0, 1.5)
    with pytest.raises(OverfittingError, match="finite"):
        probabilistic_sharpe_ratio(math.nan, 100, 0.0, 3.0)


# --- expected maximum Sharpe and deflated Sharpe ------------------------------------------

def _exact_expected_max_of_normals(n: int) -> float:
    def integrand(x: float) -> float:
        return x * n * stats.norm.pdf(x) * stats.norm.cdf(x) ** (n - 1)

    return integrate.quad(integrand, -12.0, 12.0, limit=200)[0]


@pytest.mark.parametrize("n_trials", [5, 10, 100, 1000])
def test_expected_max_sharpe_approximates_the_exact_expectation(n_trials: int) -> None:
    exact = _exact_expected_max_of_normals(n_trials)
    assert expected_max_sharpe(1.0, n_trials) == pytest.approx(exact, rel=0.03)
    assert expected_max_sharpe(4.0, n_trials) == pytest.approx(2.0 * exact, rel=0.03)


@given(st.floats(min_value=1e-6, max_value=1.0), trial_counts)
def test_expected_max_sharpe_grows_with_trials(variance: float, n: int) -> None:
    assert expected_max_sharpe(variance, n + 1) > expected_max_sharpe(variance, n)


def test_expected_max_sharpe_edges() -> None:
    assert expected_max_sharpe(0.3, 1) == 0.0
    assert expected_max_sharpe(0.0, 50) == 0.0
    with pytest.raises(OverfittingError, match="n_trials"):
        expected_max_sharpe(0.1, 0)
    with pytest.raises(OverfittingError, match="n_trials"):
        expected_max_sharpe(0.1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(OverfittingError, match="sr_variance"):
        expected_max_sharpe(-0.1, 10)


def test_deflated_sharpe_paper_example() -> None:
    # Bailey & Lopez de Prado (2014), numerical example: 100 trials whose annualised Sharpe
    # ratios have variance 0.5, a selected annualised Sharpe of 2.5 over 5 years of daily
    # data (T = 1250, 250 days a year), skew -3, kurtosis 10. The paper finds an expected
    # maximum Sharpe of 0.1132 per day and a deflated Sharpe ratio of 0.9004.
    variance = 0.5 / 250
    assert expected_max_sharpe(variance, 100) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_ratio(2.5 / math.sqrt(250), 1250, -3.0, 10.0, variance, 100)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


@given(sharpes, observations, st.floats(-2.0, 2.0), st.floats(0.0, 10.0),
       st.floats(0.0, 0.1))
def test_dsr_with_one_trial_is_psr_against_zero(
    sr: float, n: int, gamma3: float, extra: float, variance: float
) -> None:
    gamma4 = 1.0 + gamma3**2 + extra  # any valid raw kurtosis for this skew
    assert deflated_sharpe_ratio(sr, n, gamma3, gamma4, variance, 1) == pytest.approx(
        probabilistic_sharpe_ratio(sr, n, gamma3, gamma4)
    )


@given(sharpes, observations, st.floats(1e-6, 0.1), trial_counts)
def test_dsr_is_a_probability_that_falls_with_more_trials(
    sr: float, n: int, variance: float, trials: int
) -> None:
    fewer = deflated_sharpe_ratio(sr, n, 0.0, 3.0, variance, trials)
    more = deflated_sharpe_ratio(sr, n, 0.0, 3.0, variance, trials + 1)
    assert 0.0 <= more <= fewer <= 1.0


@given(st.floats(-0.5, 0.49), observations, st.floats(1e-6, 0.1), trial_counts)
def test_dsr_rises_with_the_observed_sharpe(
    sr: float, n: int, variance: float, trials: int
) -> None:
    low = deflated_sharpe_ratio(sr, n, 0.0, 3.0, variance, trials)
    assert deflated_sharpe_ratio(sr + 0.01, n, 0.0, 3.0, variance, trials) >= low


def test_deflated_sharpe_from_returns_uses_sample_statistics() -> None:
    rng = np.random.default_rng(11)
    returns = 0.0008 + 0.01 * rng.standard_t(df=5, size=1000)
    trials = rng.normal(0.02, 0.02, size=30)
    report = deflated_sharpe_report(returns, trials)
    expected = deflated_sharpe_ratio(
        sharpe_ratio(returns, periods_per_year=1), 1000, skew(returns),
        kurtosis(returns, excess=False), float(np.var(trials, ddof=1)), 30,
    )
    assert report.probability == pytest.approx(expected)
    assert report.n_trials == 30 and report.n_obs == 1000
    assert report.kurtosis > 3.0  # raw kurtosis of t(5) draws
    assert deflated_sharpe_from_returns(returns, trials) == pytest.approx(expected)
    # annualised trial Sharpes are brought back to per period
    annualised = deflated_sharpe_from_returns(returns, trials * math.sqrt(252),
                                              periods_per_year=252)
    assert annualised == pytest.approx(expected)
    # a single trial: no selection, the PSR against zero
    single = deflated_sharpe_from_returns(returns, [0.05])
    assert single == pytest.approx(probabilistic_sharpe_ratio(
        report.sharpe, 1000, report.skew, report.kurtosis))
    assert report.model_validate_json(report.model_dump_json()) == report


def test_deflated_sharpe_from_returns_rejects_bad_inputs() -> None:
    returns = np.random.default_rng(3).normal(0.001, 0.01, 100)
    with pytest.raises(OverfittingError, match="empty"):
        deflated_sharpe_from_returns(returns, [])
    with pytest.raises(OverfittingError, match="NaN"):
        deflated_sharpe_from_returns(returns, [0.1, math.nan])
    with pytest.raises(OverfittingError, match="at least 4 periods"):
        deflated_sharpe_from_returns([0.01, 0.01, 0.01, 0.01], [0.1, 0.2])


# --- probability of backtest overfitting ------------------------------------------------

def _block_matrix() -> np.ndarray:
    # Two blocks of two rows. A wins the first half, C the second, B is steady.
    a = [0.02, 0.02, 0.00, 0.00]
    b = [0.01, 0.01, 0.01, 0.01]
    c = [0.00, 0.00, 0.03, 0.03]
    return np.column_stack([a, b, c])


def test_pbo_hand_example_always_overfits() -> None:
    # Split 1 trains on block 1: A is best (0.02) but ranks last out of sample (0.00).
    # Split 2 trains on block 2: C is best (0.03) but ranks last out of sample (0.00).
    # Rank 1 of 3 gives w = 1/4 and logit log(1/3) both times.
    result = probability_of_backtest_overfitting(_block_matrix(), n_splits=2, metric="mean")
    assert result.pbo == 1.0
    assert result.n_combinations == 2 and result.rows_used == 4 and result.n_trials == 3
    np.testing.assert_allclose(result.logits, [math.log(1 / 3)] * 2)
    assert result.degradation_slope == pytest.approx(0.0, abs=1e-12)
    assert result.degradation_intercept == pytest.approx(0.0, abs=1e-12)
    assert result.probability_of_loss == 0.0


def test_pbo_hand_example_without_overfitting() -> None:
    matrix = _block_matrix()
    matrix[:, 1] = 0.05  # B now wins both halves: rank 3 of 3, w = 3/4
    result = probability_of_backtest_overfitting(matrix, n_splits=2, metric="mean")
    assert result.pbo == 0.0
    np.testing.assert_allclose(result.logits, [math.log(3)] * 2)
    assert result.degradation_slope is None  # the winner's in-sample score never varied


def test_pbo_drops_the_oldest_rows() -> None:
    matrix = np.vstack([[1.0, -1.0, 0.0], _block_matrix()])  # row 0 would favour A
    result = probability_of_backtest_overfitting(matrix, n_splits=2, metric="mean")
    assert result.rows_used == 4 and result.pbo == 1.0


def test_pbo_of_pure_noise_is_near_one_half() -> None:
    rng = np.random.default_rng(2015)
    values = [
        probability_of_backtest_overfitting(rng.normal(0.0, 0.01, (320, 10)), n_splits=8).pbo
        for _ in range(60)
    ]
    assert 0.4 < float(np.mean(values)) < 0.6
    assert 0.1 < float(np.std(values)) < 0.4  # one noise panel alone is a noisy estimate


def test_pbo_is_near_zero_with_a_real_persistent_edge() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.normal(0.0, 0.01, (2000, 50))
    matrix[:, 17] += 0.002  # a daily Sharpe of about 0.2, about 3 a year
    result = probability_of_backtest_overfitting(matrix)
    assert result.n_combinations == 12870 and len(result.logits) == 12870
    assert result.pbo < 0.05
    assert result.probability_of_loss < 0.05
    assert float(np.median(result.logits)) > 2.0


def test_vectorised_sharpe_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(5)
    matrix = rng.normal(0.0003, 0.01, (240, 12)) + rng.normal(0.0, 0.0005, 12)

    def direct_sharpe(rows: np.ndarray) -> np.ndarray:
        return rows.mean(axis=0) / rows.std(axis=0, ddof=1)

    fast = probability_of_backtest_overfitting(matrix, n_splits=8)
    slow = probability_of_backtest_overfitting(matrix, n_splits=8, metric=direct_sharpe)
    np.testing.assert_allclose(fast.logits, slow.logits)
    assert fast.pbo == slow.pbo
    assert fast.degradation_slope == pytest.approx(slow.degradation_slope)


def test_pbo_treats_a_flat_column_as_zero_sharpe() -> None:
    rng = np.random.default_rng(9)
    matrix = rng.normal(0.0, 0.01, (64, 4))
    matrix[:, 0] = 0.0  # a strategy that holds cash
    result = probability_of_backtest_overfitting(matrix, n_splits=4)
    assert 0.0 <= result.pbo <= 1.0 and all(math.isfinite(v) for v in result.logits)


def test_pbo_result_round_trips_through_json() -> None:
    matrix = np.random.default_rng(1).normal(0.0, 0.01, (64, 5))
    result = probability_of_backtest_overfitting(matrix, n_splits=4)
    assert PBOResult.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("matrix", "kwargs", "message"),
    [
        (np.zeros((64, 4)), {"n_splits": 5}, "even"),
        (np.zeros((64, 4)), {"n_splits": 0}, "n_splits"),
        (np.zeros((30, 4)), {"n_splits": 16}, "at least 32"),
        (np.zeros((64, 1)), {}, "at least 2"),
        (np.zeros(64), {}, "2-D"),
        (np.full((64, 4), math.nan), {}, "NaN"),
        (np.zeros((64, 4)), {"n_splits": 4, "metric": "sortino"}, "unknown metric"),
        (np.zeros((2000, 4)), {"n_splits": 22}, "n_splits <= 20"),
    ],
)
def test_pbo_rejects_invalid_inputs(matrix: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(OverfittingError, match=message):
        probability_of_backtest_overfitting(matrix, **kwargs)


def test_pbo_ties_take_the_average_rank() -> None:
    # Identical configurations tie everywhere: rank (N + 1) / 2, w = 1/2, logit 0, which
    # counts as overfit (the selected configuration did no better than the median).
    column = np.random.default_rng(4).normal(0.0, 0.01, 64)
    result = probability_of_backtest_overfitting(np.column_stack([column] * 3), n_splits=4)
    np.testing.assert_allclose(result.logits, 0.0, atol=1e-12)
    assert result.pbo == 1.0


def test_pbo_rejects_a_metric_of_the_wrong_shape() -> None:
    matrix = np.random.default_rng(2).normal(0.0, 0.01, (64, 4))
    with pytest.raises(OverfittingError, match="one score per configuration"):
        probability_of_backtest_overfitting(matrix, n_splits=4, metric=lambda rows: rows.mean())
    with pytest.raises(OverfittingError, match="NaN"):
        probability_of_backtest_overfitting(
            matrix, n_splits=4, metric=lambda rows: np.full(rows.shape[1], np.nan)
        )
