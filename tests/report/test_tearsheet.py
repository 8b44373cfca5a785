"""The tear sheet's numbers: the 60/40 benchmark, relative figures, the difference panel,
calendar years and the stress table, each checked against its definition."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import TRADING_DAYS_PER_YEAR, AssetInfo, PortfolioState
from alphaloop.data.panel import MarketData
from alphaloop.harness import Costs, Window, research_windows, simulate
from alphaloop.harness.metrics import annual_return, sharpe_ratio
from alphaloop.harness.reference import EqualWeight, SixtyForty
from alphaloop.report.curves import Curve, difference, rolling_sharpe
from alphaloop.report.tearsheet import (
    EQUAL_WEIGHT,
    SIXTY_FORTY,
    Benchmark,
    StressRow,
    StressSide,
    TearSheet,
    build_tear_sheet,
    calendar_years,
    relative_figures,
    simulate_benchmarks,
    sixty_forty_description,
)
from alphaloop.report.tearsheet_markdown import render_tear_sheet

CLASSES = {"SPY": "stocks", "QQQ": "stocks", "TLT": "bonds", "GLD": "commodities"}


def _panel(classes: dict[str, str] = CLASSES, days: int = 400, *,
           unlisted: str | None = None) -> MarketData:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2021-01-04", periods=days)
    n = len(classes)
    prices = 100 * np.cumprod(1 + rng.normal(0.0003, 0.01, (days, n)), axis=0)
    if unlisted is not None:  # listed only from the second half on
        prices[: days // 2, list(classes).index(unlisted)] = np.nan
    assets = tuple(AssetInfo(ticker=t, asset_class=c)  # type: ignore[arg-type]
                   for t, c in classes.items())
    return MarketData(dates=dates, assets=assets, prices=prices,
                      volumes=np.full((days, n), 1e6), fundamentals={}, macro={})


def _decide(strategy: SixtyForty, data: MarketData, position: int) -> tuple[dict, dict]:
    view = data.view(position, 1)
    state = PortfolioState(as_of=view.as_of.to_pydatetime(), weights={}, cash=1.0,
                           value=1.0, peak_value=1.0)
    decision = strategy.decide(view, state)
    return decision.weights, decision.record


def _curve(label: str, returns: np.ndarray, start: str = "2021-01-04") -> Curve:
    dates = pd.bdate_range(start, periods=len(returns))
    return Curve(label=label, dates=tuple(d.date() for d in dates),
                 returns=tuple(float(x) for x in returns))


# -- the 60/40 benchmark --------------------------------------------------------------
def test_sixty_forty_holds_60_percent_in_stocks_and_40_in_bonds_equally_within() -> None:
    weights, record = _decide(SixtyForty(), _panel(), 10)
    assert weights == pytest.approx({"SPY": 0.3, "QQQ": 0.3, "TLT": 0.4})
    assert record == {"assets": {"stocks": 2, "bonds": 1}, "cash": pytest.approx(0.0)}


def test_a_missing_class_leaves_its_share_in_cash() -> None:
    no_bonds = {"SPY": "stocks", "QQQ": "stocks", "GLD": "commodities"}
    weights, record = _decide(SixtyForty(), _panel(no_bonds), 10)
    assert weights == pytest.approx({"SPY": 0.3, "QQQ": 0.3})
    assert record["cash"] == pytest.approx(0.4)
    weights, record = _decide(SixtyForty(), _panel({"GLD": "commodities"}), 10)
    assert weights == {} and record["cash"] == pytest.approx(1.0)
    late = _panel(unlisted="QQQ")  # an asset not listed yet does not count
    assert _decide(SixtyForty(), late, 10)[0] == pytest.approx({"SPY": 0.6, "TLT": 0.4})
    assert _decide(SixtyForty(), late, 300)[0] == pytest.approx(
        {"SPY": 0.3, "QQQ": 0.3, "TLT": 0.4})
    with pytest.raises(ValueError, match="sum to"):
        SixtyForty(0.8, 0.4)


def test_the_description_says_what_the_sixty_forty_is_made_of() -> None:
    assert sixty_forty_description(CLASSES) == (
        "60% in 2 stocks and 40% in 1 bond, equal weights inside each class; a class with "
        "no listed asset that day leaves its share in cash")
    text = sixty_forty_description({"SPY": "stocks"})
    assert text is not None and "40% in cash (the panel holds no bonds)" in text
    assert sixty_forty_description({"GLD": "commodities"}) is None


# -- benchmarks simulated by the harness ----------------------------------------------
@pytest.fixture(scope="module")
def runs() -> list[tuple[MarketData, Window]]:
    data = _panel()
    windows = research_windows(data, holdout_days=100, n_folds=0, warmup_days=20)
    return [(data.slice(end=windows.in_sample.end), windows.in_sample),
            (data, windows.holdout)]


def test_benchmarks_are_the_harness_runs_on_the_same_windows_and_costs(
        runs: list[tuple[MarketData, Window]]) -> None:
    costs = Costs(commission=0.002, slippage=0.001)
    equal, sixty = simulate_benchmarks(runs, frequency="weekly", costs=costs)
    assert (equal.curve.label, sixty.curve.label) == (EQUAL_WEIGHT, SIXTY_FORTY)
    for benchmark, strategy in ((equal, EqualWeight()), (sixty, SixtyForty())):
        results = [simulate(strategy, panel, window, frequency="weekly", costs=costs)
                   for panel, window in runs]
        assert benchmark.curve.returns == tuple(np.concatenate([r.returns for r in results]))
        assert all(r.config.costs == costs for r in results)
    result = simulate(SixtyForty(), *runs[1], frequency="weekly", costs=costs)
    targets = result.decision_log.targets
    stocks = [i for i, t in enumerate(result.tickers) if CLASSES[t] == "stocks"]
    np.testing.assert_allclose(targets[:, stocks].sum(axis=1), 0.6)
    np.testing.assert_allclose(targets[:, result.tickers.index("TLT")], 0.4)
    assert set(sixty.curve.weights) == {"stocks", "bonds", "commodities", "cash"}
    assert max(sixty.curve.weights["commodities"]) == 0.0
    first_day = runs[1][1].start  # a trade at the close: weights are the targets
    day = sixty.curve.dates.index(first_day)
    assert sixty.curve.weights["stocks"][day] == pytest.approx(0.6, abs=2e-3)
    assert "60% in 2 stocks and 40% in 1 bond" in sixty.description


def test_without_stocks_or_bonds_there_is_no_sixty_forty_and_the_page_says_so() -> None:
    data = _panel({"GLD": "commodities", "SLV": "commodities"})
    windows = research_windows(data, holdout_days=100, n_folds=0)
    only = simulate_benchmarks([(data, windows.holdout)], frequency="monthly", costs=Costs())
    assert [b.curve.label for b in only] == [EQUAL_WEIGHT]
    sheet = build_tear_sheet([only[0].curve.model_copy(update={"label": "main"})], only,
                             holdout_start=None, frequency="monthly", costs=Costs())
    page = "\n".join(render_tear_sheet(sheet, {}))
    assert "**60/40**: left out, the panel holds neither stocks nor bonds" in page


# -- relative figures -----------------------------------------------------------------
def test_relative_figures_follow_their_definitions() -> None:
    rng = np.random.default_rng(8)
    bench = rng.normal(0.0004, 0.01, 500)
    noise = rng.normal(0.0, 0.002, 500)
    ours = 0.5 * bench + 0.0002 + noise
    figures = relative_figures(_curve("main", ours), _curve("60/40", bench), "held-out")
    active = ours - bench
    assert figures.excess_return == pytest.approx(annual_return(ours) - annual_return(bench))
    assert figures.tracking_error == pytest.approx(
        np.std(active, ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR))
    assert figures.information_ratio == pytest.approx(
        active.mean() / active.std(ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR))
    assert figures.beta == pytest.approx(np.polyfit(bench, ours, 1)[0])
    assert 0.45 < figures.beta < 0.55 and figures.n_days == 500
    itself = relative_figures(_curve("main", bench), _curve("b", bench), "in-sample")
    assert (itself.excess_return, itself.tracking_error, itself.beta) == (0.0, 0.0,
                                                                           pytest.approx(1.0))


def test_the_tear_sheet_splits_each_pair_at_the_held_out_start() -> None:
    rng = np.random.default_rng(9)
    main, branch, bench = (_curve(x, rng.normal(0.0003, 0.01, 300))
                           for x in ("main", "branch", "bench"))
    sixty = _curve("60/40", rng.normal(0.0002, 0.006, 300))
    benchmarks = [Benchmark(curve=bench.model_copy(update={"label": EQUAL_WEIGHT}),
                            description="d"), Benchmark(curve=sixty, description="d")]
    start = main.dates[200]
    sheet = build_tear_sheet([main, branch], benchmarks, holdout_start=start)
    assert [(r.window, r.portfolio, r.benchmark) for r in sheet.relative] == [
        (w, p, b) for w in ("in-sample", "held-out") for b in (EQUAL_WEIGHT, SIXTY_FORTY)
        for p in ("main", "branch")]
    assert {r.n_days for r in sheet.relative} == {200, 100}
    held = next(r for r in sheet.relative if r.window == "held-out")
    assert held.portfolio_return == annual_return(np.array(main.returns[200:]))


# -- curves: the difference panel, rolling Sharpe, calendar years ----------------------
def test_the_difference_panel_is_the_branch_minus_main() -> None:
    rng = np.random.default_rng(10)
    main = _curve("main", rng.normal(0.0003, 0.01, 250))
    branch = _curve("branch", rng.normal(0.0004, 0.012, 250))
    diff = difference(main, branch)
    np.testing.assert_allclose(diff["cumulative_return"], branch.equity() - main.equity())
    np.testing.assert_allclose(diff["drawdown"], branch.underwater() - main.underwater())
    assert (difference(main, main).to_numpy() == 0.0).all()
    later = _curve("branch", np.array(branch.returns[:200]), start="2021-03-01")
    shared = difference(main, later)
    assert shared.index[0] == pd.Timestamp("2021-03-01")
    assert shared["cumulative_return"].iloc[0] == pytest.approx(
        later.returns[0] - main.returns[main.dates.index(date(2021, 3, 1))])


def test_rolling_sharpe_is_the_harness_sharpe_of_each_window() -> None:
    returns = np.random.default_rng(11).normal(0.0005, 0.01, 200)
    rolled = rolling_sharpe(_curve("main", returns), 63)
    assert rolled.iloc[:62].isna().all()
    for end in (62, 120, 199):
        assert rolled.iloc[end] == pytest.approx(sharpe_ratio(returns[end - 62:end + 1]))


def test_calendar_years_compound_each_year_and_flag_partial_ones() -> None:
    returns = np.full(400, 0.001)
    rows = calendar_years([_curve("main", returns, start="2021-03-01")])
    assert [r.year for r in rows] == [2021, 2022]
    assert [r.partial for r in rows] == [True, True]
    days_2021 = sum(d.year == 2021 for d in pd.bdate_range("2021-03-01", periods=400))
    assert rows[0].returns["main"] == pytest.approx(1.001 ** days_2021 - 1)


# -- the stress table -----------------------------------------------------------------
def test_the_stress_table_lists_every_scenario_with_both_sides() -> None:
    rows = [StressRow(scenario=name, kind="synthetic", start=date(2020, 1, 2),
                      end=date(2020, 6, 30),
                      main=StressSide(total_return=-0.10 - i / 100, max_drawdown=0.20),
                      branch=StressSide(total_return=-0.08, max_drawdown=0.15 + i / 100))
            for i, name in enumerate(("synthetic_crash", "synthetic_vol_shock",
                                      "synthetic_rates_shock"))]
    rows.append(StressRow(scenario="gfc_2008", kind="real", start=date(2008, 9, 1),
                          end=date(2009, 3, 31), main=None,
                          branch=StressSide(total_return=-0.3, max_drawdown=0.35)))
    sheet = TearSheet(labels=["main", "branch"], benchmarks={}, stress=rows)
    page = "\n".join(render_tear_sheet(sheet, {}))
    lines = [line for line in page.split("### Stress scenarios")[1].splitlines()
             if line.startswith("| ")][2:]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    assert [c[0] for c in cells] == [r.scenario for r in rows]
    assert cells[0] == ["synthetic_crash", "synthetic", "2020-01-02 to 2020-06-30",
                        "-10.00%", "-8.00%", "+2.00 pp", "20.00%", "15.00%", "-5.00 pp"]
    assert cells[3][3:6] == ["n/a", "-30.00%", "n/a"]  # main not run: said, not guessed
