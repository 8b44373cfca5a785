"""A task steers the cycle's search through the command line: a wrong name is refused
before any stage, and a pin is what the Quant proposes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli.test_cycle_mistakes import FLAGS, _refused, _untouched
from support.cycle_repos import TASKS, git, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app

PINNED = TASKS.replace("- goal: reward > 5\n",
                       "- goal: reward > 5\n- pin: CASH_BUFFER = 0.2\n- exclude: MOMENTUM_TILT\n")


@pytest.mark.parametrize(("line", "phrases"), [
    ("- exclude: MOMENTUM_TILTT\n", ["task T-001 in task.md names MOMENTUM_TILTT (did you mean "
                                     "MOMENTUM_TILT?)", "strategy/tunables.py",
                                     "fix the pin or exclude line and commit it"]),
    ("- objective: profit\n", ["objective 'profit' of task T-001", "fix task.md and commit"]),
])
def test_a_wrong_search_line_stops_the_cycle_before_it_starts(tmp_path: Path, line: str,
                                                              phrases: list[str]) -> None:
    repo = make_repo(tmp_path / "project",
                     tasks=TASKS.replace("- goal: reward > 5\n", f"- goal: reward > 5\n{line}"))
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    result = CliRunner().invoke(app, ["cycle", "--repo", str(repo), *FLAGS])
    _refused(result, *phrases)
    _untouched(repo, refs)


def test_a_pin_is_the_first_change_the_quant_proposes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", tasks=PINNED)
    result = CliRunner().invoke(app, ["cycle", "--repo", str(repo), *FLAGS, "--dry-run"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Set CASH_BUFFER from 0.1 to 0.2" in text, text
    assert not (repo / ".git" / "alphaloop" / "runs").exists()  # a dry run writes nothing
