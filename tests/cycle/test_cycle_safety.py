"""The cycle never loses user work, resumes after a kill, and fails with clear messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cycle_repos import (
    OPTIONS,
    TASKS,
    accept_any_significant_gain,
    engine_patch,
    fixed_hypothesis,
    git,
    make_repo,
    patch_hypothesis,
)

from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.lock import CycleLock
from alphaloop.cycle.run import dry_run, run_cycles
from alphaloop.forge import LocalForge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo

IMPROVE = fixed_hypothesis("CASH_BUFFER", 0.10, 0.12)


def _refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def _on_merge(edit: Callable[[], None]) -> Callable[[str, str], None]:
    """A stage hook making ``edit`` as the merge starts: the user edits files while the
    cycle runs (edits made before it would stop it before its first stage)."""
    def hook(stage: str, note: str) -> None:
        if stage == "merge":
            edit()
    return hook


def test_dirty_checkout_is_kept(cycle_repo: Path) -> None:
    accept_any_significant_gain(cycle_repo)
    engine = cycle_repo / "strategy" / "engine.py"
    (cycle_repo / "notes.txt").write_text("untracked scratch notes\n")
    (cycle_repo / "staged.txt").write_text("staged but not committed\n")
    git(cycle_repo, "add", "staged.txt")
    [summary] = run_cycles(cycle_repo, OPTIONS, hypothesis_source=IMPROVE, on_stage=_on_merge(
        lambda: engine.write_text(engine.read_text() + "\n# a note the user is still writing\n")))
    assert summary.outcome == Outcome.MERGED
    assert engine.read_text().endswith("# a note the user is still writing\n")
    assert (cycle_repo / "notes.txt").read_text() == "untracked scratch notes\n"
    assert "A  staged.txt" in git(cycle_repo, "status", "--porcelain")
    assert "CASH_BUFFER = 0.12" in (cycle_repo / "strategy/tunables.py").read_text()
    assert git(cycle_repo, "symbolic-ref", "--short", "HEAD") == "main"
    # the committed engine is untouched by the user's edit: the cycle used main's tree
    assert "still writing" not in git(cycle_repo, "show", "main:strategy/engine.py")


def test_overlapping_local_change_stops_and_resumes(cycle_repo: Path) -> None:
    accept_any_significant_gain(cycle_repo)
    tunables = cycle_repo / "strategy" / "tunables.py"
    edited = tunables.read_text().replace("VOL_LOOKBACK_DAYS = 63", "VOL_LOOKBACK_DAYS = 70")
    before = git(cycle_repo, "rev-parse", "main")
    with pytest.raises(CycleError) as info:
        run_cycles(cycle_repo, OPTIONS, hypothesis_source=IMPROVE,
                   on_stage=_on_merge(lambda: tunables.write_text(edited)))
    message = str(info.value)
    assert "strategy/tunables.py" in message and "--resume" in message
    assert git(cycle_repo, "rev-parse", "main") == before
    assert tunables.read_text() == edited  # the user's edit is intact
    with pytest.raises(CycleError, match="--resume"):
        run_cycles(cycle_repo, OPTIONS, hypothesis_source=IMPROVE)
    git(cycle_repo, "stash")
    [summary] = run_cycles(cycle_repo, OPTIONS, resume=True, hypothesis_source=IMPROVE)
    assert summary.outcome == Outcome.MERGED
    assert len(LocalForge(GitRepo.open(cycle_repo)).list_prs()) == 1
    git(cycle_repo, "stash", "pop")  # conflicts with nothing the bot wrote elsewhere
    assert "VOL_LOOKBACK_DAYS = 70" in tunables.read_text()
    assert "CASH_BUFFER = 0.12" in tunables.read_text()


def _cycle_command(repo: Path) -> list[str]:
    return [sys.executable, "-m", "alphaloop", "cycle", "--repo", str(repo),
            "--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
            "--holdout-days", str(OPTIONS.holdout_days), "--folds", str(OPTIONS.n_folds),
            "--warmup-days", str(OPTIONS.warmup_days)]


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["implement", "risk_review"])
def test_killed_cycle_resumes_to_the_same_outcome(tmp_path: Path, kill_after: str) -> None:
    twin = make_repo(tmp_path / "twin")
    [expected] = run_cycles(twin, OPTIONS)
    repo = make_repo(tmp_path / "killed")
    runs = repo / ".git" / "alphaloop" / "runs" / "c0001"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(_cycle_command(repo),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not (runs / f"{kill_after}.json").exists():
        assert proc.poll() is None, "the cycle ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (repo / "ledger").exists()
    with pytest.raises(CycleError, match="--resume"):
        run_cycles(repo, OPTIONS)
    [resumed] = run_cycles(repo, OPTIONS, resume=True)
    assert resumed.outcome == expected.outcome
    assert resumed.hypothesis == expected.hypothesis
    assert len(LocalForge(GitRepo.open(repo)).list_prs()) == 1
    branches = git(repo, "branch", "--list", "--format=%(refname:short)",
                   "alphaloop/c0001-*").split()  # no "+" for a branch in a worktree
    assert len(branches) == 1
    quant_commits = git(repo, "log", "--all", "--format=%s", "--author=Quant").splitlines()
    assert len(quant_commits) == 1
    [entry] = Ledger(repo).entries()
    twin_entry = Ledger(twin).entries()[0]
    for stage in ("hypothesis", "risk_review"):
        mine, theirs = entry.records.get(stage), twin_entry.records.get(stage)
        if stage == "risk_review" and mine:
            assert mine["verdict"] == theirs["verdict"]
            assert mine["branch_metrics"] == theirs["branch_metrics"]
        else:
            assert mine == theirs
    assert not runs.exists()


def test_second_concurrent_cycle_is_refused(cycle_repo: Path) -> None:
    with CycleLock(GitRepo.open(cycle_repo).common_dir), \
            pytest.raises(CycleError, match=r"another|running|locked|held"):
        run_cycles(cycle_repo, OPTIONS)


def test_dry_run_changes_nothing(cycle_repo: Path) -> None:
    refs = _refs(cycle_repo)
    text = dry_run(cycle_repo, OPTIONS)
    assert "T-001" in text and "would propose" in text
    assert _refs(cycle_repo) == refs
    assert git(cycle_repo, "status", "--porcelain") == ""
    assert not (cycle_repo / ".git" / "alphaloop" / "runs").exists() or not any(
        (cycle_repo / ".git" / "alphaloop" / "runs").iterdir())


def test_works_without_a_git_identity(cycle_repo: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    git(cycle_repo, "config", "--unset", "user.name")
    git(cycle_repo, "config", "--unset", "user.email")
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    [summary] = run_cycles(cycle_repo, OPTIONS,
                           hypothesis_source=fixed_hypothesis("MAX_SINGLE_ASSET", 0.12, 0.3))
    assert summary.outcome == Outcome.VETOED
    assert git(cycle_repo, "log", "-1", "--format=%an", "main") == "AlphaLoop PM"


# -- bad input: a clear message, and main and the user's files as they were ----------------

def _unchanged(repo: Path, refs: str) -> None:
    assert _refs(repo) == refs


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(CycleError, match=r"not a git repository|git repo"):
        run_cycles(tmp_path, OPTIONS)


def test_detached_head_without_main(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    git(repo, "branch", "-m", "main", "research")
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(CycleError, match="detached"):
        run_cycles(repo, OPTIONS)
    [summary] = run_cycles(repo, OPTIONS.model_copy(update={"base_branch": "research"}),
                           hypothesis_source=fixed_hypothesis("MAX_SINGLE_ASSET", 0.12, 0.3))
    assert summary.outcome == Outcome.VETOED


def test_missing_task_file(cycle_repo: Path) -> None:
    git(cycle_repo, "rm", "-q", "task.md")
    git(cycle_repo, "commit", "-qm", "no backlog")
    refs = _refs(cycle_repo)
    with pytest.raises(CycleError, match=r"task\.md is missing"):
        run_cycles(cycle_repo, OPTIONS)
    _unchanged(cycle_repo, refs)


def test_malformed_task_file_names_the_line(cycle_repo: Path) -> None:
    (cycle_repo / "task.md").write_text(TASKS.replace("- priority: high", "- priority: urgent"))
    git(cycle_repo, "commit", "-qam", "typo")
    refs = _refs(cycle_repo)
    with pytest.raises(CycleError, match=r"task\.md:4"):
        run_cycles(cycle_repo, OPTIONS)
    _unchanged(cycle_repo, refs)


def test_invalid_policy_names_the_file(cycle_repo: Path) -> None:
    risk = cycle_repo / "policies" / "risk.toml"
    risk.write_text(risk.read_text().replace("max_single_asset = 0.15",
                                             "max_single_asset = 'high'"))
    git(cycle_repo, "commit", "-qam", "broken policy")
    refs = _refs(cycle_repo)
    with pytest.raises(CycleError, match=r"risk\.toml"):
        run_cycles(cycle_repo, OPTIONS)
    _unchanged(cycle_repo, refs)


def test_uncommitted_policy_edit_is_not_used(cycle_repo: Path) -> None:
    risk = cycle_repo / "policies" / "risk.toml"
    risk.write_text("this is not toml [[[")
    [summary] = run_cycles(cycle_repo, OPTIONS,
                           hypothesis_source=fixed_hypothesis("MAX_SINGLE_ASSET", 0.12, 0.3))
    assert summary.outcome == Outcome.VETOED
    assert risk.read_text() == "this is not toml [[["


def test_data_too_short_for_holdout(cycle_repo: Path) -> None:
    refs = _refs(cycle_repo)
    short = OPTIONS.model_copy(update={"data": "synthetic:years=2"})
    with pytest.raises(CycleError, match="too short"):
        run_cycles(cycle_repo, short)
    _unchanged(cycle_repo, refs)


def test_hand_edited_ledger_is_detected(cycle_repo: Path) -> None:
    run_cycles(cycle_repo, OPTIONS,
               hypothesis_source=fixed_hypothesis("MAX_SINGLE_ASSET", 0.12, 0.3))
    entry = cycle_repo / "ledger" / "cycles" / "c0001.json"
    entry.write_text(entry.read_text().replace('"vetoed"', '"merged"', 1))
    git(cycle_repo, "commit", "-qam", "rewrite history")
    refs = _refs(cycle_repo)
    with pytest.raises(CycleError, match=r"c0001\.json.*digest"):
        run_cycles(cycle_repo, OPTIONS)
    _unchanged(cycle_repo, refs)


def test_hanging_strategy_is_killed_and_vetoed(cycle_repo: Path) -> None:
    patch = engine_patch(cycle_repo, {
        "        prices = view.prices\n":
            "        prices = view.prices\n"
            "        while view.as_of.year >= 2010:\n"
            "            prices = prices + 0.0\n"})
    source = patch_hypothesis("hang", patch, "A change that never returns")
    options = OPTIONS.model_copy(update={"wall_seconds": 15})
    [summary] = run_cycles(cycle_repo, options, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED
    [entry] = Ledger(cycle_repo).entries()
    [hang] = [f for f in entry.records["risk_review"]["findings"]
              if f["check"] == "sandbox.strategy"]
    assert "wall-time" in hang["message"]
