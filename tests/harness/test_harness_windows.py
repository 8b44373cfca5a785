"""research_windows(): holdout tail, in-sample before it, expanding walk-forward folds."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from pydantic import ValidationError

from alphaloop.backtest.request import BacktestRequest
from alphaloop.cli.backtest import backtest as backtest_command
from alphaloop.cli.cycle import cycle as cycle_command
from alphaloop.cycle.options import CycleOptions
from alphaloop.harness import WindowError, full_window, named_window, research_windows
from alphaloop.harness.compare import MIN_DAYS
from alphaloop.harness.windows import HOLDOUT_DAYS, MIN_HOLDOUT_DAYS


def test_the_holdout_is_the_tail_and_in_sample_everything_before(hb: ModuleType) -> None:
    data = hb.make_data(1000, 1, seed=0)
    split = research_windows(data, holdout_days=252, n_folds=4)
    holdout_first, holdout_last = split.holdout.bounds(data)
    in_first, in_last = split.in_sample.bounds(data)
    assert (holdout_first, holdout_last) == (748, 999)
    assert (in_first, in_last) == (0, 747)
    assert split.holdout.label == "holdout" and split.in_sample.label == "in-sample"


def test_folds_expand_inside_the_in_sample_period_only(hb: ModuleType) -> None:
    data = hb.make_data(1000, 1, seed=0)
    split = research_windows(data, holdout_days=252, n_folds=4)
    assert split.scheme == "expanding" and len(split.folds) == 4
    in_first, in_last = split.in_sample.bounds(data)
    previous_test_end = None
    for k, fold in enumerate(split.folds):
        train, test = fold.train.bounds(data), fold.test.bounds(data)
        assert fold.index == k
        assert train[0] == in_first  # expanding: always from the in-sample start
        assert test[0] == train[1] + 1  # the test block follows its training data
        assert test[1] <= in_last  # never reaches the holdout
        if previous_test_end is not None:
            assert test[0] == previous_test_end + 1  # consecutive, non-overlapping
        previous_test_end = test[1]
        assert 140 <= test[1] - test[0] + 1 <= 160  # 748 days in 5 nearly equal blocks
    assert previous_test_end == in_last


def test_the_clock_cuts_off_later_data(hb: ModuleType) -> None:
    data = hb.make_data(900, 1, seed=0)
    clock = data.dates[700].date()
    split = research_windows(data, holdout_days=100, n_folds=2, end=clock)
    assert split.holdout.end == clock
    assert split.holdout.bounds(data) == (601, 700)
    assert split.in_sample.bounds(data)[1] == 600
    warm = research_windows(data, holdout_days=100, n_folds=2, end=clock, warmup_days=63)
    assert warm.in_sample.bounds(data)[0] == 63
    assert warm.folds[0].train.bounds(data)[0] == 63


def test_too_short_data_is_refused_with_the_dates(hb: ModuleType) -> None:
    data = hb.make_data(520, 1, seed=0)
    with pytest.raises(WindowError) as caught:
        research_windows(data, holdout_days=504, n_folds=4)
    message = str(caught.value)
    assert str(data.dates[0].date()) in message and str(data.dates[-1].date()) in message
    assert "504-day holdout" in message
    with pytest.raises(WindowError, match="no data on or before"):
        research_windows(data, holdout_days=20, end="1990-01-01")
    with pytest.raises(WindowError, match="holdout_days"):
        research_windows(data, holdout_days=1)
    with pytest.raises(WindowError, match=f"at least {MIN_HOLDOUT_DAYS}"):
        research_windows(data, holdout_days=MIN_HOLDOUT_DAYS - 1, n_folds=0)
    assert research_windows(data, holdout_days=MIN_HOLDOUT_DAYS, n_folds=0).holdout.bounds(
        data) == (520 - MIN_HOLDOUT_DAYS, 519)


def test_one_held_out_default_and_one_lower_bound_everywhere() -> None:
    assert HOLDOUT_DAYS == 504 and MIN_HOLDOUT_DAYS >= MIN_DAYS  # Risk's paired test fits
    assert CycleOptions().holdout_days == BacktestRequest().holdout_days == HOLDOUT_DAYS
    for command in (cycle_command, backtest_command):
        assert inspect.signature(command).parameters["holdout_days"].default == HOLDOUT_DAYS
    for signature in (inspect.signature(research_windows), inspect.signature(named_window)):
        assert signature.parameters["holdout_days"].default == HOLDOUT_DAYS
    for model in (CycleOptions, BacktestRequest):
        model(holdout_days=MIN_HOLDOUT_DAYS)
        with pytest.raises(ValidationError, match="greater than or equal"):
            model(holdout_days=MIN_HOLDOUT_DAYS - 1)


def test_named_windows(hb: ModuleType) -> None:
    data = hb.make_data(800, 1, seed=0)
    assert named_window(data, "full") == full_window(data)
    assert named_window(data, "holdout", holdout_days=200).bounds(data) == (600, 799)
    assert named_window(data, "in-sample", holdout_days=200).bounds(data) == (0, 599)
    clock = data.dates[500].date()
    assert named_window(data, "full", end=clock).end == clock
    with pytest.raises(WindowError, match="unknown window"):
        named_window(data, "training")  # type: ignore[arg-type]
