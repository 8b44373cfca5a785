"""What a hypothesis claims: the metric it means to move and which way.

The claim comes from the task's goal (``max_drawdown < 15%`` claims drawdown down;
``sharpe >= 0.8`` claims Sharpe up). Of several conditions the first one ``main`` does
not yet meet is claimed. Without a readable goal the claim is the calibration reward,
up. Changes that should not alter any decision (refactors, docs, comments) claim no
effect, and Risk checks that their decisions equal ``main``'s.
"""

from __future__ import annotations

from typing import Any

from alphaloop.records import Claim, TaskRef
from alphaloop.report.goals import GoalError, metric_values, parse_goal

__all__ = ["NO_EFFECT", "claim_for_goal", "claim_for_task"]

NO_EFFECT = Claim(metric=None, direction="none",
                  source="a refactor: decisions are unchanged")


def claim_for_goal(goal: str, metrics: Any = None) -> Claim | None:
    """The claim a goal implies, or None when the goal is empty or cannot be read.

    ``metrics`` (main's figures: a mapping, a model or an object) picks the first
    condition main does not meet yet; without them the first condition is claimed.
    """
    if not goal.strip():
        return None
    try:
        conditions = parse_goal(goal).conditions
    except GoalError:
        return None
    values = metric_values(metrics) if metrics is not None else {}
    unmet = [c for c in conditions if c.metric in values and not c.holds(values)]
    chosen = (unmet or list(conditions))[0]
    direction = "decrease" if chosen.op in ("<", "<=") else "increase"
    return Claim(metric=chosen.metric, direction=direction,
                 source=f"task goal '{chosen.text()}'")


def claim_for_task(task: TaskRef | None, metrics: Any = None,
                   default: Claim | None = None) -> Claim:
    """The claim of a change made for ``task``: its goal's, else ``default`` (reward up)."""
    claim = claim_for_goal(task.goal, metrics) if task is not None else None
    return claim or default or Claim()
