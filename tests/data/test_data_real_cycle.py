"""A whole ``alphaloop cycle`` on the ragged real fixture with crypto, up to a cut-off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cycle_repos import PROJECT, git, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app

FIXTURE = (Path(__file__).parents[1] / "fixtures" / "real-multiasset"
           / "real_multiasset_2015_2020.csv")


@pytest.mark.slow
def test_a_cycle_runs_on_the_ragged_real_fixture(tmp_path) -> None:
    repo = make_repo(tmp_path / "project", strategy=PROJECT / "strategy")
    result = CliRunner().invoke(app, [
        "cycle", "--repo", str(repo), "--data", f"file:{FIXTURE}", "--until", "2020-06-30",
        "--frequency", "monthly", "--holdout-days", "63", "--folds", "2",
        "--warmup-days", "260"])
    assert result.exit_code == 0, result.output
    [entry_path] = (repo / "ledger").rglob("c0001*.json")
    entry = json.loads(git(repo, "show", f"main:{entry_path.relative_to(repo)}"))
    text = json.dumps(entry)
    assert "2020-06-30" in text and "2020-07-01" not in text  # nothing after the cut-off
    risk = entry["records"]["risk_review"]  # the Quant proposed a change, Risk reviewed it
    assert "covid_2020" in risk["stress"]  # the real crash, replayed
    assert {n for n in risk["stress"] if n.startswith("synthetic_")}
    skipped = next(f for f in risk["findings"] if f["check"] == "stress.real")
    assert "gfc_2008 (the data starts 2015-01-02" in skipped["message"]
    assert not any(f["check"] == "sandbox.strategy" for f in risk["findings"])
    liquidity = [f for f in risk["findings"] if f["check"] == "risk.liquidity"]
    assert all("inf" not in f["message"] for f in liquidity)
