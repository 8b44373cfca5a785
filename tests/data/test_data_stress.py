"""Stress scenarios: synthetic shocks on the data's own covariance, real crisis windows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from alphaloop.data import (
    CRISIS_WINDOWS,
    STRESS_SCENARIOS,
    DataError,
    MarketData,
    StressScenario,
    SyntheticConfig,
    SyntheticSource,
    crisis_coverage,
    skipped_crises,
    stress_panel,
    stress_scenarios,
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
    assert set(STRESS_SCENARIOS) == {"synthetic_crash", "synthetic_vol_shock",
                                     "synthetic_rates_shock", "synthetic_crypto_crash"}
    for name, scenario in STRESS_SCENARIOS.items():
        assert isinstance(scenario, StressScenario) and scenario.name == name
        assert len(scenario.description) > 40 and scenario.length > 20
    with pytest.raises(TypeError):
        STRESS_SCENARIOS["mine"] = STRESS_SCENARIOS["synthetic_crash"]  # type: ignore[index]


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
    stressed, window = stress_panel(history, "synthetic_crash", start=start)
    assert window.start == start.date()
    assert stressed.dates[400] == start and stressed.dates[401] > start
    assert np.array_equal(stressed.prices[:401], history.prices[:401])
    assert stressed.n_days == 401 + STRESS_SCENARIOS["synthetic_crash"].length


def _class_index(data: MarketData, window, asset_class: str) -> np.ndarray:
    start = data.index_of(window.start)
    cols = [i for i, a in enumerate(data.assets) if a.asset_class == asset_class]
    daily = np.diff(np.log(data.prices[start:, cols]), axis=0).mean(axis=1)
    return np.exp(np.concatenate([[0.0], np.cumsum(daily)]))


def _fall(name: str) -> int:
    return STRESS_SCENARIOS[name].fall_days


def test_synthetic_crash_moves_the_scripted_indices(history) -> None:
    data, window = stress_panel(history, "synthetic_crash")
    fall = _fall("synthetic_crash")
    stocks = _class_index(data, window, "stocks")
    assert stocks[fall] == pytest.approx(0.50, abs=0.08)  # -50% at the end of the fall
    assert _class_index(data, window, "crypto")[fall] == pytest.approx(0.40, abs=0.10)
    # every asset's move over the fall is its regression on the scripted indices,
    # estimated by least squares on the panel's last 504 sessions
    scripted = ["stocks", "commodities", "reits", "crypto"]
    classes = np.array([a.asset_class for a in history.assets])
    returns = np.diff(np.log(history.prices[-505:]), axis=0)
    indices = np.column_stack([returns[:, classes == c].mean(axis=1) for c in scripted])
    x = np.column_stack([np.ones(len(indices)), indices])
    betas = np.linalg.lstsq(x, returns, rcond=None)[0][1:]
    totals = np.log1p([STRESS_SCENARIOS["synthetic_crash"].moves[c][0] for c in scripted])
    start = data.index_of(window.start)
    moved = np.log(data.prices[start + fall] / data.prices[start])
    assert np.allclose(moved, totals @ betas, atol=1e-9)
    start = data.index_of(window.start)
    assert data.macro["VIX"][start:].max() > 55
    assert data.macro["rate_10y"][-1] < data.macro["rate_10y"][start]


def test_synthetic_vol_shock_falls_fast_then_rebounds(history) -> None:
    data, window = stress_panel(history, "synthetic_vol_shock")
    stocks = _class_index(data, window, "stocks")
    fall = _fall("synthetic_vol_shock")
    assert stocks[fall] <= 0.72 and stocks[-1] / stocks[fall] - 1 >= 0.25
    start = data.index_of(window.start)
    assert 70 <= data.macro["VIX"][start:].max() <= 95
    assert data.macro["VIX"][-1] < 40


def test_synthetic_rates_shock_hits_bonds(history) -> None:
    data, window = stress_panel(history, "synthetic_rates_shock")
    start = data.index_of(window.start)
    assert data.macro["rate_2y"][-1] - data.macro["rate_2y"][start] == pytest.approx(0.03)
    bonds = _class_index(data, window, "bonds")
    assert bonds[_fall("synthetic_rates_shock")] == pytest.approx(0.85, abs=0.05)
    assert _total(_path(data, window, "SPY")) < -0.05


def test_synthetic_crypto_crash_spares_the_rest(history) -> None:
    data, window = stress_panel(history, "synthetic_crypto_crash")
    assert _peak_to_trough(_path(data, window, "BTC-USD")) <= -0.60
    assert _peak_to_trough(_path(data, window, "ETH-USD")) <= -0.60
    assert _peak_to_trough(_path(data, window, "SPY")) > -0.25


def test_a_class_the_panel_lacks_is_not_scripted(history) -> None:
    panel = history.select([t for t in history.tickers
                            if history.asset_classes[t] != "crypto"])
    with pytest.raises(DataError, match="no such asset is listed"):
        stress_panel(panel, "synthetic_crypto_crash")
    assert "synthetic_crypto_crash" not in {s.name for s in stress_scenarios(panel)}


def test_a_synthetic_panel_replays_no_real_crisis(history) -> None:
    scenarios = stress_scenarios(history)
    assert {s.kind for s in scenarios} == {"synthetic"}
    assert all(s.name.startswith("synthetic_") for s in scenarios)
    assert set(skipped_crises(history)) == set(CRISIS_WINDOWS)


def test_real_windows_the_fixture_covers(real_fixture) -> None:
    scenarios = {s.name: s for s in stress_scenarios(real_fixture)}
    covid = scenarios["covid_2020"]
    assert covid.kind == "real" and "2020-02-19" in covid.description
    # evaluated from the session before the crash, on the real closes up to its end
    assert covid.window.start == date(2020, 2, 18) and covid.window.end == date(2020, 3, 31)
    assert covid.panel.dates[-1] == pd.Timestamp("2020-03-31")
    assert np.array_equal(covid.panel.prices, real_fixture.slice(end="2020-03-31").prices,
                          equal_nan=True)
    vti = covid.panel.select(["VTI"]).slice(start="2020-02-18").prices[:, 0]
    assert vti.min() / vti[0] - 1 < -0.30  # the real crash, not a model of it
    assert skipped_crises(real_fixture) == {
        "gfc_2008": "the data starts 2015-01-02, after it began",
        "rates_2022": "the data ends 2020-12-31, before the window"}
    kinds = [s.kind for s in scenarios.values()]
    assert kinds == ["real"] + ["synthetic"] * (len(kinds) - 1)


def test_real_window_needs_history_before_it(real_fixture) -> None:
    late = real_fixture.slice(start="2019-06-01")
    coverage = crisis_coverage(late, CRISIS_WINDOWS["covid_2020"])
    assert not coverage.covered and "fewer than the 252" in coverage.reason
    assert crisis_coverage(late, CRISIS_WINDOWS["covid_2020"], history=100).covered


def test_synthetic_shocks_on_a_ragged_real_panel(real_fixture) -> None:
    """Stressed from mid-2016: ETH-USD is not listed yet and stays unlisted."""
    stressed, window = stress_panel(real_fixture, "synthetic_crash", start="2016-06-30")
    eth = stressed.tickers.index("ETH-USD")
    assert np.isnan(stressed.prices[:, eth]).all()
    listed = stressed.prices[stressed.index_of(window.start):, :eth]
    assert np.isfinite(listed).all() and (listed > 0).all()
    assert _peak_to_trough(_path(stressed, window, "VTI")) < -0.35


def test_works_on_a_price_only_panel_with_foreign_tickers(history) -> None:
    """A file panel with no fundamentals, no macro and unknown tickers can be stressed."""
    panel = MarketData(
        dates=history.dates, prices=history.prices[:, :2].copy(),
        volumes=np.full((history.n_days, 2), np.nan),
        assets=tuple(a.model_copy(update={"ticker": f"X{i}"})
                     for i, a in enumerate(history.assets[:2])),
        source="file:prices.csv")
    stressed, window = stress_panel(panel, "synthetic_crash")
    assert not stressed.fundamentals and not stressed.macro
    assert _peak_to_trough(_path(stressed, window, "X0")) < -0.40
    assert np.isnan(stressed.volumes).all()


def test_unknown_scenario_names_the_choices(history) -> None:
    with pytest.raises(DataError, match=r"unknown stress scenario 'meteor'.*synthetic_crash"):
        stress_panel(history, "meteor")


def test_start_before_the_data_is_refused(history) -> None:
    with pytest.raises(DataError, match="no data on or before"):
        stress_panel(history, "synthetic_crash", start="1990-01-01")
