"""The strategy's declared parameter space, read through the sandbox.

The Quant never imports strategy code into the trusted process: it asks a sandboxed
Python (which sees only the checkout, the contract and the allowed libraries) to import
``strategy.parameters`` and print the space and the current values as JSON, and
validates that answer here. Whatever the sandbox says on failure is redacted first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from alphaloop.sandbox import Sandbox, SandboxError

__all__ = ["ParamSpace", "ParamSpec", "read_param_space"]

_INTROSPECT = """
import json
from strategy.parameters import PARAMETER_SPACE, current_values
print(json.dumps({
    "specs": [s.model_dump(mode="json") for s in PARAMETER_SPACE.values()],
    "values": current_values(),
}))
"""


class ParamSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    kind: Literal["int", "float", "choice"]
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""
    requires: tuple[str, ...] = ()  # tags the data or run must hold for it to act
    acts_when: dict[str, tuple[str, ...]] = {}  # choices of other tunables it needs
    tags: tuple[str, ...] = ()  # what it is a lever for (strategy.parameters.TAGS)

    def normalise(self, value: float | int | str) -> float:
        """Map a value to [0, 1] for the search (choices by index)."""
        if self.kind == "choice":
            index = self.choices.index(str(value)) if value in self.choices else 0
            return index / max(1, len(self.choices) - 1)
        assert self.low is not None and self.high is not None
        span = self.high - self.low
        return 0.5 if span <= 0 else (float(value) - self.low) / span


class ParamSpace(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specs: dict[str, ParamSpec]
    values: dict[str, float | int | str]

    def vector(self, values: dict[str, float | int | str]) -> list[float]:
        return [spec.normalise(values.get(name, self.values[name]))
                for name, spec in sorted(self.specs.items())]

    def tagged(self, *tags: str, asset_class: str | None = None) -> list[str]:
        """The tunables carrying any of ``tags``, in the order the strategy declares them;
        with ``asset_class``, only those that require that class (``class:NAME``)."""
        wanted = set(tags)
        return [name for name, spec in self.specs.items()
                if wanted.intersection(spec.tags)
                and (asset_class is None or f"class:{asset_class}" in spec.requires)]


def read_param_space(sandbox: Sandbox, checkout: Path,
                     scratch: Path) -> ParamSpace:
    """Import ``strategy.parameters`` from ``checkout`` in the sandbox and read it."""
    argv = sandbox.python_command(checkout, code=_INTROSPECT)
    result = sandbox.run(argv, workdir=checkout, scratch=scratch)
    if not result.ok:
        stopped = f"stopped by the sandbox's {result.limit} limit; " if result.limit else ""
        raise SandboxError(
            "could not read the strategy's parameter space (strategy/parameters.py): "
            f"{stopped}{result.stderr.strip()[-800:] or 'no output'}")
    try:
        raw = json.loads(result.stdout.strip().splitlines()[-1])
        specs = {s["name"]: ParamSpec.model_validate(s) for s in raw["specs"]}
        values = {k: v for k, v in raw["values"].items() if k in specs}
        return ParamSpace(specs=specs, values=values)
    except (ValueError, KeyError, IndexError, ValidationError) as exc:
        raise SandboxError(f"the strategy's parameter space is malformed: {exc}") from exc
