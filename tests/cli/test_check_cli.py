"""``alphaloop check lookahead`` on FinSage, and on FinSage with a planted ``shift(-1)``.

Both run the real engine in the sandbox, on a copy of the project's ``strategy/`` in a
temporary repository (so the test never depends on the state of the checkout it runs
in). The planted change is an overlay that keeps every close it is shown in a module
global and trims the assets whose *next* close is lower (``close.shift(-1)``): on the
first backtest of a process the next close is not there yet, on the second it is, so
the decision made on the full data differs from the one made on data cut at its date.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cycle_repos import PROJECT, git, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app

ARGS = ["--data", "synthetic:years=5", "--frequency", "monthly", "--holdout-days", "252",
        "--warmup-days", "126"]

TOMORROW = '''"""Trim the assets whose next close is lower (a price cache shared by backtests)."""

from __future__ import annotations

import pandas as pd

from alphaloop.contract import MarketView, PortfolioState

_CLOSES: dict[pd.Timestamp, list[float]] = {}


def apply(weights: dict[str, float], view: MarketView,
          portfolio: PortfolioState) -> dict[str, float]:
    for day, row in zip(pd.DatetimeIndex(view.dates), view.prices, strict=True):
        _CLOSES[day] = list(row)
    close = pd.DataFrame.from_dict(_CLOSES, orient="index", columns=list(view.tickers))
    close = close.sort_index()
    ahead = close.shift(-1).loc[view.as_of] / close.loc[view.as_of] - 1.0
    return {t: w * (0.5 if ahead.get(t, 0.0) < 0 else 1.0) for t, w in weights.items()}
'''

ACTIVE = '''"""The overlays the engine applies, in this order."""

from __future__ import annotations

from strategy.overlays import tomorrow

ACTIVE = (tomorrow,)
'''


@pytest.fixture(scope="module")
def finsage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("finsage") / "project",
                     strategy=PROJECT / "strategy")


def test_finsage_passes(finsage: Path) -> None:
    result = CliRunner().invoke(app, ["check", "lookahead", "--repo", str(finsage), *ARGS])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "No look-ahead found: every decision matches." in text
    assert "none of" in text and "decisions changed when recomputed" in text
    assert f"Look-ahead check of the strategy in {finsage} at" in text
    assert "the held-out window (from" in text


def test_planted_shift_fails(tmp_path: Path) -> None:
    planted = make_repo(tmp_path / "planted", strategy=PROJECT / "strategy")
    (planted / "strategy" / "overlays" / "tomorrow.py").write_text(TOMORROW)
    (planted / "strategy" / "overlays" / "active.py").write_text(ACTIVE)
    git(planted, "add", "-A")
    git(planted, "commit", "-qm", "trim what falls tomorrow")
    result = CliRunner().invoke(app, ["check", "lookahead", "--repo", str(planted), *ARGS,
                                      "--json", "--no-oracle"])
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.output)
    assert outcome["format"] == "alphaloop-lookahead/1" and outcome["passed"] is False
    mismatches = outcome["cut_data"]["mismatches"]
    assert mismatches and len(mismatches) <= outcome["cut_data"]["decisions"]
    first = mismatches[0]
    assert first["date"] >= outcome["window"]["start"]
    assert first["max_weight_difference"] > 0.01
    assert outcome["window"]["end"] < outcome["holdout_start"]
    # the same strategy at the commit before the plant passes: --rev picks the code
    before = CliRunner().invoke(app, ["check", "lookahead", "--repo", str(planted),
                                      "--rev", "HEAD~1", *ARGS, "--no-oracle"])
    assert before.exit_code == 0, before.output


def test_bad_input_exits_2(finsage: Path) -> None:
    result = CliRunner().invoke(app, ["check", "lookahead", "--repo", str(finsage),
                                      "--holdout-days", "5"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "alphaloop check lookahead: invalid options: holdout_days" in text
    assert "Traceback" not in text
