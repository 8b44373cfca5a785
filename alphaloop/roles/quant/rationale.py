"""Sentences that tie a hypothesis to the task at hand: its goal, the metric it moves,
and where ``main`` stands on that metric now (the in-sample review's figure)."""

from __future__ import annotations

from alphaloop.records import PerformanceReview, TaskRef
from alphaloop.report.goals import GoalError, metric_values, parse_goal

__all__ = ["aim", "task_sentence"]

_PERCENT = ("annual_return", "annual_volatility", "max_drawdown")


def _shown(metric: str, value: float) -> str:
    return f"{value:.1%}" if metric in _PERCENT else f"{value:.3g}"


def aim(task: TaskRef | None, lam: float) -> str:
    """What a move is meant to improve, for the hypothesis statement."""
    reward = f"the walk-forward reward (Sharpe - {lam:g} x max drawdown)"
    if task is None or not task.goal:
        return f"lift {reward}"
    try:
        metrics = [c.metric for c in parse_goal(task.goal).conditions]
    except GoalError:
        return f"lift {reward}"
    names = " and ".join(dict.fromkeys(metrics))
    return f"move {names} toward {task.id}'s goal ({task.goal})"


def task_sentence(task: TaskRef | None, review: PerformanceReview) -> str:
    """``T-001 (title) asks for max_drawdown < 15%; main's in-sample max_drawdown is
    17.8% (not met).`` - or "" without a task or a readable goal."""
    if task is None or not task.goal:
        return ""
    try:
        goal = parse_goal(task.goal)
    except GoalError:
        return f"{task.id} ({task.title}) asks for {task.goal}."
    values = metric_values(review.metrics)
    figures = [f"{c.metric} {_shown(c.metric, values[c.metric])}"
               for c in goal.conditions if c.metric in values]
    if len(figures) < len(goal.conditions):
        return f"{task.id} ({task.title}) asks for {goal.text()}."
    met = "met" if goal.is_met(values) else "not met"
    now = f"; main's in-sample {', '.join(figures)} ({met})"
    return f"{task.id} ({task.title}) asks for {goal.text()}{now}."
