"""A task's search lines in ``task.md``: ``pin``, ``exclude``, ``objective``, ``budget``.

::

    - pin: RISK_AVERSION = 3, ALLOCATION_METHOD = risk_parity
    - exclude: REBALANCE_THRESHOLD, MOMENTUM_LOOKBACK_DAYS
    - objective: turnover
    - budget: 6

They steer the Quant's search for this task's cycles, over the team's defaults in
``policies/search.toml`` (see :class:`~alphaloop.policy.SearchSteering`). This module
reads their syntax; whether each name is a tunable the strategy declares is checked
before a cycle starts, against the committed ``strategy/tunables.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from alphaloop.policy import OBJECTIVES, SearchSteering

__all__ = ["SEARCH_FIELDS", "parse_search_fields"]

SEARCH_FIELDS: tuple[str, ...] = ("pin", "exclude", "objective", "budget")
"""The optional task fields that steer the search."""

_NAME = re.compile(r"^[A-Za-z_]\w*$")
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_BUDGET = re.compile(r"^(?P<n>\d+)(?:\s+cycles?)?$")

Problem = tuple[int, str]


def _value(text: str) -> float | int | str:
    """A pinned value: an int, a float, or a choice (quotes optional)."""
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if re.fullmatch(r"[-+]?\d+", text) else number
    return text.strip("'\"")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pins(text: str, line: int, task_id: str,
          problems: list[Problem]) -> dict[str, float | int | str]:
    pins: dict[str, float | int | str] = {}
    for part in _names(text):
        name, sep, raw = (piece.strip() for piece in part.partition("="))
        if not sep or not raw or not _NAME.match(name):
            problems.append((line, f"pin '{part}' of task {task_id} is not 'NAME = value'; "
                             "write e.g. '- pin: RISK_AVERSION = 3, REBALANCE_THRESHOLD = 0.05'"))
            continue
        if name in pins:
            problems.append((line, f"task {task_id} pins {name} twice; keep one"))
            continue
        pins[name] = _value(raw)
    if not pins and not problems:
        problems.append((line, f"the 'pin' line of task {task_id} is empty; write "
                         "'- pin: NAME = value' or remove the line"))
    return pins


def _exclude(text: str, line: int, task_id: str, problems: list[Problem]) -> tuple[str, ...]:
    names = _names(text)
    bad = [n for n in names if not _NAME.match(n)]
    if bad or not names:
        problems.append((line, f"exclude of task {task_id} must list tunable names separated "
                         f"by commas, e.g. '- exclude: REBALANCE_THRESHOLD, RISK_AVERSION'"
                         + (f" ('{bad[0]}' is not a name)" if bad else "")))
    return tuple(n for n in names if _NAME.match(n))


def _objective(text: str, line: int, task_id: str, problems: list[Problem]) -> str | None:
    metric = text.strip().lower()
    if metric in OBJECTIVES:
        return metric
    close = difflib.get_close_matches(metric, OBJECTIVES, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    shown = ", ".join(f"{m} ({d[:3]})" for m, d in OBJECTIVES.items())
    problems.append((line, f"objective '{text}' of task {task_id} is not one the search can "
                     f"optimise{hint}; use one of {shown}"))
    return None


def _budget(text: str, line: int, task_id: str, problems: list[Problem]) -> int | None:
    found = _BUDGET.match(text.strip())
    if found is None or int(found["n"]) < 1:
        problems.append((line, f"budget '{text}' of task {task_id} is not a number of cycles "
                         "of at least 1; write e.g. '- budget: 6'"))
        return None
    return int(found["n"])


def parse_search_fields(values: Mapping[str, tuple[str, int]], task_id: str,
                        problems: list[Problem]) -> SearchSteering:
    """The steering a task's fields hold (``values``: field -> (text, line)); each problem
    is appended to ``problems`` as (line, message)."""
    pins: dict[str, float | int | str] = {}
    exclude: tuple[str, ...] = ()
    objective = budget = None
    if "pin" in values:
        pins = _pins(*values["pin"], task_id, problems)
    if "exclude" in values:
        exclude = _exclude(*values["exclude"], task_id, problems)
    if "objective" in values:
        objective = _objective(*values["objective"], task_id, problems)
    if "budget" in values:
        budget = _budget(*values["budget"], task_id, problems)
    both = sorted(set(pins) & set(exclude))
    if both:
        problems.append((values["exclude"][1], f"task {task_id} both pins and excludes "
                         f"{', '.join(both)}; keep one"))
    return SearchSteering(pins=pins, exclude=exclude, objective=objective,  # type: ignore[arg-type]
                          budget=budget)
