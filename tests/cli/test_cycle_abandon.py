"""An interrupted cycle through the command line: refused until it is resumed or
abandoned; ``--abandon`` closes it cleanly and the audit trail stays consistent; the next
cycle shows its progress stage by stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, fixed_hypothesis, git, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger, RunStore
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.repo import GitRepo

FLAGS = ["--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
         "--holdout-days", str(OPTIONS.holdout_days), "--folds", str(OPTIONS.n_folds),
         "--warmup-days", str(OPTIONS.warmup_days)]


def _stop_at(stage: str):
    def hook(current: str, note: str) -> None:
        if current == stage:
            raise OSError(f"no space left on device (before {stage})")
    return hook


def _alphaloop(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.slow
def test_an_interrupted_cycle_is_abandoned_cleanly(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    with pytest.raises(CycleError, match="--resume"):
        run_cycles(repo, OPTIONS, on_stage=_stop_at("risk_review"),
                   hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
    forge = LocalForge(GitRepo.open(repo))
    [pr] = forge.list_prs()
    assert GitRepo.open(repo).worktree_of(pr.head_branch) is not None

    refused = _alphaloop("cycle", "--repo", str(repo), *FLAGS)
    assert refused.exit_code == 2, refused.output
    text = " ".join(refused.output.split())
    assert "c0001 was interrupted in risk_review (no space left on device" in text
    assert "--resume" in text and "--abandon" in text

    done = _alphaloop("cycle", "--repo", str(repo), "--abandon", "--reason", "a wrong idea")
    assert done.exit_code == 0, done.output
    assert "Abandoned c0001" in done.output and f"#{pr.number}" in done.output
    closed = forge.get_pr(pr.number)
    assert closed.state == "closed" and "abandoned" in closed.labels
    assert closed.closed_reason == "a wrong idea"
    assert GitRepo.open(repo).worktree_of(pr.head_branch) is None
    assert GitRepo.open(repo).branch_exists(pr.head_branch)  # its commits stay readable
    assert RunStore.in_progress(GitRepo.open(repo).common_dir) == []
    [entry] = Ledger(repo).entries()
    assert entry.records["summary"]["outcome"] == "abandoned"
    assert entry.records["summary"]["message"] == "a wrong idea"
    assert {"plan", "quant_review", "hypothesis", "implement", "failure"} <= set(entry.records)
    assert git(repo, "log", "-1", "--format=%an %s", "main") == "AlphaLoop PM c0001: abandoned"
    assert git(repo, "status", "--porcelain") == ""

    audit = _alphaloop("audit", "verify", "--repo", str(repo))
    assert audit.exit_code == 0, audit.output
    again = _alphaloop("cycle", "--repo", str(repo), "--abandon")
    assert again.exit_code == 2 and "no interrupted cycle to abandon" in again.output

    # The next cycle starts afresh as c0002, and says how it goes, stage by stage.
    run = _alphaloop("cycle", "--repo", str(repo), *FLAGS)
    assert run.exit_code == 0, run.output
    assert "Cycle 1 of 1: c0002" in run.output
    assert "PM plan" in run.output and "Quant review of main" in run.output
    assert "walk-forward reward" in run.output and "PM report" in run.output
    assert "c0002 done in" in run.output
    assert [e.cycle_id for e in Ledger(repo).entries()] == ["c0001", "c0002"]
    audit = _alphaloop("audit", "verify", "--repo", str(repo))
    assert audit.exit_code == 0, audit.output


def test_a_merged_cycle_cannot_be_abandoned(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    store = RunStore(GitRepo.open(repo).common_dir, "c0001")
    store.save("merge", {"merged": True, "merge_sha": "0" * 40, "needs_human": False,
                         "reasons": []})
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    run = _alphaloop("cycle", "--repo", str(repo), "--abandon")
    assert run.exit_code == 2, run.output
    assert "cannot undo a merge" in run.output and "--resume" in run.output
    assert git(repo, "for-each-ref", "--format=%(refname) %(objectname)") == refs
    assert store.exists()
