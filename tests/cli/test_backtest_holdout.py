"""``alphaloop backtest`` leaves the held-out window out unless asked, counts the reads it
makes when asked, and Risk's count of held-out reads includes them; ``--walk-forward``
reports the cycle's walk-forward folds.

Every command runs on a temporary repository (the quick test strategy of
``tests/cycle/fixture``) with the whole-cycle tests' options, so a read is recorded in
that repository's ``.git/alphaloop`` and never in the checkout the tests run in.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, fixed_hypothesis, make_repo
from typer.testing import CliRunner

from alphaloop.backtest import load_outputs
from alphaloop.cli import app
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.evaluation.holdout import READS_FILE, reads_outside_cycles
from alphaloop.repo import GitRepo

WINDOWS = ["--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
           "--holdout-days", str(OPTIONS.holdout_days)]
LATER = ["--start", "2005-09-01"]  # the test strategy needs some history first


def _backtest(repo: Path, out: Path, *args: str):
    return CliRunner().invoke(app, ["backtest", "--repo", str(repo), *WINDOWS,
                                    "--out", str(out), *args])


def _reads(repo: Path) -> list[dict]:
    path = GitRepo.open(repo).alphaloop_dir / READS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] \
        if path.exists() else []


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


def test_the_default_leaves_the_held_out_window_out(project: Path, tmp_path: Path) -> None:
    run = _backtest(project, tmp_path / "o", *LATER, "--json")
    assert run.exit_code == 0, run.output
    result, _ = load_outputs(run.stdout)
    payload = json.loads(run.stdout)
    assert "holdout_read" not in payload
    shown = _backtest(project, tmp_path / "o2", *LATER)
    text = " ".join(shown.output.split())
    assert f"window 2005-09-01 to {result.config.window.end}" in text
    assert "held-out window" in text and "left out (--include-holdout runs over it" in text
    held_out_start = text.split("held-out window ")[1].split(" to ")[0]
    assert str(result.config.window.end) < held_out_start
    assert _reads(project) == []


def test_reaching_into_it_is_refused_without_the_flag(project: Path, tmp_path: Path) -> None:
    for args in (["--window", "holdout"], ["--window", "full"], [*LATER, "--end", "2011-06-30"]):
        run = _backtest(project, tmp_path / "o", *args)
        assert run.exit_code == 2, (args, run.output)
        text = " ".join(run.output.split())
        assert "held-out window" in text and "--include-holdout" in text, text
        assert "Traceback" not in text
    assert not (tmp_path / "o").exists()
    assert _reads(project) == []


def test_a_read_is_counted_and_risk_counts_it(project: Path, tmp_path: Path) -> None:
    run = _backtest(project, tmp_path / "o", *LATER, "--include-holdout", "--json")
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    [read] = _reads(project)
    assert payload["holdout_read"] == read
    assert read["command"] == "alphaloop backtest"
    assert read["read_end"] == payload["config"]["window"]["end"] == read["holdout_end"]
    assert read["commit"] == GitRepo.open(project).rev_parse("HEAD")
    # a cycle's Risk review adds the read to its own: 1 (this review) + 1 (the backtest)
    [summary] = run_cycles(project, OPTIONS,
                           hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
    entries = [e.model_dump(mode="json") for e in Ledger(project).entries()]
    risk = entries[0]["records"]["risk_review"]
    assert risk["holdout_reads"] == 2, summary.message
    reads = [f for f in risk["findings"] if f["check"] == "holdout.reads"]
    assert reads[0]["evidence"] == {"reads": 2}
    # the ledger now carries that read: only reads made after the cycle are still to add
    alphaloop_dir = GitRepo.open(project).alphaloop_dir
    assert reads_outside_cycles(alphaloop_dir, entries) == 0
    shown = _backtest(project, tmp_path / "o2", "--include-holdout", "--window", "holdout")
    assert shown.exit_code == 0, shown.output
    assert "counted in" in " ".join(shown.output.split())
    assert len(_reads(project)) == 2
    assert reads_outside_cycles(alphaloop_dir, entries) == 1
    # only reads of the same data's held-out days count
    source, first = read["data_source"], date.fromisoformat(read["holdout_start"])
    assert reads_outside_cycles(alphaloop_dir, entries, data_source=source, start=first) == 1
    assert reads_outside_cycles(alphaloop_dir, entries, data_source="file:other.csv") == 0
    assert reads_outside_cycles(alphaloop_dir, entries, data_source=source,
                                end=first - timedelta(days=1)) == 0


def test_walk_forward_reports_the_folds_the_quant_measures(project: Path,
                                                           tmp_path: Path) -> None:
    folds = ["--walk-forward", "--folds", str(OPTIONS.n_folds),
             "--warmup-days", str(OPTIONS.warmup_days)]
    run = _backtest(project, tmp_path / "o", *folds, "--json")
    assert run.exit_code == 0, run.output
    walk = json.loads(run.stdout)["walk_forward"]
    assert [f["label"] for f in walk] == [f"fold-{k + 1}-test" for k in range(OPTIONS.n_folds)]
    assert all(a["end"] < b["start"] for a, b in pairwise(walk))
    # the same figures as the Quant's review of main in a cycle with these options
    run_cycles(project, OPTIONS, hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
    [entry] = Ledger(project).entries()
    quant = entry.records["quant_review"]
    mean = sum(f["reward"] for f in walk) / len(walk)
    assert mean == pytest.approx(quant["reward"], abs=1e-9)
    assert [f["reward"] for f in walk] == pytest.approx([f["reward"] for f in quant["folds"]])
    table = _backtest(project, tmp_path / "o2", *folds)
    text = " ".join(table.output.split())
    assert "Walk-forward folds (test windows)" in text
    assert "the folds together" in text and f"{mean:.2f}" in text


def test_the_windows_of_a_request() -> None:
    from alphaloop.backtest.request import BacktestRequest, holdout_window, resolve_window
    from alphaloop.data import open_source
    from alphaloop.harness.errors import WindowError

    data = open_source(OPTIONS.data).load()
    request = BacktestRequest(data=OPTIONS.data, holdout_days=OPTIONS.holdout_days,
                              include_holdout=False)
    holdout = holdout_window(data, request)
    assert holdout.end == data.dates[-1].date()
    assert int(data.dates.get_loc(str(holdout.start))) == data.n_days - OPTIONS.holdout_days
    window = resolve_window(data, request)
    assert window.label == "in-sample" and window.start == data.dates[0].date()
    assert window.end == data.dates[data.n_days - OPTIONS.holdout_days - 1].date()
    # the library's default (python -m strategy) reads it; the read is counted by the caller
    assert resolve_window(data, request.model_copy(update={"include_holdout": True})) \
        .label == "full"
    with pytest.raises(WindowError, match="--window holdout is the held-out window"):
        resolve_window(data, request.model_copy(update={"window": "holdout"}))
