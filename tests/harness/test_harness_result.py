"""BacktestResult: JSON round trip, decision log views; reference strategies; loading."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from pydantic import ValidationError

import alphaloop.harness as harness
from alphaloop.backtest.loading import load_strategy
from alphaloop.harness import (
    BacktestResult,
    InverseVolatility,
    StrategyLoadError,
    Window,
    simulate,
)
from alphaloop.harness.reference import EqualWeight

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def result(hb: ModuleType) -> BacktestResult:
    data = hb.make_data(200, 4, seed=17)
    window = Window(start=data.dates[70].date(), end=data.dates[-1].date(), label="r")
    return simulate(InverseVolatility(window=20), data, window, frequency="weekly",
                    rebalance_threshold=0.01)


def test_json_round_trip_keeps_every_bit(result: BacktestResult, tmp_path: Path) -> None:
    text = result.to_json()
    again = BacktestResult.from_json(text)
    assert again == result
    assert again.to_json() == text
    for name in ("returns", "values", "weights", "turnover", "costs"):
        assert np.array_equal(getattr(again, name), getattr(result, name))
        assert not getattr(again, name).flags.writeable
    path = result.save(tmp_path / "nested" / "result.json")
    assert BacktestResult.load(path) == result
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]
    payload = json.loads(text)
    assert {"config", "data_hash", "dates", "returns", "weights", "decision_log",
            "metrics"} <= set(payload)
    assert payload["dates"][0] == result.dates[0].isoformat()


def test_reading_parses_then_validates_to_what_validating_the_text_gives(
        result: BacktestResult) -> None:
    text = result.to_json()
    read, validated = BacktestResult.from_json(text), BacktestResult.model_validate_json(text)
    assert read.to_json() == validated.to_json() == text
    assert read.records == validated.records and read.records  # the free-form records too
    assert gc.isenabled()  # paused while reading only
    for bad in (text[: len(text) // 2], "not json", text.replace('"dates"', '"days"', 1)):
        with pytest.raises(ValidationError):
            BacktestResult.from_json(bad)
        assert gc.isenabled()


def test_results_differ_when_any_number_differs(result: BacktestResult) -> None:
    nudged = result.returns.copy()
    nudged[5] = np.nextafter(nudged[5], 1.0)  # one unit in the last place
    assert result.model_copy(update={"returns": nudged}) != result
    assert result.model_copy() == result


def test_result_arrays_are_read_only_and_a_writable_input_is_copied(
        result: BacktestResult) -> None:
    for name in ("returns", "values", "weights", "turnover", "costs"):
        array = getattr(result, name)
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0
    writable = np.array(result.values)
    kept = BacktestResult.model_validate({**dict(result), "values": writable})
    writable[0] = -1.0  # the caller's array changes; the result's must not
    assert kept.values[0] == result.values[0]
    assert not kept.values.flags.writeable
    frozen = np.array(result.values)
    frozen.setflags(write=False)  # a frozen array the caller owns is kept, not copied
    assert BacktestResult.model_validate({**dict(result), "values": frozen}).values is frozen


def test_decisions_trades_and_records(result: BacktestResult) -> None:
    log = result.decision_log
    decisions = result.decisions
    assert len(decisions) == len(log) == len(result.records)
    assert [d.date for d in decisions] == list(log.dates)
    trades = result.trades
    assert [t.date for t in trades] == [d.date for d in decisions if d.traded]
    for trade in trades:
        day = result.dates.index(trade.date)
        assert result.turnover[day] == pytest.approx(trade.turnover)
        assert result.costs[day] == pytest.approx(trade.cost)
        assert trade.cost_amount == pytest.approx(trade.cost * trade.value)
    assert set(result.records[0]["volatility"]) == set(result.tickers)
    frame = result.weights_frame()
    assert list(frame.columns) == list(result.tickers) and len(frame) == len(result.dates)
    assert result.equity_series().iloc[-1] == result.values[-1]


def test_inverse_volatility_weights(hb: ModuleType) -> None:
    data = hb.make_data(120, 3, seed=19)
    view = data.view(100, 64)
    decision = InverseVolatility(window=63, invested=0.9).decide(view, _state(view))
    sigma = view.returns[-63:].std(axis=0, ddof=1)
    expected = 0.9 * (1 / sigma) / (1 / sigma).sum()
    got = np.array([decision.weights[t] for t in view.tickers])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    short = InverseVolatility().decide(data.view(1, 64), _state(view))
    assert short.weights == {}
    assert InverseVolatility(window=10).lookback == 11
    with pytest.raises(ValueError):
        InverseVolatility(window=1)
    equal = EqualWeight(0.5).decide(view, _state(view))
    assert equal.weights == dict.fromkeys(view.tickers, 0.5 / 3)


def _state(view):
    from alphaloop.contract import PortfolioState

    return PortfolioState(as_of=view.as_of.to_pydatetime(), weights={}, cash=1.0,
                          value=1.0, peak_value=1.0)


def test_load_strategy_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(load_strategy("inverse-vol"), InverseVolatility)
    built = load_strategy("alphaloop.harness.reference:EqualWeight")
    assert isinstance(built, EqualWeight)
    with pytest.raises(StrategyLoadError, match="unknown strategy 'momentum'"):
        load_strategy("momentum")
    with pytest.raises(StrategyLoadError, match="has no attribute 'Nope'"):
        load_strategy("alphaloop.harness.reference:Nope")
    with pytest.raises(StrategyLoadError, match="cannot be imported"):
        load_strategy("no_such_package.sub:make")
    with pytest.raises(StrategyLoadError, match="has no profiles"):
        load_strategy("inverse-vol", profile="aggressive")
    with pytest.raises(StrategyLoadError, match="no decide"):
        load_strategy("json:dumps", profile="x")  # builds a str, not a strategy

    (tmp_path / "broken_dep_strategy.py").write_text("import not_installed_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StrategyLoadError, match="not_installed_dependency"):
        load_strategy("broken_dep_strategy:make")

    with pytest.raises(StrategyLoadError, match=r"'no_such_package' cannot be imported"):
        load_strategy("no_such_package:make")
    with pytest.raises(StrategyLoadError, match="unknown strategy 'finsage'"):
        load_strategy("finsage")  # the repository's strategy runs sandboxed, never here


def test_the_package_exports_what_it_lists() -> None:
    assert len(set(harness.__all__)) == len(harness.__all__)
    for name in harness.__all__:
        assert getattr(harness, name) is not None


def test_simulate_stays_the_function_when_its_module_is_imported_first() -> None:
    """The package imports its modules on first use; importing the submodule
    ``alphaloop.harness.simulate`` must not put the module in the function's place."""
    code = ("import inspect, alphaloop.harness.simulate\n"
            "from alphaloop.harness import simulate\n"
            "print(inspect.isfunction(simulate))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.stdout.strip() == "True", done.stderr
