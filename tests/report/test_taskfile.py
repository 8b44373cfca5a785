"""task.md: strict parsing with line-numbered errors, and edits that keep every human byte."""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphaloop.report.taskfile import (
    TaskFileError,
    TaskNotFound,
    add_escalation,
    parse_task_file,
    set_status,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

HUMAN_FILE = textwrap.dedent("""\
    # Our backlog

    Some prose before the tasks, with a [link](https://example.org) and **bold**.
    <!-- a comment the PM must keep -->

    <!--
    ## T-900: an example inside a comment is not a task
    - priority: urgent
    -->

    ```markdown
    ## T-901: nor is one inside a fenced block
    - status: whatever
    ```

    ## T-001: Cut drawdown<SP>
    - priority: high
    -   status:    todo     <!-- the PM edits this -->
    - goal: max_drawdown < 15%
    - notes: the 2022 stretch
      is the worst one

    Free text, kept verbatim.
    - a prose bullet: that looks like a field but has an unknown key
    \t tabs and trailing spaces<SP>

    ### A sub-heading inside the task
    More words.

    ## T-002: Lift the reward
    * priority: Medium
    * status: in-progress
    * goal: reward > 0.25 and annual_return >= 7%
    """).replace("<SP>", "   ")  # trailing spaces a human left behind


def _changed(before: str, after: str) -> list[str]:
    """The lines that differ, as ndiff rows ('- old' / '+ new')."""
    return [row for row in difflib.ndiff(before.splitlines(keepends=True),
                                         after.splitlines(keepends=True))
            if row.startswith(("- ", "+ "))]


# -- reading --------------------------------------------------------------------------
def test_reads_tasks_fields_and_free_text() -> None:
    parsed = parse_task_file(HUMAN_FILE)
    assert [t.id for t in parsed.tasks] == ["T-001", "T-002"]
    first, second = parsed.tasks
    assert first.title == "Cut drawdown"
    assert (first.priority, first.status) == ("high", "todo")
    assert first.goal.text() == "max_drawdown < 15%"
    assert first.goal.conditions[0].value == pytest.approx(0.15)
    assert first.notes == "the 2022 stretch is the worst one"
    assert first.line == 16 and first.field_lines["status"] == 18
    assert "a prose bullet: that looks like a field" in first.body
    assert "### A sub-heading inside the task" in first.body
    assert second.priority == "medium" and second.status == "in-progress"
    assert len(second.goal.conditions) == 2
    assert [t.id for t in parsed.open_tasks()] == ["T-001", "T-002"]
    assert first.ref().goal == "max_drawdown < 15%"
    with pytest.raises(TaskNotFound, match="no task T-009"):
        parsed.task("T-009")


def test_the_repository_backlog_is_valid() -> None:
    """The project's own task.md parses. Only its format is checked: a cycle run in this
    clone marks tasks in-progress or done, and the tests pass before and after one."""
    parsed = parse_task_file((REPO_ROOT / "task.md").read_text())
    assert parsed.tasks
    assert len({t.id for t in parsed.tasks}) == len(parsed.tasks)


def _task(fields: str, heading: str = "## T-001: a task") -> str:
    return f"# Backlog\n\n{heading}\n{fields}"


GOOD = "- priority: high\n- status: todo\n- goal: sharpe > 1\n"


@pytest.mark.parametrize(("text", "line", "expected"), [
    (_task(GOOD + "- prority: low\n"), 7, "unknown field 'prority'"),
    (_task("- prority: high\n- status: todo\n- goal: sharpe > 1\n"), 4, "did you mean 'priority'"),
    (_task("- priority: urgent\n- status: todo\n- goal: sharpe > 1\n"), 4,
     "priority 'urgent' of task T-001 is not one of high, medium, low"),
    (_task("- priority: high\n- status: in progress\n- goal: sharpe > 1\n"), 5,
     "write 'in-progress'"),
    (_task("- priority: high\n- status: finished\n- goal: sharpe > 1\n"), 5,
     "not one of todo, in-progress, blocked, done"),
    (_task("- priority: high\n- status: todo\n- goal: drawdown < 15%\n"), 6,
     "unknown metric 'drawdown' (did you mean 'max_drawdown'?)"),
    (_task("- priority: high\n- status: todo\n- goal: sharpe = 1\n"), 6, "'=' cannot be a goal"),
    (_task("- priority: high\n- status: todo\n- goal: sharpe above one\n"), 6,
     "is not a condition; write <metric> <op> <value>"),
    (_task("- priority: high\n- status: todo\n- goal:\n"), 6, "the goal is empty"),
    (_task(GOOD) + "\n" + _task(GOOD, "## T-001: again").split("\n", 2)[2], 8,
     "task id T-001 is already used on line 3; give this task a new id such as T-002"),
    (_task("- priority: high\n- goal: sharpe > 1\n"), 3,
     "task T-001 has no 'status' line; add '- status: todo'"),
    ("# Backlog\n\nJust prose, no tasks.\n", 1, "no tasks found; add one as '## T-001: title'"),
    ("", 1, "no tasks found"),
    (_task(GOOD, "## Ideas"), 3, "'## Ideas' is not a task heading; write '## T-001: title'"),
    (_task(GOOD, "## T-001 Cut drawdown"), 3, "write '## T-001: Cut drawdown'"),
    (_task(GOOD, "## t-001: lower case"), 3, "must look like 'T-001'"),
    (_task(GOOD, "##T-001: no space"), 3, "put a space after '##'"),
    (_task("- priority: high\n- status: todo\n\n- goal: sharpe > 1\n"), 7,
     "the 'goal' line of task T-001 is cut off from the list under its heading (line 3)"),
    (_task("- priority high\n- status: todo\n- goal: sharpe > 1\n"), 4,
     "missing ':' after 'priority'; write '- priority: <value>'"),
    (_task("priority: high\n- status: todo\n- goal: sharpe > 1\n"), 4,
     "start the field with '- '"),
    (_task(GOOD + "- status: done\n"), 7, "second 'status' line in task T-001 (the first is on "
     "line 5)"),
    ("# Backlog\n- status: todo\n\n" + _task(GOOD).split("\n", 2)[2], 2,
     "'status' line outside any task"),
])
def test_every_error_names_its_line_and_the_fix(text: str, line: int, expected: str) -> None:
    with pytest.raises(TaskFileError) as caught:
        parse_task_file(text, path="backlog/task.md")
    problems = [(p.line, p.message) for p in caught.value.problems]
    assert any(at == line and expected in message for at, message in problems), problems
    assert f"backlog/task.md:{line}: " in str(caught.value)


def test_all_problems_are_reported_at_once_in_line_order() -> None:
    text = _task("- priority: urgent\n- status: todo\n- goal: sharpe ~ 1\n- colour: red\n")
    with pytest.raises(TaskFileError) as caught:
        parse_task_file(text)
    assert [p.line for p in caught.value.problems] == [4, 6, 7]
    assert "has 3 problems" in str(caught.value)


def test_continuation_lines_extend_a_field() -> None:
    text = _task("- priority: high\n- status: todo\n- goal: sharpe > 1\n"
                 "  and max_drawdown < 20%\n- notes: one\n\tand two\n")
    task = parse_task_file(text).tasks[0]
    assert task.goal.text() == "sharpe > 1 and max_drawdown < 20%"
    assert task.notes == "one and two"
    assert task.last_field_line == 9


# -- surgical edits -------------------------------------------------------------------
def test_set_status_changes_only_the_value_of_one_line() -> None:
    after = set_status(HUMAN_FILE, "T-001", "in-progress")
    assert _changed(HUMAN_FILE, after) == [
        "- -   status:    todo     <!-- the PM edits this -->\n",
        "+ -   status:    in-progress     <!-- the PM edits this -->\n",
    ]
    assert parse_task_file(after).task("T-001").status == "in-progress"
    assert set_status(after, "T-001", "in-progress") == after


def test_add_escalation_inserts_one_line_after_the_fields() -> None:
    after = add_escalation(HUMAN_FILE, "T-001", "vetoed 3 times:\n c0001 drawdown; c0002 VaR")
    changes = _changed(HUMAN_FILE, after)
    assert changes == ["+ - escalated: vetoed 3 times: c0001 drawdown; c0002 VaR\n"]
    lines = after.splitlines()
    assert lines[lines.index("- escalated: vetoed 3 times: c0001 drawdown; c0002 VaR") - 1] \
        == "  is the worst one"
    again = add_escalation(after, "T-001", "second escalation")
    assert parse_task_file(again).task("T-001").escalations == (
        "vetoed 3 times: c0001 drawdown; c0002 VaR", "second escalation")


def test_edits_copy_the_bullet_style_and_keep_a_missing_final_newline() -> None:
    text = HUMAN_FILE.rstrip("\n")
    after = add_escalation(text, "T-002", "blocked")
    assert after == text + "\n* escalated: blocked"
    assert not after.endswith("\n")
    assert parse_task_file(after).task("T-002").escalations == ("blocked",)


def test_windows_line_endings_survive() -> None:
    crlf = HUMAN_FILE.replace("\n", "\r\n")
    after = add_escalation(set_status(crlf, "T-002", "blocked"), "T-002", "why")
    assert "\n" not in after.replace("\r\n", "")
    assert after.endswith("* escalated: why\r\n")
    assert parse_task_file(after).task("T-002").status == "blocked"


def test_edits_refuse_unknown_tasks_statuses_and_empty_notes() -> None:
    with pytest.raises(TaskNotFound):
        set_status(HUMAN_FILE, "T-404", "done")
    with pytest.raises(ValueError, match="not one of"):
        set_status(HUMAN_FILE, "T-001", "finished")
    with pytest.raises(ValueError, match="needs a note"):
        add_escalation(HUMAN_FILE, "T-001", "  \n ")
    with pytest.raises(TaskFileError):
        set_status("# nothing here\n", "T-001", "done")


_PROSE_LINE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    max_size=40,
).map(lambda s: "prose " + s.replace("<!--", "").replace("```", "").replace("~~~", ""))


@settings(max_examples=60, deadline=None)
@given(preamble=st.lists(_PROSE_LINE, max_size=4), body=st.lists(_PROSE_LINE, max_size=4),
       pad=st.sampled_from([" ", "  ", "\t"]), status=st.sampled_from(
           ["todo", "in-progress", "blocked", "done"]))
def test_any_human_prose_survives_a_status_edit(preamble: list[str], body: list[str], pad: str,
                                                status: str) -> None:
    text = ("\n".join(["# Backlog", *preamble, "", "## T-001: title",
                       f"- priority:{pad}low", f"- status:{pad}todo{pad}",
                       "- goal: calmar >= 0.5", "", *body]) + "\n")
    after = set_status(text, "T-001", status)
    changed = _changed(text, after)
    if status == "todo":
        assert after == text
    else:
        assert changed == [f"- - status:{pad}todo{pad}\n", f"+ - status:{pad}{status}{pad}\n"]
    assert parse_task_file(after).task("T-001").status == status
