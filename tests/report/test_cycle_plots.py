"""The tear sheet's PNGs from real backtests: valid, sized, both lines drawn, stable."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import date

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from pydantic import ValidationError

from alphaloop.contract import AssetInfo
from alphaloop.data.panel import MarketData
from alphaloop.harness import BacktestResult, InverseVolatility, research_windows, simulate
from alphaloop.harness.metrics import max_drawdown
from alphaloop.report import _canvas
from alphaloop.report.cycle_plots import (
    PLOT_CAPTIONS,
    Curve,
    PlotError,
    drawdown_png,
    equity_png,
    render_cycle_plots,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAIN_RGB = (0x1F, 0x4E, 0x9C)
BRANCH_RGB = (0xD9, 0x62, 0x2B)


def _panel(days: int = 320) -> MarketData:
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2021-01-04", periods=days)
    assets = (AssetInfo(ticker="SPY", asset_class="stocks"),
              AssetInfo(ticker="TLT", asset_class="bonds"),
              AssetInfo(ticker="GLD", asset_class="commodities"))
    drift = np.array([0.0004, 0.0001, 0.0002])
    vol = np.array([0.012, 0.006, 0.009])
    prices = 100 * np.cumprod(1 + drift + vol * rng.standard_normal((days, 3)), axis=0)
    return MarketData(dates=dates, assets=assets, prices=prices,
                      volumes=np.full((days, 3), 1e6), fundamentals={}, macro={})


@pytest.fixture(scope="module")
def backtests() -> dict[str, tuple[BacktestResult, BacktestResult, date]]:
    data = _panel()
    windows = research_windows(data, holdout_days=80, n_folds=0)
    in_sample = data.slice(end=windows.in_sample.end)
    out = {}
    for label, strategy in (("main", InverseVolatility(window=20)),
                            ("branch", InverseVolatility(window=20, invested=0.6))):
        out[label] = (simulate(strategy, in_sample, windows.in_sample, lookback=21),
                      simulate(strategy, data, windows.holdout, lookback=21),
                      windows.holdout.start)
    return out


@pytest.fixture(scope="module")
def curves(backtests: dict[str, tuple[BacktestResult, BacktestResult, date]]) -> list[Curve]:
    classes = _panel().asset_classes
    return [Curve.from_results(label, first, second, asset_classes=classes)
            for label, (first, second, _) in backtests.items()]


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE and png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _pixels_near(png: bytes, rgb: tuple[int, int, int], tolerance: int = 30) -> int:
    image = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3] * 255
    return int((np.abs(image - np.array(rgb)).max(axis=-1) < tolerance).sum())


def test_a_curve_joins_the_in_sample_and_held_out_backtests(
        backtests: dict[str, tuple[BacktestResult, BacktestResult, date]],
        curves: list[Curve]) -> None:
    first, second, holdout_start = backtests["main"]
    main = curves[0]
    assert len(main.dates) == len(first.dates) + len(second.dates)
    assert main.dates[len(first.dates)] == holdout_start
    joined = np.concatenate([first.returns, second.returns])
    np.testing.assert_array_equal(main.returns, joined)
    assert main.equity()[-1] == pytest.approx(np.prod(1 + joined))
    assert main.drawdown().max() == pytest.approx(max_drawdown(joined))


def test_equity_and_drawdown_pngs_are_valid_sized_and_show_both_lines(
        curves: list[Curve], backtests: dict[str, tuple[BacktestResult, BacktestResult, date]]
) -> None:
    holdout_start = backtests["main"][2]
    for draw in (equity_png, drawdown_png):
        png = draw(curves, holdout_start=holdout_start)
        assert _size(png) == (1100, 660)  # with the branch-minus-main panel
        assert 20_000 < len(png) < 400_000
        assert _pixels_near(png, MAIN_RGB) > 300
        assert _pixels_near(png, BRANCH_RGB) > 300
        assert _size(draw(curves[:1], holdout_start=holdout_start)) == (1100, 480)


def test_the_branch_is_dashed_so_it_shows_on_top_of_an_identical_main(
        backtests: dict[str, tuple[BacktestResult, BacktestResult, date]]) -> None:
    first, second, holdout_start = backtests["main"]
    main = Curve.from_results("main", first, second)
    twin = Curve.from_results("branch", first, second)
    png = equity_png([main, twin], holdout_start=holdout_start)
    assert _pixels_near(png, MAIN_RGB) > 300  # blue shows between the orange dashes
    assert _pixels_near(png, BRANCH_RGB) > 300


def test_every_chart_of_the_tear_sheet_is_drawn_and_captioned(curves: list[Curve]) -> None:
    plots = render_cycle_plots(curves, holdout_start=curves[0].dates[240], cycle_id="c0001",
                               benchmarks=[curves[0].model_copy(update={"label": "60/40"})])
    assert set(plots) == set(PLOT_CAPTIONS)
    for png in plots.values():
        width, height = _size(png)
        assert width == 1100 and 300 <= height <= 1200
    short = curves[0].between(end=curves[0].dates[100])
    assert short is not None
    plain = short.model_copy(update={"weights": {}})
    # five months: too short to roll or for a calendar; no weights by class
    assert set(render_cycle_plots([plain], holdout_start=None, cycle_id="c0001")) == {
        "equity.png", "drawdown.png"}


def test_the_held_out_window_is_shaded_only_when_given(curves: list[Curve]) -> None:
    band = (0xF3, 0xF3, 0xF3)  # 10% grey over white
    start = curves[0].dates[len(curves[0].dates) // 2]
    with_band = equity_png(curves, holdout_start=start)
    without = equity_png(curves)
    shaded = _pixels_near(with_band, band, tolerance=4)
    assert shaded > 20_000  # the band covers about half the plotting area
    assert shaded > 5 * _pixels_near(without, band, tolerance=4)


def test_the_same_data_gives_the_same_bytes(curves: list[Curve]) -> None:
    first = render_cycle_plots(curves, holdout_start=curves[0].dates[200], cycle_id="c0001")
    second = render_cycle_plots(curves, holdout_start=curves[0].dates[200], cycle_id="c0001")
    assert first == second and {"equity.png", "drawdown.png"} <= set(first)
    other = render_cycle_plots(curves[:1], holdout_start=None, cycle_id="c0001")
    assert other["equity.png"] != first["equity.png"]


def test_laying_out_once_draws_what_matplotlib_draws_by_itself(
        curves: list[Curve], monkeypatch: pytest.MonkeyPatch) -> None:
    def render() -> dict[str, bytes]:
        return render_cycle_plots(curves, holdout_start=curves[0].dates[240],
                                  cycle_id="c0001", benchmarks=[curves[0].model_copy(
                                      update={"label": "60/40"})])

    fast = render()

    def matplotlib_alone(figures: Iterable[tuple[str, Callable[[], Figure]]]
                         ) -> dict[str, bytes]:  # one at a time, its own layout and ticks
        out = {}
        for name, build in figures:
            buffer = io.BytesIO()
            build().savefig(buffer, format="png", dpi=_canvas.DPI, metadata={"Software": None})
            out[name] = buffer.getvalue()
        return out

    monkeypatch.setattr(_canvas, "pngs", matplotlib_alone)
    assert render() == fast  # every chart, byte for byte


def test_bad_curves_are_refused_with_a_reason() -> None:
    with pytest.raises(PlotError, match="at least one curve"):
        equity_png([])
    with pytest.raises(PlotError, match="at most one branch"):
        equity_png([Curve(label=x, dates=(date(2024, 1, 2),), returns=(0.0,)) for x in "abc"])
    with pytest.raises(PlotError, match="at least one backtest"):
        Curve.from_results("main")
    with pytest.raises(ValidationError, match="2 dates but 1 returns"):
        Curve(label="x", dates=(date(2024, 1, 2), date(2024, 1, 3)), returns=(0.01,))
    with pytest.raises(ValidationError, match="strictly increasing"):
        Curve(label="x", dates=(date(2024, 1, 3), date(2024, 1, 2)), returns=(0.0, 0.0))
    with pytest.raises(ValidationError, match="non-finite"):
        Curve(label="x", dates=(date(2024, 1, 2),), returns=(float("nan"),))
