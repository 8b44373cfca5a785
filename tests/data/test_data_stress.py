"""Stress scenarios: each does what its description says, deterministically, on any panel."""

from __future__ import annotations

import numpy as np
import pytest

from alphaloop.data import (
    STRESS_SCENARIOS,
    DataError,
    MarketData,
    StressScenario,
    SyntheticConfig,
    SyntheticSource,
    stress_panel,
)


@pytest.fixture(scope="module")
def history() -> MarketData:
    return SyntheticSource(SyntheticConfig(seed=21, years=3)).load()


def _path(data: MarketData, window, ticker: str) -> np.ndarray:
    start = data.index_of(window.start)
    return data.prices[start:, data.tickers.index(ticker)]


def _peak_to_trough(prices: np.ndarray) -> float:
    return float((prices / np.maximum.accumulate(prices) - 1).min())


def _total(prices: np.ndarray) -> float:
    return float(prices[-1] / prices[0] - 1)


def test_every_scenario_is_documented_and_sized() -> None:
    assert set(STRESS_SCENARIOS) == {"crash_2008", "vol_shock_2020", "rates_shock",
                                     "crypto_crash"}
    for name, scenario in STRESS_SCENARIOS.items():
        assert isinstance(scenario, StressScenario) and scenario.name == name
        assert len(scenario.description) > 40 and scenario.length > 20
    with pytest.raises(TypeError):
        STRESS_SCENARIOS["mine"] = STRESS_SCENARIOS["crash_2008"]  # type: ignore[index]


@pytest.mark.parametrize("name", sorted(STRESS_SCENARIOS))
def test_history_is_kept_and_shock_appended(history, name) -> None:
    scenario = STRESS_SCENARIOS[name]
    stressed, window = stress_panel(history, name)
    assert stressed.n_days == history.n_days + scenario.length
    assert stressed.slice(end=history.dates[-1]).content_hash() == history.content_hash()
    assert window.start == history.dates[-1].date()
    assert window.end == stressed.dates[-1].date()
    assert window.label == f"stress:{name}"
    assert stressed.tickers == history.tickers
    assert set(stressed.fundamentals) == set(history.fundamentals)
    assert set(stressed.macro) == set(history.macro)
    assert (stressed.dates[history.n_days:].day_of_week < 5).all()
    assert np.all(np.isfinite(stressed.prices)) and np.all(stressed.prices > 0)
    assert name in stressed.source


@pytest.mark.parametrize("name", sorted(STRESS_SCENARIOS))
def test_stress_is_deterministic(history, name) -> None:
    first, _ = stress_panel(history, name)
    second, _ = stress_panel(history, name)
    assert first.content_hash() == second.content_hash()


def test_start_cuts_the_history_there(history) -> None:
    start = history.dates[400]
    stressed, window = stress_panel(history, "crash_2008", start=start)
    assert window.start == start.date()
    assert stressed.dates[400] == start and stressed.dates[401] > start
    assert np.array_equal(stressed.prices[:401], history.prices[:401])
    assert stressed.n_days == 401 + STRESS_SCENARIOS["crash_2008"].length


def test_crash_2008(history) -> None:
    data, window = stress_panel(history, "crash_2008")
    assert _peak_to_trough(_path(data, window, "SPY")) <= -0.45
    assert _peak_to_trough(_path(data, window, "NVDA")) <= -0.55  # high beta falls more
    assert _total(_path(data, window, "TLT")) > 0.10  # flight to quality
    assert _total(_path(data, window, "IEF")) > 0.03
    assert _peak_to_trough(_path(data, window, "HYG")) < -0.10  # credit suffers
    start = data.index_of(window.start)
    spread = data.fundamentals["credit_spread"][start:, data.tickers.index("HYG")]
    assert spread.max() - spread[0] > 0.06
    assert data.macro["VIX"][start:].max() > 55
    assert data.macro["rate_10y"][-1] < data.macro["rate_10y"][start]


def test_vol_shock_2020(history) -> None:
    data, window = stress_panel(history, "vol_shock_2020")
    spy = _path(data, window, "SPY")
    trough = int(np.argmin(spy))
    assert trough <= 30 and spy[trough] / spy[0] - 1 <= -0.33  # fast fall
    assert spy[-1] / spy[trough] - 1 >= 0.30  # then a rebound
    start = data.index_of(window.start)
    assert 70 <= data.macro["VIX"][start:].max() <= 95
    assert data.macro["VIX"][-1] < 40


def test_rates_shock(history) -> None:
    data, window = stress_panel(history, "rates_shock")
    start = data.index_of(window.start)
    assert data.macro["rate_2y"][-1] - data.macro["rate_2y"][start] == pytest.approx(
        0.03, abs=0.003)
    assert data.macro["rate_10y"][-1] > data.macro["rate_10y"][start] + 0.01
    tlt = _path(data, window, "TLT")
    assert -0.30 <= _peak_to_trough(tlt) <= -0.15 and _total(tlt) < -0.12
    assert _total(_path(data, window, "SHY")) > _total(_path(data, window, "IEF")) > _total(tlt)
    assert _total(_path(data, window, "SPY")) < -0.08
    bond = data.tickers.index("IEF")
    assert data.fundamentals["yield"][-1, bond] > data.fundamentals["yield"][start, bond]


def test_crypto_crash(history) -> None:
    data, window = stress_panel(history, "crypto_crash")
    assert _peak_to_trough(_path(data, window, "BTC-USD")) <= -0.70
    assert _peak_to_trough(_path(data, window, "ETH-USD")) <= -0.70
    assert _peak_to_trough(_path(data, window, "SPY")) > -0.20
    assert abs(_total(_path(data, window, "AGG"))) < 0.05


def test_works_on_a_price_only_panel_with_foreign_tickers(history) -> None:
    """A file panel with no fundamentals, no macro and unknown tickers can be stressed."""
    panel = MarketData(
        dates=history.dates, prices=history.prices[:, :2].copy(),
        volumes=np.full((history.n_days, 2), np.nan),
        assets=tuple(a.model_copy(update={"ticker": f"X{i}"})
                     for i, a in enumerate(history.assets[:2])),
        source="file:prices.csv")
    stressed, window = stress_panel(panel, "crash_2008")
    assert not stressed.fundamentals and not stressed.macro
    assert _peak_to_trough(_path(stressed, window, "X0")) < -0.40
    assert np.isnan(stressed.volumes).all()


def test_unknown_scenario_names_the_choices(history) -> None:
    with pytest.raises(DataError, match=r"unknown stress scenario 'meteor'.*crash_2008"):
        stress_panel(history, "meteor")


def test_start_before_the_data_is_refused(history) -> None:
    with pytest.raises(DataError, match="no data on or before"):
        stress_panel(history, "crash_2008", start="1990-01-01")
