"""simulate(): decision dates, thresholds, errors naming the date and asset."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from alphaloop.contract import Decision, WeightError, WeightPolicy
from alphaloop.harness import (
    SimulationError,
    StrategyError,
    Window,
    WindowError,
    rebalance_positions,
    simulate,
)


def _window(data, first: int = 0, last: int = -1) -> Window:
    return Window(start=data.dates[first].date(), end=data.dates[last].date(), label="t")


@pytest.mark.parametrize("frequency", ["daily", "weekly", "monthly"])
def test_the_strategy_is_asked_only_on_decision_dates(hb: ModuleType, frequency: str) -> None:
    data = hb.make_data(400, 2, seed=1)
    spy = hb.Scripted(lambda view, portfolio: {"T0": 0.5}, lookback=1)
    simulate(spy, data, _window(data, 7, 390), frequency=frequency)
    asked = [data.index_of(view.as_of) for view in spy.views]
    assert asked == hb.expected_schedule(data.dates, 7, 390, frequency)
    assert asked[0] == 7 and asked[-1] < 390


def test_monthly_decisions_fall_on_the_last_trading_day_of_each_month(hb: ModuleType) -> None:
    data = hb.make_data(300, 1, seed=0)
    positions = rebalance_positions(data.dates, 0, 299, "monthly")
    for p in positions[1:]:
        assert data.dates[p].month != data.dates[p + 1].month
    months = {(d.year, d.month) for d in data.dates[:299]}
    assert len(positions) - 1 == len(months) - 1  # every month end but the window's last
    weekly = rebalance_positions(data.dates, 0, 299, "weekly")
    assert all(data.dates[p].isocalendar()[1] != data.dates[p + 1].isocalendar()[1]
               for p in weekly[1:])
    with pytest.raises(ValueError, match="frequency"):
        rebalance_positions(data.dates, 0, 299, "hourly")  # type: ignore[arg-type]


def test_below_the_threshold_nothing_trades_but_the_strategy_is_asked(hb: ModuleType) -> None:
    data = hb.make_data(200, 3, seed=2)
    target = {"T0": 0.4, "T1": 0.3, "T2": 0.3}
    spy = hb.Scripted(lambda view, portfolio: target, lookback=1)
    result = simulate(spy, data, _window(data), frequency="weekly", rebalance_threshold=0.3)
    assert len(spy.views) == len(result.decision_log) > 10
    assert [t.date for t in result.trades] == [data.dates[0].date()]  # only the funding trade
    assert result.decision_log.traded == (True,) + (False,) * (len(spy.views) - 1)
    assert np.count_nonzero(result.turnover) == 1
    moved = result.decision_log.deviation[1:]
    assert np.all((moved > 0) & (moved < 0.3))


def test_a_strategy_that_raises_is_named_with_the_date(hb: ModuleType) -> None:
    data = hb.make_data(100, 2, seed=3)
    bad_day = data.dates[rebalance_positions(data.dates, 0, 99, "weekly")[3]]

    def answer(view, portfolio):
        if view.as_of == bad_day:
            raise KeyError("missing factor")
        return {}

    with pytest.raises(StrategyError) as caught:
        simulate(hb.Scripted(answer), data, _window(data), frequency="weekly")
    message = str(caught.value)
    assert bad_day.date().isoformat() in message and "KeyError" in message
    assert "missing factor" in message
    assert isinstance(caught.value.original, KeyError)
    assert caught.value.as_of == bad_day.date()


@pytest.mark.parametrize(("weights", "fragment", "asset"), [
    ({"T0": float("nan")}, "weight of T0 is nan", "T0"),
    ({"T1": -0.2}, "negative", "T1"),
    ({"T0": 0.7, "T1": 0.6}, "above the limit", "T0"),
    ({"XYZ": 0.1}, "unknown ticker 'XYZ'", "XYZ"),
    ({"T0": "lots"}, "not a number", "T0"),
])
def test_invalid_weights_name_the_date_and_the_asset(hb: ModuleType, weights, fragment,
                                                     asset) -> None:
    data = hb.make_data(60, 2, seed=4)
    with pytest.raises(WeightError) as caught:
        simulate(hb.Scripted(lambda view, portfolio: weights), data, _window(data, 5))
    assert fragment in str(caught.value)
    assert data.dates[5].date().isoformat() in str(caught.value)
    assert caught.value.asset == asset


def test_a_record_that_is_not_json_is_a_strategy_error(hb: ModuleType) -> None:
    data = hb.make_data(40, 2, seed=5)
    strategy = hb.Scripted(lambda view, portfolio: Decision(weights={}, record={"x": object()}))
    with pytest.raises(StrategyError, match="not JSON-serialisable"):
        simulate(strategy, data, _window(data))


def test_records_become_plain_json(hb: ModuleType) -> None:
    data = hb.make_data(40, 2, seed=5)
    record = {"array": np.array([1.0, np.nan]), "scalar": np.float32(0.5), "set": {2, 1},
              "when": data.dates[0]}
    strategy = hb.Scripted(lambda view, portfolio: Decision(weights={}, record=record))
    result = simulate(strategy, data, _window(data))
    assert result.records[0] == {"array": [1.0, None], "scalar": 0.5, "set": [1, 2],
                                 "when": data.dates[0].isoformat()}


def test_leverage_that_wipes_out_the_portfolio_stops_the_run(hb: ModuleType) -> None:
    data = hb.make_data(60, 1, seed=6)
    prices = data.prices.copy()
    prices[30:] = prices[29] * 0.4  # a 60% fall
    crashed = type(data)(dates=data.dates, assets=data.assets, prices=prices,
                         volumes=data.volumes, source="crash")
    policy = WeightPolicy(max_gross=3.0)
    with pytest.raises(SimulationError, match=r"portfolio value fell to .* on 20"):
        simulate(hb.Scripted(lambda view, portfolio: {"T0": 3.0}), crashed, _window(crashed),
                 weight_policy=policy)


def test_windows_that_are_empty_or_too_short_are_refused(hb: ModuleType) -> None:
    data = hb.make_data(50, 2, seed=7)
    strategy = hb.Scripted(lambda view, portfolio: {})
    with pytest.raises(WindowError, match="no trading day"):
        simulate(strategy, data, Window(start="1999-01-01", end="1999-12-31"))
    one_day = data.dates[10].date()
    with pytest.raises(WindowError, match="only 1 trading day") as caught:
        simulate(strategy, data, Window(start=one_day, end=one_day))
    assert str(data.dates[0].date()) in str(caught.value)
    with pytest.raises(ValueError, match="before it starts"):
        Window(start="2020-02-01", end="2020-01-01")


def test_bad_lookback_is_refused(hb: ModuleType) -> None:
    data = hb.make_data(50, 2, seed=7)
    with pytest.raises(SimulationError, match="lookback"):
        simulate(hb.Scripted(lambda view, portfolio: {}, lookback=0), data, _window(data))


def test_the_result_records_config_and_data_hash(hb: ModuleType) -> None:
    data = hb.make_data(80, 3, seed=8)
    result = simulate(hb.RandomWeights(), data, _window(data, 10), frequency="weekly",
                      rebalance_threshold=0.01, initial_capital=5e5)
    assert result.data_hash == data.content_hash()
    assert result.config.strategy == "random-weights"
    assert result.config.frequency == "weekly"
    assert result.config.initial_capital == 5e5
    assert result.config.lookback == 20
    assert result.dates[0] == data.dates[10].date() and result.dates[-1] == data.dates[-1].date()
    assert result.tickers == data.tickers
    assert result.weights.shape == (70, 3)
    np.testing.assert_allclose(result.weights.sum(axis=1) + result.cash, 1.0)
    assert result.metrics.n_days == 70
    assert result.metrics.total_return == pytest.approx(result.values[-1] / 5e5 - 1)
