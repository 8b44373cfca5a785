"""A whole cycle that merges deploys what it merged: live bars after the clock, the
canary, the ledger, the walkthrough; the next cycle starts from the new clock and its
Quant reviews the live record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, engine_patch, git, make_repo, patch_hypothesis

from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import dry_run, run_cycles
from alphaloop.data import open_source
from alphaloop.forge import LocalForge, render_block
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo

MARKET = open_source(OPTIONS.data).load()
CLOCK = MARKET.dates[-60].date()


def test_a_merged_change_is_deployed_and_the_clock_rolls_forward(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    patch = engine_patch(repo, {"* (1.0 - tunables.CASH_BUFFER)":
                                "* (1.0 - tunables.CASH_BUFFER) * 0.75"})
    # an older bot pull request for the same task, and a person's: the merge supersedes
    # the first only
    forge = LocalForge(GitRepo.open(repo))
    for role, branch in (("quant", "alphaloop/c0000-older"), ("human", "ada/idea")):
        git(repo, "branch", branch)
        forge.open_pr(title=f"{role}'s try", body=render_block({"task_id": "T-001"}),
                      head_branch=branch, base_branch="main", author_role=role)
    options = OPTIONS.model_copy(update={"clock": CLOCK})
    [summary] = run_cycles(repo, options,
                           hypothesis_source=patch_hypothesis("more-cash", patch, "More cash"))
    assert summary.outcome == Outcome.MERGED, summary.message
    assert "canary successful" in summary.message
    [entry] = Ledger(repo).entries()
    assert entry.records["merge"]["superseded"] == [1]
    older, person, merged = forge.list_prs()
    assert older.state == "closed" and "superseded" in older.labels
    assert older.closed_reason == f"superseded by #{merged.number}, which merged"
    assert person.state == "open" and merged.state == "merged"
    plan, deploy = entry.records["plan"], entry.records["deploy"]
    assert plan["clock"] == str(CLOCK)
    first_live = MARKET.dates[-59].date()
    assert deploy["grade"] == "successful" and deploy["live"]["start"] == str(first_live)
    assert deploy["clock_after"] == str(MARKET.dates[-60 + 21].date())
    assert deploy["commit"] == entry.records["merge"]["merge_sha"]
    history = json.loads((repo / "deploy" / "history" / "d0001.json").read_text())
    assert history["cycle_id"] == "c0001" and history["commit"] == deploy["commit"]
    walkthrough = (repo / "walkthrough.md").read_text()
    assert "### Deployment" in walkthrough and "Canary: **successful**" in walkthrough
    assert f"The clock moved from {CLOCK} to {deploy['clock_after']}" in walkthrough
    # The next cycle researches up to the new clock and its Quant starts from the live
    # record; no --clock needed, and an earlier one is refused.
    text = dry_run(repo, OPTIONS)
    assert f"data {MARKET.source} to {deploy['clock_after']}" in text
    assert f"- live {first_live} .. {deploy['clock_after']} (21 bars, process)" in text
    with pytest.raises(CycleError, match="the clock never goes back"):
        dry_run(repo, options)
    assert git(repo, "status", "--porcelain") == ""
