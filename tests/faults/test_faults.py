"""Faults other than a kill: a second cycle, main or the forge moving underneath, a full
disk, SIGTERM, a resume with other options. Each ends in the same outcome or a clean
stop with a clear message; nothing half-written survives and no commit is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git

from alphaloop.cycle import CycleError
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo
from faults.crash import (
    KEY,
    Reference,
    audit_problems,
    fresh_repo,
    in_child,
    kill_before,
    more_cash,
    state_of,
)

RUNS = Path(".git") / "alphaloop" / "runs" / "c0001"


def _wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_cycle_is_refused_while_one_runs(tmp_path: Path,
                                                  reference: Reference) -> None:
    repo = fresh_repo(tmp_path / "project", reference.repo)
    source = more_cash(repo)
    started, release = tmp_path / "started", tmp_path / "release"

    def hold(stage: str, note: str) -> None:
        if stage == "risk_review":
            started.touch()
            _wait_for(release)

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source, on_stage=hold)
            code = 0 if summary.outcome == Outcome.MERGED else 2
        finally:
            os._exit(code)
    try:
        _wait_for(started)
        for resume in (False, True):
            with pytest.raises(CycleError, match="another AlphaLoop cycle is running") as info:
                run_cycles(repo, OPTIONS, resume=resume, hypothesis_source=source)
            assert f"pid {pid} " in str(info.value)
    finally:
        release.touch()
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert state_of(repo) == reference.state
    assert audit_problems(repo) == []


@pytest.mark.parametrize("stage", ["risk_review", "report"])
def test_a_human_commit_landing_mid_cycle_is_kept(tmp_path: Path, reference: Reference,
                                                  stage: str) -> None:
    repo = fresh_repo(tmp_path / "project", reference.repo)
    source = more_cash(repo)
    human: list[str] = []

    def commit_on_main(current: str, note: str) -> None:
        if current == stage and not human:
            (repo / "NOTES.md").write_text("a human's note\n")
            git(repo, "add", "NOTES.md")
            git(repo, "commit", "-q", "-m", "human: notes")
            human.append(git(repo, "rev-parse", "HEAD"))

    try:
        [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source,
                               on_stage=commit_on_main)
    except CycleError as exc:  # a clean abort is allowed: main keeps the human commit
        assert "--resume" in str(exc)
        [summary] = run_cycles(repo, OPTIONS, resume=True, hypothesis_source=source)
    assert summary.outcome == reference.summary.outcome, summary.message
    git(repo, "merge-base", "--is-ancestor", human[0], "main")  # never lost
    assert (repo / "NOTES.md").read_text() == "a human's note\n"
    assert git(repo, "status", "--porcelain") == ""
    assert audit_problems(repo) == []


def test_a_human_editing_the_pr_mid_cycle_is_kept(tmp_path: Path,
                                                  reference: Reference) -> None:
    """The forge branch moves underneath the cycle (a human labels the PR)."""
    repo = fresh_repo(tmp_path / "project", reference.repo)

    def label(stage: str, note: str) -> None:
        if stage == "merge":
            forge = LocalForge(GitRepo.open(repo))
            pr = forge.get_pr(1)
            forge.update_pr(1, labels=(*pr.labels, "seen-by-human"))

    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=more_cash(repo), on_stage=label)
    assert summary.outcome == reference.summary.outcome
    [pr] = LocalForge(GitRepo.open(repo)).list_prs()
    assert pr.state == "merged" and "seen-by-human" in pr.labels
    assert audit_problems(repo) == []


def test_a_forge_branch_rewound_mid_cycle_loses_the_approval_not_main(
        tmp_path: Path, reference: Reference) -> None:
    """Someone resets the forge branch to before Risk's review: nothing merges, and the
    result is recorded as not mergeable - not as a veto Risk never gave."""
    repo = fresh_repo(tmp_path / "project", reference.repo)
    before = git(repo, "rev-parse", "main")

    def rewind(stage: str, note: str) -> None:
        if stage == "merge":
            first = git(repo, "rev-list", "--max-parents=0", "alphaloop/forge")
            git(repo, "update-ref", "refs/heads/alphaloop/forge", first)

    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=more_cash(repo), on_stage=rewind)
    assert summary.outcome == Outcome.NOT_MERGEABLE
    assert summary.message.startswith("not mergeable: no risk review of the head commit")
    assert git(repo, "rev-parse", "main^") == before  # only the PM's report landed
    [entry] = state_of(repo)["ledger"]
    assert entry[1:] == ("not_mergeable", entry[2], "approve")
    [pr] = LocalForge(GitRepo.open(repo)).list_prs()
    assert pr.state == "open" and "vetoed" not in pr.labels
    # the audit names what was lost: the review the ledger records is gone from the forge
    [problem] = audit_problems(repo)
    assert problem.startswith("forge: c0001 PR #1: the ledger records a risk review")


def test_a_full_disk_under_the_cache_stops_cleanly_and_resumes(tmp_path: Path,
                                                               reference: Reference) -> None:
    repo = fresh_repo(tmp_path / "project", reference.repo)
    cache = repo / ".git" / "alphaloop" / "cache"
    source = more_cash(repo)
    before = git(repo, "rev-parse", "main")
    cache.mkdir(parents=True, exist_ok=True)
    backtests = cache / "backtests"
    saved = tmp_path / "saved-backtests"
    backtests.rename(saved)  # a cold cache: the backtests must be written
    cache.rename(tmp_path / "cache-outside")
    cache.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(cache)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        with pytest.raises(CycleError) as info:
            run_cycles(repo, OPTIONS, hypothesis_source=source)
        message = str(info.value)
        assert "No space left on device" in message and "--resume" in message
        leftovers = [p.relative_to(cache).as_posix() for p in cache.rglob("*")
                     if p.name.endswith((".tmp", ".partial"))]
        assert leftovers == []
    finally:
        subprocess.run(["umount", str(cache)], check=True)
    assert git(repo, "rev-parse", "main") == before
    saved.rename(backtests)
    [summary] = run_cycles(repo, OPTIONS, resume=True, hypothesis_source=source)
    assert summary.outcome == reference.summary.outcome
    assert state_of(repo) == reference.state
    assert audit_problems(repo) == []


def test_a_resume_with_other_options_is_refused(tmp_path: Path,
                                                reference: Reference) -> None:
    repo = fresh_repo(tmp_path / "project", reference.repo)
    source = more_cash(repo)
    assert in_child(lambda: run_cycles(repo, OPTIONS, hypothesis_source=source,
                                       on_stage=kill_before("risk_review"))) == -signal.SIGKILL
    other = OPTIONS.model_copy(update={"data": "synthetic:years=8"})
    with pytest.raises(CycleError, match="started with other options: data") as info:
        run_cycles(repo, other, resume=True, hypothesis_source=source)
    assert "synthetic:years=7" in str(info.value) and "synthetic:years=8" in str(info.value)
    assert (repo / RUNS / "implement.json").exists()  # nothing of the cycle was dropped
    [summary] = run_cycles(repo, OPTIONS, resume=True, hypothesis_source=source)
    assert summary.outcome == reference.summary.outcome
    assert state_of(repo) == reference.state


def test_sigterm_stops_the_cycle_cleanly(tmp_path: Path, reference: Reference) -> None:
    repo = fresh_repo(tmp_path / "project", reference.repo)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "ALPHALOOP_REVIEW_KEY": KEY}
    command = [sys.executable, "-m", "alphaloop", "cycle", "--repo", str(repo),
               "--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
               "--holdout-days", str(OPTIONS.holdout_days), "--folds", str(OPTIONS.n_folds),
               "--warmup-days", str(OPTIONS.warmup_days)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    _wait_for(repo / RUNS / "quant_review.json", seconds=300)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode not in (0, -signal.SIGTERM), out + err
    assert "SIGTERM" in err and "--resume" in err and "Traceback" not in err
    # Only the sandbox's runtime cache may stay (shared by every later run), and only
    # whole: no half-staged runtime, no other temporary folder.
    assert {p.name for p in temp.iterdir()} <= {"alphaloop-sandbox-runtime"}
    for stage in (temp / "alphaloop-sandbox-runtime").glob("*"):
        assert (stage / "complete").is_file(), f"half-staged runtime left: {stage.name}"
    assert sorted(p.name for p in (repo / ".git" / "alphaloop" / "tmp").iterdir()) == []
    assert (repo / RUNS / "quant_review.json").exists()
