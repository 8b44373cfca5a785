"""A task's goal: one or more metric conditions, e.g. ``max_drawdown < 15% and sharpe >= 0.8``.

A goal is checked against the figures of a backtest (the in-sample review of ``main``).
Metric names are those of :class:`alphaloop.records.RunMetrics`; fractions may be
written as percents (``15%`` is ``0.15``). Max drawdown is a positive fraction, so a goal
to cut drawdown reads ``max_drawdown < 15%``.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure

__all__ = [
    "GOAL_METRICS",
    "Condition",
    "Goal",
    "GoalError",
    "goal_met",
    "metric_values",
    "parse_goal",
]

GOAL_METRICS: tuple[str, ...] = (
    "sharpe", "annual_return", "annual_volatility", "max_drawdown", "calmar", "reward",
    "turnover",
)
"""The metrics a goal may name."""

Operator = Literal["<", "<=", ">", ">="]
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_CONDITION = re.compile(
    r"^(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|<|>|==|=|!=)\s*"
    r"(?P<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<percent>%)?$")
_EXAMPLE = "e.g. 'max_drawdown < 15%' or 'sharpe >= 0.8 and turnover < 4'"


class GoalError(Failure, ValueError):
    """A goal cannot be read, or the metrics lack a figure it needs."""


class Condition(BaseModel):
    """``metric op value``; ``value`` is stored as a plain number (``15%`` -> 0.15)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Literal["sharpe", "annual_return", "annual_volatility", "max_drawdown", "calmar",
                    "reward", "turnover"]
    op: Operator
    value: float
    percent: bool = Field(default=False, description="written as a percent")

    def text(self) -> str:
        shown = f"{self.value * 100:g}%" if self.percent else f"{self.value:g}"
        return f"{self.metric} {self.op} {shown}"

    def holds(self, values: Mapping[str, float]) -> bool:
        """Whether the condition holds; an undefined (NaN) figure never meets it."""
        if self.metric not in values:
            raise GoalError(f"the metrics have no '{self.metric}' figure, needed by the goal "
                            f"'{self.text()}'; metrics given: {', '.join(sorted(values))}")
        actual = float(values[self.metric])
        if math.isnan(actual):
            return False
        return _COMPARE[self.op](actual, self.value)


class Goal(BaseModel):
    """All of ``conditions`` must hold for the goal to be met."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conditions: tuple[Condition, ...] = Field(min_length=1)

    def text(self) -> str:
        return " and ".join(c.text() for c in self.conditions)

    def is_met(self, metrics: Any) -> bool:
        values = metric_values(metrics)
        return all(c.holds(values) for c in self.conditions)


def _condition(part: str) -> Condition:
    match = _CONDITION.match(part.strip())
    if match is None:
        words = part.split()
        if words and words[0].lower() not in GOAL_METRICS:
            raise _unknown_metric(words[0])
        raise GoalError(f"'{part.strip()}' is not a condition; write <metric> <op> <value>, "
                        f"{_EXAMPLE}")
    metric, op = match["metric"], match["op"]
    if metric not in GOAL_METRICS:
        raise _unknown_metric(metric)
    if op in ("=", "==", "!="):
        raise GoalError(f"'{op}' cannot be a goal (a metric never hits a value exactly); "
                        f"use <, <=, > or >=, {_EXAMPLE}")
    percent = match["percent"] is not None
    value = float(match["value"]) / (100.0 if percent else 1.0)
    return Condition(metric=metric, op=op, value=value, percent=percent)  # type: ignore[arg-type]


def _unknown_metric(metric: str) -> GoalError:
    close = difflib.get_close_matches(metric.lower(), GOAL_METRICS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return GoalError(f"unknown metric '{metric}'{hint}; use one of {', '.join(GOAL_METRICS)}")


def parse_goal(text: str) -> Goal:
    """Read a goal such as ``max_drawdown < 15% and sharpe >= 0.8``.

    Raises :class:`GoalError` naming what is wrong and what to write instead.
    """
    if not text.strip():
        raise GoalError(f"the goal is empty; write <metric> <op> <value>, {_EXAMPLE}")
    parts = re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE)
    return Goal(conditions=tuple(_condition(p) for p in parts))


def metric_values(metrics: Any) -> dict[str, float]:
    """The goal metrics found in ``metrics``: a mapping, a pydantic model or an object."""
    if isinstance(metrics, BaseModel):
        source: Mapping[str, Any] = metrics.model_dump()
    elif isinstance(metrics, Mapping):
        source = metrics
    else:
        source = {name: getattr(metrics, name) for name in GOAL_METRICS
                  if hasattr(metrics, name)}
    values: dict[str, float] = {}
    for name in GOAL_METRICS:
        value = source.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
    return values


def goal_met(goal: Goal | str, metrics: Any) -> bool:
    """Whether ``metrics`` meet ``goal`` (a :class:`Goal` or its text).

    ``metrics`` is a mapping of metric name to value, or a model/object with those
    attributes such as :class:`~alphaloop.records.RunMetrics`. Raises
    :class:`GoalError` if the goal cannot be read or names a figure ``metrics`` lack.
    """
    parsed = parse_goal(goal) if isinstance(goal, str) else goal
    return parsed.is_met(metrics)
