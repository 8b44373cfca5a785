"""The paired improvement test on constructed series and on the harness's own backtests."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap
from hypothesis import given, settings
from hypothesis import strategies as st

from alphaloop.harness import Costs, Window, simulate
from alphaloop.harness.compare import (
    _block_length,
    _functionals,
    _resampled_differences,
    compare_paired,
    sidak_confidence,
)
from alphaloop.harness.metrics import MetricsError, max_drawdown, sharpe_ratio

LAM = 5.0
EFFECT = {"reward": 0.05, "sharpe": 0.05, "max_drawdown": 0.005}
MARGIN = {"reward": 0.10, "sharpe": 0.10, "max_drawdown": 0.01}


def _main(n: int = 750, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0003, 0.01, n)


def test_clear_improvement_has_its_interval_above_zero_and_a_small_p() -> None:
    main = _main()
    branch = main + np.random.default_rng(2).normal(0.0005, 0.001, main.size)
    result = compare_paired(branch, main, reward_lambda=LAM, min_effect=EFFECT,
                            margin=MARGIN, n_resamples=1000, seed=3)
    reward = result.metric("reward")
    assert reward.superior and reward.noninferior
    assert reward.ci_low > EFFECT["reward"] and reward.p_superior <= 0.01
    # the estimate is the metrics' own difference, exactly
    expected = (sharpe_ratio(branch) - LAM * max_drawdown(branch)
                - sharpe_ratio(main) + LAM * max_drawdown(main))
    assert reward.estimate == pytest.approx(expected, rel=1e-12)
    assert result.n_days == 750 and result.n_resamples == 1000 and result.block_length >= 1


def test_identical_series_give_zero_and_no_significance() -> None:
    main = _main()
    result = compare_paired(main.copy(), main, reward_lambda=LAM, min_effect=EFFECT,
                            margin=MARGIN, n_resamples=500)
    assert result.identical
    for m in result.metrics.values():
        assert (m.estimate, m.ci_low, m.ci_high) == (0.0, 0.0, 0.0)
        assert not m.superior and m.p_superior == 1.0
    # identical is no worse than main within any positive margin
    assert result.metric("reward").noninferior
    assert result.metric("reward").p_noninferior == pytest.approx(1 / 501)


def test_a_noise_move_straddles_zero() -> None:
    main = _main()
    branch = main + np.random.default_rng(5).normal(0.0, 0.0008, main.size)
    reward = compare_paired(branch, main, reward_lambda=LAM, min_effect=EFFECT,
                            margin=MARGIN, n_resamples=1000).metric("reward")
    assert reward.ci_low < 0 < reward.ci_high
    assert not reward.superior and reward.p_superior > 0.05


def test_reproducible_bit_for_bit_with_the_seed() -> None:
    main = _main()
    branch = main * 0.8 + 0.0001
    runs = [compare_paired(branch, main, reward_lambda=LAM, n_resamples=300, seed=11)
            for _ in range(2)]
    assert runs[0].model_dump_json() == runs[1].model_dump_json()
    other = compare_paired(branch, main, reward_lambda=LAM, n_resamples=300, seed=12)
    assert other.metric("reward").ci_low != runs[0].metric("reward").ci_low


def test_lower_is_better_metrics_improve_downwards() -> None:
    main = _main()
    branch = main * 0.5  # half the risk: half the drawdown, the same Sharpe
    result = compare_paired(branch, main, reward_lambda=LAM, min_effect=EFFECT,
                            margin=MARGIN, n_resamples=500)
    dd = result.metric("max_drawdown")
    assert dd.estimate < 0 and dd.improvement > 0 and dd.superior
    assert result.metric("sharpe").estimate == pytest.approx(0.0, abs=1e-9)
    vol = result.metric("annual_volatility")
    assert vol.estimate == pytest.approx(-0.5 * vol.main, rel=1e-9)


def test_turnover_is_compared_from_the_traded_fractions() -> None:
    main = _main(300)
    traded = np.zeros(300)
    traded[::21] = 0.2
    result = compare_paired(main + 1e-5, main, branch_turnover=traded / 2,
                            main_turnover=traded, reward_lambda=LAM, n_resamples=300)
    turnover = result.metric("turnover")
    assert turnover.main == pytest.approx(np.mean(traded) * 252)
    assert turnover.estimate == pytest.approx(-np.mean(traded) * 126)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 0.99), st.integers(1, 200))
def test_sidak_confidence_rises_with_the_trials(confidence: float, trials: int) -> None:
    one, more = sidak_confidence(confidence, trials), sidak_confidence(confidence, trials + 1)
    assert confidence <= one < more < 1
    # the family-wise confidence is what was asked for
    assert one ** trials == pytest.approx(confidence, rel=1e-12)


def test_deflation_makes_the_same_evidence_harder_to_pass() -> None:
    main = _main()
    branch = main + np.random.default_rng(9).normal(0.00012, 0.001, main.size)
    results = [compare_paired(branch, main, reward_lambda=LAM, n_trials=k, n_resamples=1000,
                              min_effect={"reward": 0.0}) for k in (1, 50)]
    one, many = (r.metric("reward") for r in results)
    assert one.p_superior == many.p_superior  # the evidence is the same ...
    assert many.ci_low < one.ci_low  # ... the bar is higher
    assert results[1].confidence == pytest.approx(0.95 ** (1 / 50))
    assert "Sidak for 50 trials" in results[1].describe()


def test_unpaired_series_are_refused() -> None:
    with pytest.raises(MetricsError, match="same days"):
        compare_paired(_main(100), _main(99), reward_lambda=LAM)
    with pytest.raises(MetricsError, match="at least 20 days"):
        compare_paired(_main(10), _main(10), reward_lambda=LAM)


def _one_resample_at_a_time(b: np.ndarray, m: np.ndarray, bt: np.ndarray, mt: np.ndarray,
                            *, block: float, n_resamples: int, seed: int,
                            lam: float) -> np.ndarray:
    """The differences as arch's ``apply`` gives them, calling the scalar metrics on each
    resample in turn."""
    functionals = _functionals(lam, 252.0)

    def stats(rb: np.ndarray, rm: np.ndarray, tb: np.ndarray, tm: np.ndarray) -> np.ndarray:
        return np.array([f(rb, tb) - f(rm, tm) for f in functionals.values()])

    bootstrap = StationaryBootstrap(block, b, m, bt, mt, seed=np.random.default_rng(seed))
    return bootstrap.apply(stats, n_resamples)


def _backtest(hb: ModuleType, seed: int, blend: float) -> tuple[np.ndarray, np.ndarray]:
    data = hb.make_data(n_days=700, n_assets=6, seed=4)
    window = Window(start=data.dates[30].date(), end=data.dates[-1].date())
    result = simulate(hb.RandomWeights(seed=seed, blend=blend), data, window,
                      frequency="weekly", costs=Costs(), rebalance_threshold=0.01)
    return np.asarray(result.returns), np.asarray(result.turnover)


def test_batched_resamples_equal_one_resample_at_a_time_on_backtests(hb: ModuleType) -> None:
    (b, bt), (m, mt) = _backtest(hb, 1, 0.3), _backtest(hb, 2, 0.6)
    block = _block_length(b - m)
    # 450 resamples: two full batches and a part one
    expected = _one_resample_at_a_time(b, m, bt, mt, block=block, n_resamples=450, seed=7,
                                       lam=LAM)
    names = list(_functionals(LAM, 252.0))
    draws = _resampled_differences(block, b, m, bt, mt, names=names, n_resamples=450,
                                   seed=7, lam=LAM, periods=252.0)
    assert draws.shape == (450, len(names)) and np.all(np.isfinite(draws))
    assert np.array_equal(draws, expected)  # bit for bit
    assert len({row.tobytes() for row in draws}) == 450  # every resample is its own


def test_batched_resamples_keep_undefined_and_ruined_draws_as_the_scalar_metrics_do() -> None:
    # flat stretches give resamples without variance (NaN or infinite ratios), and one
    # day that loses everything ruins the resamples that draw it
    main = np.zeros(40)
    main[5], main[30] = 0.01, -1.0
    branch = np.zeros(40)
    branch[10] = 0.02
    turnover = np.zeros(40)
    expected = _one_resample_at_a_time(branch, main, turnover, turnover, block=3.0,
                                       n_resamples=300, seed=1, lam=LAM)
    draws = _resampled_differences(3.0, branch, main, turnover, turnover,
                                   names=list(_functionals(LAM, 252.0)), n_resamples=300,
                                   seed=1, lam=LAM, periods=252.0)
    assert np.isnan(expected).any() and np.isinf(expected).any()
    assert np.array_equal(draws, expected, equal_nan=True)


_DAY = st.one_of(st.just(0.0), st.just(-1.0), st.floats(-0.2, 0.2, allow_subnormal=False))


@settings(max_examples=40, deadline=None)
@given(st.integers(20, 60).flatmap(lambda n: st.tuples(
    st.lists(_DAY, min_size=n, max_size=n), st.lists(_DAY, min_size=n, max_size=n),
    st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))),
    st.floats(1.0, 8.0), st.integers(0, 2**16))
def test_batched_resamples_agree_with_the_scalar_metrics_on_any_series(
        series: tuple[list[float], list[float], list[float]], block: float,
        seed: int) -> None:
    b, m, traded = (np.asarray(x, dtype=float) for x in series)
    expected = _one_resample_at_a_time(b, m, traded, traded[::-1].copy(), block=block,
                                       n_resamples=230, seed=seed, lam=LAM)
    draws = _resampled_differences(block, b, m, traded, traded[::-1].copy(),
                                   names=list(_functionals(LAM, 252.0)), n_resamples=230,
                                   seed=seed, lam=LAM, periods=252.0)
    assert np.array_equal(draws, expected, equal_nan=True)
