"""``alphaloop backtest`` writes the walkthrough's tear sheet for its run: the figures
against the equal-weight and 60/40 benchmarks on the terminal, in ``tearsheet.md`` and
(for a repository's strategy) under ``tearsheet`` in ``result.json``, and the charts of
one strategy as PNGs.

The benchmark figures are checked against the harness run directly on the same panel
and window. The repository is a temporary one holding the quick test strategy of
``tests/cycle/fixture``; a library strategy's run names a folder that is not a
repository, so a read of the held-out window is counted nowhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from support.cycle_repos import make_repo
from typer.testing import CliRunner

from alphaloop.backtest import load_outputs
from alphaloop.cli import app
from alphaloop.data import open_source
from alphaloop.harness import BacktestResult
from alphaloop.harness.config import Costs
from alphaloop.harness.metrics import annual_volatility
from alphaloop.harness.reference import EqualWeight, SixtyForty
from alphaloop.harness.simulate import simulate

DATA = ["--data", "synthetic:years=1.5", "--holdout-days", "20"]
LATER = ["--start", "2005-09-01"]  # the test strategy needs some history first
CHARTS = ["cumulative_return.png", "drawdown.png", "rolling_sharpe.png",
          "monthly_returns.png", "weights.png"]


def _backtest(*args: str):
    run = CliRunner().invoke(app, ["backtest", *DATA, *args])
    assert run.exit_code == 0, run.output
    return run


@pytest.fixture(scope="module")
def repository_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The repository's strategy backtested once: its output folder and what it printed."""
    tmp = tmp_path_factory.mktemp("tearsheet")
    project, out = make_repo(tmp / "project"), tmp / "out"
    return out, _backtest("--repo", str(project), *LATER, "--out", str(out)).stdout


def _direct(result: BacktestResult) -> dict[str, BacktestResult]:
    """The benchmarks run by the harness itself on the run's panel and window."""
    data = open_source(result.config.data_source).load()
    config = result.config
    return {label: simulate(strategy, data, config.window, frequency=config.frequency,
                            costs=Costs())
            for label, strategy in (("equal weight", EqualWeight()),
                                    ("60/40", SixtyForty()))}


def test_the_benchmark_figures_are_the_harness_runs(
        repository_run: tuple[Path, str]) -> None:
    out, _ = repository_run
    payload = json.loads((out / "result.json").read_text())
    result, source = load_outputs((out / "result.json").read_text())
    assert source is not None
    rows = payload["tearsheet"]["relative"]
    assert [(r["window"], r["benchmark"]) for r in rows] == [
        ("in-sample", "equal weight"), ("in-sample", "60/40")]
    ours = result.returns_series().to_numpy()
    direct = _direct(result)
    for row in rows:
        theirs = direct[row["benchmark"]]
        bench = theirs.returns_series().to_numpy()
        assert row["portfolio"] == "finsage" and row["n_days"] == len(ours) == len(bench)
        assert row["portfolio_return"] == pytest.approx(result.metrics.annual_return)
        assert row["benchmark_return"] == pytest.approx(theirs.metrics.annual_return)
        assert row["excess_return"] == pytest.approx(result.metrics.annual_return
                                                     - theirs.metrics.annual_return)
        assert row["tracking_error"] == pytest.approx(annual_volatility(ours - bench))
        beta = np.cov(ours, bench, ddof=1)[0, 1] / np.var(bench, ddof=1)
        assert row["beta"] == pytest.approx(beta)
    assert set(payload["tearsheet"]["benchmarks"]) == {"equal weight", "60/40"}
    years = payload["tearsheet"]["years"]
    assert years and set(years[0]["returns"]) == {"finsage", "equal weight", "60/40"}


def test_the_terminal_shows_the_figures_against_the_benchmarks(
        repository_run: tuple[Path, str]) -> None:
    out, stdout = repository_run
    sheet = json.loads((out / "result.json").read_text())["tearsheet"]
    assert "Against the benchmarks, in-sample" in stdout
    assert "Against the benchmarks, held-out" not in stdout
    for row in sheet["relative"]:
        line = next(ln for ln in stdout.splitlines() if f" {row['benchmark']} " in ln
                    and "%" in ln)
        assert f"{row['benchmark_return']:.2%}" in line
        assert f"{100 * row['excess_return']:+.2f} pp" in line
        assert f"{row['information_ratio']:.2f}" in line
    assert "60% in" in stdout  # what the 60/40 holds on this panel
    assert "tearsheet.md" in stdout and "weights.png" in stdout


def test_the_tear_sheet_and_its_charts_are_written(
        repository_run: tuple[Path, str]) -> None:
    out, _ = repository_run
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["result.json", "equity.png", "tearsheet.md", *CHARTS])
    page = (out / "tearsheet.md").read_text()
    assert "### Against the benchmarks" in page and "### Calendar years" in page
    assert "| in-sample | finsage   | 60/40" in page
    for chart in [*CHARTS, "equity.png"]:
        assert f"]({chart})" in page
    assert "branch" not in page  # one strategy: nothing to compare it with
    for chart in ("cumulative_return.png", "drawdown.png"):  # one panel, no difference
        assert imread(out / chart).shape[:2] == (480, 1100)


def test_json_carries_the_tear_sheet_and_still_reads_back(
        repository_run: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = repository_run
    project = out.parent / "project"
    run = _backtest("--repo", str(project), *LATER, "--out", str(tmp_path / "o"), "--json")
    payload = json.loads(run.stdout)
    assert payload["tearsheet"] == json.loads((out / "result.json").read_text())["tearsheet"]
    result, _ = load_outputs(run.stdout)
    assert result.metrics.n_days == payload["tearsheet"]["relative"][0]["n_days"]


def test_a_library_strategy_s_figures_split_at_the_held_out_window(
        tmp_path: Path) -> None:
    out = tmp_path / "o"
    run = _backtest("--strategy", "inverse-vol", "--include-holdout", "--repo",
                    str(tmp_path), "--out", str(out))
    assert "NOT counted" in run.stdout  # no repository: the read is recorded nowhere
    text = (out / "result.json").read_text()
    assert "tearsheet" not in json.loads(text)  # a library strategy's result stays plain
    result, _ = load_outputs(text)
    assert "Against the benchmarks, in-sample" in run.stdout
    assert "Against the benchmarks, held-out" in run.stdout
    page = (out / "tearsheet.md").read_text()
    for window in ("in-sample", "held-out"):
        for benchmark in ("equal weight", "60/40"):
            assert f"| {window:<9} | inverse-vol | {benchmark}" in page
    assert result.config.window.label == "full"
