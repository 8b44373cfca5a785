"""One whole cycle on the real FinSage strategy, as the README's main job runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, PROJECT, git, make_repo

from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo


@pytest.mark.slow
def test_finsage_cycle_end_to_end(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "finsage", strategy=PROJECT / "strategy",
                     tasks=(PROJECT / "task.md").read_text(), reviewers=None)
    [summary] = run_cycles(repo, OPTIONS)
    assert summary.outcome in (Outcome.MERGED, Outcome.VETOED, Outcome.AWAITING_HUMAN)
    [entry] = Ledger(repo).entries()
    records = entry.records
    assert records["plan"]["task"]["id"] == "T-001"
    review = records["quant_review"]
    assert set(review["attribution"]["asset_class"]) >= {"stocks", "bonds", "crypto"}
    assert review["attribution"]["expert"], "FinSage records carry expert contributions"
    hypothesis = records["hypothesis"]
    assert hypothesis["edits"] or hypothesis["patch_name"]
    risk = records["risk_review"]
    assert risk["verdict"] in ("approve", "veto")
    # The project's gate: Risk, then QA and the Engineer, unless Risk blocked the change.
    later = [stage for stage in ("qa_review", "engineer_review") if stage in records]
    assert later == ([] if risk["verdict"] == "veto" else ["qa_review", "engineer_review"])
    if risk["verdict"] == "veto":  # said once, not as two missing reviews
        assert "not asked: QA, Engineer" in summary.message
        assert "no qa review" not in summary.message
    if risk["branch_metrics"]:
        assert risk["main_metrics"]["holdout"]["n_days"] == OPTIONS.holdout_days
    [pr] = LocalForge(GitRepo.open(repo)).list_prs()
    assert pr.hypothesis is not None and pr.hypothesis["key"] == hypothesis["key"]
    assert "c0001" in (repo / "walkthrough.md").read_text()
    assert git(repo, "status", "--porcelain") == ""
