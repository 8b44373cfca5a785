"""Steering the Quant's calibration search: pins, exclusions, objective, budget.

Steering comes from two places, both written by people: the team's defaults in
``policies/search.toml`` (:class:`SearchPolicy`; the file is optional, and without it the
search moves every tunable the data can move and maximises the walk-forward reward) and a
task's own lines in ``task.md`` (``pin``, ``exclude``, ``objective``, ``budget``; see
``docs/task-format.md``). :meth:`SearchSteering.under` lays a task's steering over the
defaults: the task's pins and objective win, exclusions add up, and the task's budget
replaces the default one.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["OBJECTIVES", "Objective", "SearchPolicy", "SearchSteering"]

#: The figures the search may optimise, each with the direction that is better (the
#: walk-forward figures of :class:`~alphaloop.records.RunMetrics`).
OBJECTIVES: dict[str, Literal["maximize", "minimize"]] = {
    "reward": "maximize",
    "sharpe": "maximize",
    "annual_return": "maximize",
    "calmar": "maximize",
    "max_drawdown": "minimize",
    "annual_volatility": "minimize",
    "turnover": "minimize",
}

Objective = Literal["reward", "sharpe", "annual_return", "calmar", "max_drawdown",
                    "annual_volatility", "turnover"]


class SearchSteering(BaseModel):
    """What the search may move and what it aims at; every field is optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pins: dict[str, float | int | str] = Field(
        default_factory=dict, description="tunables held at a value: the search first "
        "proposes moving a tunable to its pin, and never moves a pinned tunable otherwise")
    exclude: tuple[str, ...] = Field(default=(), description="tunables the search never moves")
    objective: Objective | None = Field(
        default=None, description="the walk-forward figure the search optimises "
        "(None: the reward, Sharpe - lambda * max drawdown)")
    budget: int | None = Field(
        default=None, ge=1, description="cycles a task may spend before the PM hands it "
        "to a human (None: no limit)")

    @field_validator("exclude")
    @classmethod
    def _each_once(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(names))

    @property
    def goal(self) -> Objective:
        """The objective in force (the reward unless one is set)."""
        return self.objective or "reward"

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return OBJECTIVES[self.goal]

    def score(self, metrics: Mapping[str, float]) -> float | None:
        """The objective as a figure to maximise (a minimised one negated); None when
        ``metrics`` lacks it."""
        value = metrics.get(self.goal)
        if value is None:
            return None
        return float(value) if self.direction == "maximize" else -float(value)

    def under(self, defaults: SearchSteering) -> SearchSteering:
        """This (a task's) steering laid over ``defaults`` (the search policy's)."""
        return SearchSteering(
            pins={**defaults.pins, **self.pins},
            exclude=(*defaults.exclude, *self.exclude),
            objective=self.objective or defaults.objective,
            budget=self.budget if self.budget is not None else defaults.budget)

    @property
    def names(self) -> tuple[str, ...]:
        """Every tunable this steering names."""
        return tuple(dict.fromkeys((*self.pins, *self.exclude)))

    def unknown(self, known: Collection[str]) -> list[str]:
        """Each tunable this steering names that is not in ``known``, with a suggestion."""
        out = []
        for name in self.names:
            if name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                out.append(name + (f" (did you mean {close[0]}?)" if close else ""))
        return out

    def describe(self) -> str:
        """One line for a rationale or a report ("" when nothing is steered)."""
        parts = []
        if self.pins:
            parts.append("pinned " + ", ".join(f"{k} = {v!r}" for k, v in self.pins.items()))
        if self.exclude:
            parts.append("excluded " + ", ".join(self.exclude))
        if self.objective and self.objective != "reward":
            parts.append(f"objective: {self.direction} walk-forward {self.objective}")
        if self.budget is not None:
            parts.append(f"budget: {self.budget} cycles")
        return "; ".join(parts)


class SearchPolicy(BaseModel):
    """Everything in ``policies/search.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    objective: Objective = Field(default="reward",
                                 description="the walk-forward figure the search optimises")
    exclude: tuple[str, ...] = Field(default=(), description="tunables never moved")
    pins: dict[str, float | int | str] = Field(default_factory=dict,
                                               description="tunables held at a value")
    budget: int = Field(default=0, ge=0, description="cycles a task may spend before the "
                        "PM hands it to a human (0: no limit)")

    def steering(self) -> SearchSteering:
        """These defaults as the steering a task's own lines are laid over."""
        return SearchSteering(pins=self.pins, exclude=self.exclude, objective=self.objective,
                              budget=self.budget or None)
