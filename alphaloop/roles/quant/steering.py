"""Whether a search steering fits the strategy: every name a tunable, every pin a value
it can take."""

from __future__ import annotations

from alphaloop.errors import Failure
from alphaloop.evaluation.space import ParamSpace, ParamSpec
from alphaloop.policy import SearchSteering
from alphaloop.records import TaskRef

__all__ = ["SteeringError", "check_steering"]


class SteeringError(Failure, ValueError):
    """A task or ``policies/search.toml`` names a tunable the strategy does not declare,
    or pins one to a value outside its declared range or choices."""


def _outside(spec: ParamSpec, value: float | int | str) -> str | None:
    """Why ``value`` is not one ``spec`` admits, or None."""
    if spec.kind == "choice":
        return None if str(value) in spec.choices else \
            f"not one of {', '.join(spec.choices)}"
    if isinstance(value, str):
        return f"not a number (it is {spec.kind})"
    if spec.kind == "int" and float(value) != int(value):
        return "not a whole number"
    assert spec.low is not None and spec.high is not None
    if not spec.low <= float(value) <= spec.high:
        return f"outside its declared range {spec.low:g}-{spec.high:g}"
    return None


def check_steering(steering: SearchSteering, space: ParamSpace, *,
                   task: TaskRef | None = None) -> None:
    """Raise :class:`SteeringError` naming every pin or exclusion that does not fit
    ``space``, and where to fix it."""
    where = f"task {task.id} in task.md or policies/search.toml" if task else \
        "policies/search.toml"
    known = sorted(space.specs)
    problems = [f"{name} is not a tunable of the strategy"
                for name in steering.unknown(known)]
    for name, value in steering.pins.items():
        if name in space.specs and (why := _outside(space.specs[name], value)) is not None:
            problems.append(f"the pin {name} = {value!r} is {why}")
    if problems:
        raise SteeringError(f"the search steering of {where} does not fit the strategy: "
                            + "; ".join(problems) + f". The tunables are {', '.join(known)} "
                            "(strategy/parameters.py); fix the pin or exclude line and "
                            "commit it")
