"""``alphaloop ledger list`` and ``show`` after five real cycles.

Five short cycles run in a temporary repository (the whole-cycle tests' options and
quick strategy); the Quant's search is replaced by a source proposing a different edit
each cycle, so every cycle tries something and the ledger holds five trials: merged,
vetoed after the backtests, and vetoed by the gates before any code ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle.run import run_cycles
from alphaloop.records import Hypothesis, ParamEdit
from alphaloop.roles.quant.search import change_key

#: One edit per cycle: (tunable, old, new). MAX_SINGLE_ASSET 0.30 breaks a hard limit,
#: so Risk's gates veto it before running anything: a trial without branch figures.
EDITS = [("CASH_BUFFER", 0.10, 0.12), ("MOMENTUM_TILT", 0.5, 0.3),
         ("MAX_SINGLE_ASSET", 0.12, 0.30), ("VOL_LOOKBACK_DAYS", 63, 84),
         ("MOMENTUM_LOOKBACK_DAYS", 126, 100)]


def _one_edit_each_cycle():
    edits = iter(EDITS)

    def source(**kwargs: object) -> Hypothesis:
        name, old, new = next(edits)
        change = [ParamEdit(name=name, old=old, new=new)]
        task = kwargs.get("task")
        return Hypothesis(key=change_key(change), kind="parameters",
                          slug=f"set-{name.lower().replace('_', '-')}",
                          statement=f"Set {name} from {old} to {new}", rationale="a test",
                          expected_effect="see the review", edits=change,
                          task_id=getattr(task, "id", None))

    return source


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("ledger") / "project")
    with pytest.MonkeyPatch.context() as patch:  # the bot's key of this test session
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
        patch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)
        summaries = run_cycles(repo, OPTIONS, count=5,
                               hypothesis_source=_one_edit_each_cycle())
    assert len(summaries) == 5, [s.message for s in summaries]
    return repo


def _cli(*args: str):
    return CliRunner().invoke(app, ["ledger", *args])


def _trials(repo: Path, *args: str) -> list[dict]:
    run = _cli("list", "--repo", str(repo), "--json", *args)
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    assert payload["format"] == "alphaloop-trials/1"
    assert payload["repository"] == str(repo)
    return payload["trials"]


def test_every_trial_of_five_cycles_is_listed_with_its_figures(five: Path) -> None:
    trials = _trials(five)
    assert [t["cycle"] for t in trials] == ["c0001", "c0002", "c0003", "c0004", "c0005"]
    by_edit = {t["hypothesis"]["edits"][0]["name"]: t for t in trials}
    assert list(by_edit) == [name for name, _, _ in EDITS]
    for name, old, new in EDITS:
        trial = by_edit[name]
        assert trial["hypothesis"]["edits"] == [{"name": name, "old": old, "new": new}]
        assert trial["pr"] is not None and trial["branch"].startswith("alphaloop/c000")
        assert trial["reviews"]["risk"] in ("approve", "veto")
        assert trial["outcome"] in ("merged", "vetoed", "awaiting_human", "not_mergeable")
        figures = trial["figures"]
        assert figures["reward_main"] is not None  # main was measured in every cycle
        if name == "MAX_SINGLE_ASSET":  # stopped by the gates: no backtest of the branch
            assert trial["outcome"] == "vetoed" and figures["reward_branch"] is None
            assert any("0.3" in reason for reason in trial["veto_reasons"])
            continue
        for key in ("reward_branch", "sharpe_main", "sharpe_branch", "max_drawdown_main",
                    "max_drawdown_branch", "holdout_reward_main", "holdout_reward_branch",
                    "p_value", "estimate"):
            assert isinstance(figures[key], float), (name, key, figures)
        assert figures["test_metric"] is not None and 0 < figures["p_value"] <= 1
        assert (trial["outcome"] == "vetoed") == bool(trial["veto_reasons"])
    # the human table shows them all, with the figures
    table = _cli("list", "--repo", str(five))
    assert table.exit_code == 0, table.output
    text = table.output
    for cycle in ("c0001", "c0002", "c0003", "c0004", "c0005"):
        assert cycle in text
    first = by_edit["CASH_BUFFER"]["figures"]
    assert f"{first['reward_main']:.3f}" in text and f"{first['reward_branch']:.3f}" in text
    assert "CASH_BUFFER" in text and "0.1→0.12" in text
    assert "Veto reasons" in text


def test_filters_and_sorting(five: Path) -> None:
    every = _trials(five)
    vetoed = _trials(five, "--outcome", "vetoed")
    assert vetoed and {t["outcome"] for t in vetoed} == {"vetoed"}
    assert len(vetoed) == sum(t["outcome"] == "vetoed" for t in every)
    assert [t["cycle"] for t in _trials(five, "--since", "c0003")] == ["c0003", "c0004",
                                                                       "c0005"]
    assert len(_trials(five, "--since", str(every[0]["date"]))) == 5
    tasks = {t["task"] for t in every}
    for task in tasks:
        assert {t["task"] for t in _trials(five, "--task", task)} == {task}
    ranked = [t["figures"]["reward_branch"] for t in _trials(five, "--sort", "reward")]
    measured = [r for r in ranked if r is not None]
    assert measured == sorted(measured, reverse=True) and ranked[-1] is None
    cycles = [t["cycle"] for t in _trials(five, "--sort", "cycle", "--reverse")]
    assert cycles == ["c0005", "c0004", "c0003", "c0002", "c0001"]
    bad = _cli("list", "--repo", str(five), "--since", "last tuesday")
    assert bad.exit_code == 2 and "neither a cycle" in bad.output
    bad = _cli("list", "--repo", str(five), "--outcome", "won")
    assert bad.exit_code == 2 and "unknown outcome won" in bad.output


def test_show_one_cycle(five: Path) -> None:
    run = _cli("show", "c0002", "--repo", str(five))
    assert run.exit_code == 0, run.output
    text = " ".join(run.output.split())
    assert text.startswith("c0002 ")
    assert "Hypothesis (parameters): Set MOMENTUM_TILT from 0.5 to 0.3" in text
    assert "Risk:" in text and "walk-forward" in text and "held-out" in text
    assert "Findings" in text and "Stress scenarios" in text
    as_json = _cli("show", "2", "--repo", str(five), "--json")
    envelope = json.loads(as_json.stdout)
    assert envelope["cycle_id"] == "c0002" and "risk_review" in envelope["records"]
    assert envelope == json.loads((five / "ledger" / "cycles" / "c0002.json").read_text())
    missing = _cli("show", "c0042", "--repo", str(five))
    assert missing.exit_code == 2 and "no cycle c0042" in missing.output
