"""What the PM writes for people: the backlog ``task.md``, ``walkthrough.md`` and plots.

- :mod:`~alphaloop.report.taskfile` reads ``task.md`` strictly and edits it surgically;
  :mod:`~alphaloop.report.goals` reads and checks task goals.
- :mod:`~alphaloop.report.history` reads the ledger's cycle envelopes.
- :mod:`~alphaloop.report.walkthrough` renders ``walkthrough.md``;
  :mod:`~alphaloop.report.markdown` formats tables and figures.
- The tear sheet: :mod:`~alphaloop.report.curves` reads backtests into curves,
  :mod:`~alphaloop.report.tearsheet` simulates the benchmarks and computes its tables,
  :mod:`~alphaloop.report.tearsheet_markdown` writes its section of the walkthrough,
  :mod:`~alphaloop.report.cycle_plots` and :mod:`~alphaloop.report.tearsheet_plots`
  draw its PNGs (matplotlib is imported only when a chart is drawn).
"""

from alphaloop.report.cycle_plots import (
    Curve,
    PlotError,
    drawdown_png,
    equity_png,
    render_cycle_plots,
)
from alphaloop.report.goals import (
    GOAL_METRICS,
    Condition,
    Goal,
    GoalError,
    goal_met,
    metric_values,
    parse_goal,
)
from alphaloop.report.history import CycleEntry, HistoryError, load_history
from alphaloop.report.taskfile import (
    FIELDS,
    OPEN_STATUSES,
    PRIORITIES,
    REQUIRED_FIELDS,
    STATUSES,
    Task,
    TaskFile,
    TaskFileError,
    TaskFileProblem,
    TaskNotFound,
    add_escalation,
    parse_task_file,
    set_status,
)
from alphaloop.report.walkthrough import COMPARED_METRICS, WaitingPR, render_walkthrough

__all__ = [
    "COMPARED_METRICS",
    "FIELDS",
    "GOAL_METRICS",
    "OPEN_STATUSES",
    "PRIORITIES",
    "REQUIRED_FIELDS",
    "STATUSES",
    "Condition",
    "Curve",
    "CycleEntry",
    "Goal",
    "GoalError",
    "HistoryError",
    "PlotError",
    "Task",
    "TaskFile",
    "TaskFileError",
    "TaskFileProblem",
    "TaskNotFound",
    "WaitingPR",
    "add_escalation",
    "drawdown_png",
    "equity_png",
    "goal_met",
    "load_history",
    "metric_values",
    "parse_goal",
    "parse_task_file",
    "render_cycle_plots",
    "render_walkthrough",
    "set_status",
]
