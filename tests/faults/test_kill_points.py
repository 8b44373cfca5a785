"""A cycle killed (SIGKILL) at a stage boundary or right after a git command resumes to
the same outcome, with nothing made twice, nothing leaked and an audit trail that
verifies.

The suite kills as the stages that write start and right after each command that writes
(a worktree, a commit, a ref, a merge); ``benchmarks/fault_sweep.py`` kills at every
stage boundary and after every git command of a cycle in turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faults.crash import Reference, killed_then_resumed

STAGES = ["risk_review", "merge", "deploy", "report"]
#: Writes of one merged cycle, each named by its command and occurrence: the worktree
#: (the change not yet written), the PR, Risk's review, the squash merge on main, the PR
#: marked merged, the SRE's deployment event on main. (The report commit landing is
#: tests/cycle/test_report_resume.py's case.)
WRITES = [("worktree add", 1), ("update-ref", 1), ("update-ref", 2), ("merge", 1),
          ("update-ref", 3), ("merge", 2)]


def test_the_reference_cycle_merges(reference: Reference) -> None:
    assert reference.summary.outcome.value == "merged", reference.summary.message
    assert reference.state["worktrees"] == 1 and reference.state["runs"] == []


@pytest.mark.parametrize("stage", STAGES)
def test_killed_as_a_stage_starts(tmp_path: Path, reference: Reference, stage: str) -> None:
    assert killed_then_resumed(tmp_path / "project", reference, stage=stage) == []


@pytest.mark.parametrize(("command", "occurrence"), WRITES,
                         ids=[f"{c.replace(' ', '-')}-{n}" for c, n in WRITES])
def test_killed_right_after_a_write(tmp_path: Path, reference: Reference, command: str,
                                    occurrence: int) -> None:
    call = reference.kill_point(command, occurrence)
    assert killed_then_resumed(tmp_path / "project", reference, call=call) == []
