"""The equity/drawdown chart and the runner's all-or-nothing outputs."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from matplotlib.ticker import PercentFormatter

from alphaloop.backtest import run_backtest, write_outputs
from alphaloop.backtest.request import BacktestRequest, resolve_window
from alphaloop.harness import Window, WindowError
from alphaloop.report.plots import equity_figure, equity_png, plot_equity


def _returns(seed: int, n: int = 300) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.normal(0.0004, 0.01, n), index=pd.bdate_range("2020-01-01", periods=n))


def test_the_chart_has_title_axes_percent_drawdown_and_benchmark() -> None:
    figure = equity_figure(_returns(1), title="my strategy", initial_value=1e6,
                           benchmark=_returns(2), strategy_label="mine",
                           benchmark_label="equal weight")
    top, bottom = figure.axes
    assert figure._suptitle is not None and figure._suptitle.get_text() == "my strategy"
    assert top.get_ylabel() == "Portfolio value" and bottom.get_ylabel() == "Drawdown"
    assert bottom.get_xlabel() == "Date"
    assert isinstance(bottom.yaxis.get_major_formatter(), PercentFormatter)
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert labels == ["mine", "equal weight"]
    drawdown = next(ln for ln in bottom.lines if ln.get_label().startswith("mine")).get_ydata()
    assert np.all(np.asarray(drawdown) <= 0.0) and np.min(drawdown) < -1.0  # in percent
    equity = next(line for line in top.lines if line.get_label() == "mine").get_ydata()
    assert equity[-1] == pytest.approx(1e6 * np.prod(1 + _returns(1).to_numpy()))


def test_the_png_is_readable_size_and_reproducible(tmp_path: Path) -> None:
    path = plot_equity(tmp_path / "e.png", _returns(3), title="t")
    image = imread(path)
    assert image.shape[:2] == (750, 1200)
    assert path.read_bytes() == equity_png(_returns(3), title="t")
    assert image.std() > 0.05  # not a blank canvas


@pytest.mark.parametrize("bad", [
    pd.Series([], dtype=float, index=pd.DatetimeIndex([])),
    pd.Series([0.01, np.nan], index=pd.bdate_range("2020-01-01", periods=2)),
    pd.Series([0.01, 0.02]),
])
def test_bad_series_are_refused(bad: pd.Series) -> None:
    with pytest.raises(ValueError, match="returns"):
        equity_figure(bad, title="x")


def test_outputs_replace_only_their_own_files(hb: ModuleType, tmp_path: Path) -> None:
    from alphaloop.harness import InverseVolatility, full_window, simulate

    data = hb.make_data(120, 3, seed=2)
    result = simulate(InverseVolatility(window=10), data, full_window(data))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "result.json").write_text("old")
    (out / "weights.png").write_text("an earlier run's chart")  # no weights by class now
    files = write_outputs(result, out, title="t")
    charts = ["cumulative_return.png", "drawdown.png", "monthly_returns.png"]  # < 1 year
    written = ["result.json", "equity.png", "tearsheet.md", *charts]
    assert sorted(p.name for p in out.iterdir()) == sorted([*written, "notes.txt"])
    assert (files.result, files.plot, files.tearsheet) == (
        out / "result.json", out / "equity.png", out / "tearsheet.md")
    assert files.charts == [out / name for name in charts]
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "result.json").read_text() != "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_without_benchmarks_the_tear_sheet_says_so(tmp_path: Path) -> None:
    outcome = run_backtest(BacktestRequest(strategy="inverse-vol", data="synthetic:years=1",
                                           out=tmp_path / "b", benchmark=False,
                                           holdout_days=20))
    assert outcome.tear_sheet is not None and outcome.tear_sheet.relative == []
    assert outcome.tear_sheet.benchmarks == {}
    assert "tearsheet" not in outcome.extra()  # a library strategy's result stays plain
    page = outcome.tearsheet_path.read_text() if outcome.tearsheet_path else ""
    assert "no benchmark was simulated" in page and "### Calendar years" in page
    assert all(p.exists() for p in outcome.chart_paths)


def test_resolve_window(hb: ModuleType) -> None:
    data = hb.make_data(700, 2, seed=3)
    assert resolve_window(data, BacktestRequest()).label == "full"
    custom = resolve_window(data, BacktestRequest(start=data.dates[10].date()))
    assert custom.label == "custom" and custom.start == data.dates[10].date()
    holdout = resolve_window(data, BacktestRequest(window="holdout", holdout_days=150))
    assert holdout.bounds(data) == (550, 699)
    with pytest.raises(WindowError, match="swap"):
        resolve_window(data, BacktestRequest(start=data.dates[20].date(),
                                             end=data.dates[10].date()))
    assert isinstance(holdout, Window)


def test_run_backtest_end_to_end(tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    outcome = run_backtest(
        BacktestRequest(strategy="inverse-vol", data="synthetic:years=1", out=tmp_path / "b",
                        frequency="weekly", benchmark=False),
        progress=lambda done, total: progress.append((done, total)))
    decisions = len(outcome.result.decision_log)
    assert progress[-1] == (decisions, decisions) and len(progress) == decisions
    assert outcome.result_path.exists() and outcome.plot_path.exists()
    assert outcome.result.config.data_source.startswith("synthetic:")
