"""``alphaloop pr show`` (concise: the hypothesis once, Risk's figures and its serious
findings first) and ``alphaloop pr diff`` (the change as git shows it), after two real
cycles: one merged, one vetoed by the gates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cycle_repos import (
    OPTIONS,
    accept_any_significant_gain,
    fixed_hypothesis,
    git,
    make_repo,
)
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle.run import run_cycles
from alphaloop.records import Outcome


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("prs") / "project")
    accept_any_significant_gain(repo)
    with pytest.MonkeyPatch.context() as patch:  # the bot's key of this test session
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
        patch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)
        [merged] = run_cycles(repo, OPTIONS,
                              hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
        [vetoed] = run_cycles(repo, OPTIONS, hypothesis_source=fixed_hypothesis(
            "MAX_SINGLE_ASSET", 0.12, 0.30))
    assert (merged.outcome, vetoed.outcome) == (Outcome.MERGED, Outcome.VETOED), \
        (merged.message, vetoed.message)
    return repo


def _pr(*args: str):
    return CliRunner().invoke(app, ["pr", *args])


def _text(output: str) -> str:
    return " ".join(output.split())


def test_show_is_concise_and_leads_with_risk(two: Path) -> None:
    run = _pr("show", "1", "--repo", str(two))
    assert run.exit_code == 0, run.output
    text = _text(run.output)
    assert text.startswith("#1 ")
    assert "state merged" in text and "branch alphaloop/c0001-" in text
    # the hypothesis once: its statement, its edit, its claim; no JSON
    assert text.count("Hypothesis (parameters): Set CASH_BUFFER from 0.1 to 0.12") == 1
    assert text.count("Set CASH_BUFFER from 0.1 to 0.12") == 2  # the title, the statement
    assert "CASH_BUFFER 0.1 0.12 +20%" in text and "claim: reward up" in text
    assert '"search"' not in run.output and "{" not in run.output
    # Risk's verdict and figures, main against the branch, and the paired test
    assert "Risk: approve (severity" in text
    assert "reward walk-forward" in text and "held-out" in text
    assert "walk-forward paired test (claim), reward: estimate +" in text
    assert "held-out non-inferiority, reward" in text
    assert "Reviews" in text and "(above)" in text
    assert text.index("Risk: approve") < text.index("Reviews")
    assert len(run.output.splitlines()) < 60


def test_show_puts_serious_findings_first(two: Path) -> None:
    text = _text(_pr("show", "2", "--repo", str(two)).output)
    assert "Risk: veto (severity 3)" in text
    assert "Findings of severity 2 or more" in text and "3 block" in text
    assert "ast.limits" in text and "MAX_SINGLE_ASSET = 0.3 is above" in text
    assert "state closed: vetoed" in text


def test_show_json_has_the_full_record(two: Path) -> None:
    run = _pr("show", "1", "--repo", str(two), "--json")
    assert run.exit_code == 0, run.output
    record = json.loads(run.stdout)
    assert record["pull_request"]["number"] == 1 and record["head_sha"]
    assert record["hypothesis"]["edits"] == [{"name": "CASH_BUFFER", "old": 0.1,
                                              "new": 0.12}]
    assert record["cycle"]["cycle_id"] == "c0001"
    risk = record["cycle"]["records"]["risk_review"]
    assert risk["verdict"] == "approve" and risk["walk_forward_test"]["metrics"]["reward"]
    assert [r["reviewer"] for r in record["reviews"]] == ["risk"]
    assert record["reviews"][0]["valid"] is True


def test_diff_is_what_git_shows(two: Path) -> None:
    run = _pr("diff", "1", "--repo", str(two))
    assert run.exit_code == 0, run.output
    head = json.loads(_pr("show", "1", "--repo", str(two), "--json").stdout)["head_sha"]
    assert run.stdout.strip() == git(two, "diff", "--color=never", f"main...{head}")
    assert "-CASH_BUFFER = 0.10" in run.stdout and "+CASH_BUFFER = 0.12" in run.stdout
    stat = _pr("diff", "2", "--repo", str(two), "--stat")
    assert stat.exit_code == 0 and "strategy/tunables.py" in stat.stdout
    assert "1 file changed" in stat.stdout
    missing = _pr("diff", "9", "--repo", str(two))
    assert missing.exit_code == 1 and "Traceback" not in missing.output
