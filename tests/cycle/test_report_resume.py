"""A cycle killed right after its report commit landed resumes without committing twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git

from alphaloop.cycle.context import CycleContext
from alphaloop.cycle.journal import Journal
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.repo import GitRepo


class Killed(BaseException):
    """Stands for the process dying: nothing in the cycle catches it."""


def test_resume_after_the_report_commit_landed(cycle_repo: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHALOOP_REVIEW_KEY", "test-key")
    real = CycleContext.journal_report

    def die(self: CycleContext, commit: str) -> None:
        raise Killed

    monkeypatch.setattr(CycleContext, "journal_report", die)
    with pytest.raises(Killed):
        run_cycles(cycle_repo, OPTIONS)
    landed = git(cycle_repo, "rev-parse", "main")
    assert "ledger/cycles/c0001.json" in git(cycle_repo, "show", "--name-only", landed)

    monkeypatch.setattr(CycleContext, "journal_report", real)
    [summary] = run_cycles(cycle_repo, OPTIONS, resume=True)
    assert summary.cycle_id == "c0001"
    assert git(cycle_repo, "rev-parse", "main") == landed  # no second report commit
    reports = git(cycle_repo, "log", "--format=%H", "--grep=AlphaLoop-Cycle: c0001",
                  "--", "ledger/cycles/c0001.json").split()
    assert reports == [landed]
    assert [e.cycle_id for e in Ledger(cycle_repo).entries()] == ["c0001"]
    lines, problems = Journal(GitRepo.open(cycle_repo).common_dir, b"test-key").read()
    assert [(line.cycle_id, line.commit) for line in lines] == [("c0001", landed)]
    assert problems == []
