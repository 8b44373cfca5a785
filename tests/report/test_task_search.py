"""A task's search lines in task.md: read into a steering, or refused with line and fix."""

from __future__ import annotations

import pytest

from alphaloop.report.taskfile import TaskFileError, parse_task_file

HEAD = "# Backlog\n\n## T-001: a task\n- priority: high\n- status: todo\n- goal: turnover < 2\n"


def test_the_search_lines_steer_the_task() -> None:
    text = HEAD + ("- pin: RISK_AVERSION = 3, ALLOCATION = risk_parity, BAND = 0.05\n"
                   "- exclude: MOMENTUM_LOOKBACK_DAYS,VOL_LOOKBACK_DAYS\n"
                   "- objective: Turnover\n- budget: 6 cycles\n\nFree text.\n")
    task = parse_task_file(text).task("T-001")
    assert task.search.pins == {"RISK_AVERSION": 3, "ALLOCATION": "risk_parity", "BAND": 0.05}
    assert isinstance(task.search.pins["RISK_AVERSION"], int)
    assert task.search.exclude == ("MOMENTUM_LOOKBACK_DAYS", "VOL_LOOKBACK_DAYS")
    assert (task.search.objective, task.search.direction, task.search.budget) == \
        ("turnover", "minimize", 6)
    assert task.ref().search == task.search  # what the Quant receives through the plan
    assert task.body == "Free text."


def test_a_task_without_search_lines_leaves_the_search_free() -> None:
    task = parse_task_file(HEAD).task("T-001")
    assert task.search.names == () and task.search.goal == "reward"
    assert task.search.budget is None


@pytest.mark.parametrize(("line", "expected"), [
    ("- pin: RISK_AVERSION\n", "pin 'RISK_AVERSION' of task T-001 is not 'NAME = value'"),
    ("- pin: A = 1, A = 2\n", "task T-001 pins A twice"),
    ("- exclude: A, 3B\n", "('3B' is not a name)"),
    ("- objective: turnovr\n", "(did you mean 'turnover'?); use one of reward (max)"),
    ("- objective: profit\n", "max_drawdown (min)"),
    ("- budget: 0\n", "budget '0' of task T-001 is not a number of cycles of at least 1"),
    ("- budget: many\n", "write e.g. '- budget: 6'"),
    ("- pin: A = 1\n- exclude: A\n", "task T-001 both pins and excludes A; keep one"),
    ("- objectve: sharpe\n", "unknown field 'objectve' in task T-001 (did you mean "
     "'objective'?)"),
])
def test_a_wrong_search_line_names_its_line_and_the_fix(line: str, expected: str) -> None:
    with pytest.raises(TaskFileError) as caught:
        parse_task_file(HEAD + line)
    assert any(p.line >= 7 and expected in p.message for p in caught.value.problems), \
        caught.value.problems
