"""Task goals: reading them and checking them against a review's figures."""

from __future__ import annotations

import math
from datetime import date

import pytest

from alphaloop.records import RunMetrics
from alphaloop.report.goals import GoalError, goal_met, metric_values, parse_goal


def _metrics(**overrides: float) -> RunMetrics:
    values = dict(sharpe=0.97, annual_return=0.092, annual_volatility=0.095, max_drawdown=0.213,
                  calmar=0.43, var_95=0.009, turnover=4.13, reward=-0.09)
    values.update(overrides)
    return RunMetrics(label="in-sample", start=date(2005, 1, 3), end=date(2022, 5, 23),
                      n_days=4400, **values)


def test_percent_values_are_fractions_and_text_round_trips() -> None:
    goal = parse_goal("max_drawdown <15% AND sharpe>=0.8")
    assert [(c.metric, c.op, c.value) for c in goal.conditions] == [
        ("max_drawdown", "<", pytest.approx(0.15)), ("sharpe", ">=", 0.8)]
    assert goal.text() == "max_drawdown < 15% and sharpe >= 0.8"
    assert parse_goal(goal.text()) == goal


@pytest.mark.parametrize(("goal", "met"), [
    ("max_drawdown < 15%", False),
    ("max_drawdown < 25%", True),
    ("sharpe > 0.97", False),
    ("sharpe >= 0.97", True),
    ("turnover < 4.13", False),
    ("turnover <= 4.13", True),
    ("reward > -0.1 and annual_return > 9%", True),
    ("reward > -0.1 and annual_return > 10%", False),
    ("annual_volatility < 0.1", True),
    ("calmar > 0.5", False),
])
def test_goal_met_compares_each_condition(goal: str, met: bool) -> None:
    assert goal_met(goal, _metrics()) is met
    assert goal_met(parse_goal(goal), _metrics().model_dump()) is met


def test_an_undefined_figure_never_meets_a_goal() -> None:
    assert goal_met("sharpe < 100", _metrics(sharpe=math.nan)) is False
    assert goal_met("sharpe > -100", {"sharpe": math.nan}) is False


def test_missing_metric_and_bad_goals_say_what_to_write() -> None:
    with pytest.raises(GoalError, match="no 'calmar' figure"):
        goal_met("calmar > 1", {"sharpe": 1.0})
    with pytest.raises(GoalError, match="did you mean 'sharpe'"):
        parse_goal("sharp > 1")
    with pytest.raises(GoalError, match="use <, <=, > or >="):
        parse_goal("sharpe == 1")
    with pytest.raises(GoalError, match="is not a condition"):
        parse_goal("sharpe >")


def test_metric_values_reads_mappings_models_and_objects() -> None:
    class Plain:
        sharpe = 1.5
        turnover = 2

    assert metric_values(Plain()) == {"sharpe": 1.5, "turnover": 2.0}
    assert metric_values({"sharpe": 1, "flag": True, "max_drawdown": "x"}) == {"sharpe": 1.0}
    assert metric_values(_metrics())["reward"] == pytest.approx(-0.09)
