"""Fuzzing the parsers of text a human or a model writes: ``task.md``, goals, the PR's
hypothesis block and LLM answers. Whatever the text, each raises only its documented
error type (or answers)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alphaloop.forge.errors import HypothesisBlockError
from alphaloop.forge.hypothesis import parse_block, render_block, strip_block
from alphaloop.report.goals import GoalError, parse_goal
from alphaloop.report.taskfile import TaskFileError, parse_task_file, set_status
from strategy.experts.llm import parse_answer
from strategy.managers.llm import extract_json

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# Pieces of the formats, so the fuzzer reaches past the first line of each parser.
TASK_PIECES = st.sampled_from([
    "# Backlog\n", "## T-001: Lift the reward\n", "## T-002: x\n", "## T-001: dup\n",
    "## not a task\n", "- priority: high\n", "- priority: urgent\n", "- status: todo\n",
    "- status: done\n", "- status: escalated\n", "- goal: reward > 5\n", "- goal: \n",
    "- goal: sharpe >= nan\n", "- owner: pm\n", "- : \n", "-\n", "free text\n", "\n",
    "```\n", "  - nested: item\n", "<!-- note -->\n", "\t- status: todo\n", "\r\n",
    "## T-\u0661: digits\n", "\ufeff", "\x00", "\u2028",
])
NESTED = "{" + '"a": ' + "[" * 5_000 + "]" * 5_000 + "}"  # deeper than Python recurses


@FUZZ
@given(st.lists(st.one_of(TASK_PIECES, st.text(max_size=30)), max_size=25).map("".join))
@example("## T-001: a\n- status: todo\n- priority: high\n- goal: reward > 1e309\n")
def test_task_files_parse_or_name_their_problem(text: str) -> None:
    try:
        tasks = parse_task_file(text)
    except TaskFileError as error:
        assert error.problems
        return
    for task in tasks.tasks:
        again = set_status(text, task.id, "done")
        assert parse_task_file(again).task(task.id).status == "done"


GOAL_PIECES = st.sampled_from(["reward", "sharpe", "turnover", "max_drawdown", ">", "<",
                               ">=", "<=", "==", "and", ",", "5", "-0.1", "nan", "inf",
                               "1e309", "%", " ", "\u00a0", "\u2265", "0x10", "1_000"])


@FUZZ
@given(st.one_of(st.text(max_size=40),
                 st.lists(GOAL_PIECES, max_size=8).map(" ".join)))
@example("reward > nan")
@example("reward > 1e309")
def test_goals_parse_or_say_why(text: str) -> None:
    try:
        goal = parse_goal(text)
    except GoalError as error:
        assert str(error)
        return
    assert goal.text()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                          allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@FUZZ
@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6), st.text(), st.text())
def test_a_rendered_block_reads_back_exactly(data: dict, before: str, after: str) -> None:
    body = f"{before}\n{render_block(data)}{after}"
    try:
        parsed = parse_block(body)
    except HypothesisBlockError:  # the prose around it opened another block
        assert "```alphaloop-hypothesis" in before + after
        return
    if "```alphaloop-hypothesis" not in before + after and "```" not in after.split("\n")[0]:
        assert parsed == data


BODY_PIECES = st.sampled_from(["```alphaloop-hypothesis\n", "```alphaloop-hypothesis \t\n",
                               "```\n", "``` \n", "{", "}", "[]", '{"a": 1}', "null",
                               '"x"', "\n", "prose ", "NaN", "Infinity", NESTED])


@FUZZ
@given(st.lists(st.one_of(BODY_PIECES, st.text(max_size=20)), max_size=12).map("".join))
@example("```alphaloop-hypothesis\n" + NESTED + "\n```\n")
@example("```alphaloop-hypothesis\n{\"a\": NaN}\n```\n")
def test_pr_bodies_give_a_block_none_or_a_block_error(body: str) -> None:
    try:
        parsed = parse_block(body)
    except HypothesisBlockError as error:
        assert str(error)
        return
    assert parsed is None or isinstance(parsed, dict)
    strip_block(body)


ANSWER_PIECES = st.sampled_from([
    "```json\n", "```\n", "{", "}", '"overall_view": "bullish", ', '"recommendations": [',
    ']', '{"symbol": "SPY", "action": "BUY_50%", "confidence": 0.7}',
    '{"symbol": "", "action": "hold", "confidence": 2}', '"action": 5', ",", "NaN",
    "Infinity", "-0", "1e999", '"\\ud800"', "null", "true", "Sure! Here it is: ", NESTED])


@FUZZ
@given(st.lists(st.one_of(ANSWER_PIECES, st.text(max_size=15)), max_size=12).map("".join))
@example(NESTED)
@example('{"overall_view": "bullish", "recommendations": [{"symbol": "SPY", '
         '"action": 7, "confidence": 0.5}]}')
def test_llm_answers_parse_or_raise_value_error(text: str) -> None:
    for parse in (parse_answer, extract_json):
        try:
            parse(text)
        except ValueError as error:
            assert str(error)


def test_nested_json_is_a_value_error_not_a_recursion_error() -> None:
    with pytest.raises(ValueError, match="nests too deeply"):
        extract_json(NESTED)
    with pytest.raises(HypothesisBlockError, match="nests too deeply"):
        parse_block(render_block({}).replace("{}", NESTED))
