"""The import and access policy for strategy code (``policies/imports.toml``)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["AccessRules", "ImportPolicy", "RunnerRules", "StrategyImports", "module_within"]

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def module_within(module: str, parent: str) -> bool:
    """Whether ``module`` is ``parent`` or one of its submodules (``numpy.linalg`` in
    ``numpy``; ``numpyx`` is not)."""
    return module == parent or module.startswith(parent + ".")


def _dotted_names(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    for value in values:
        if not _DOTTED.match(value):
            raise ValueError(f"{what} entry {value!r} is not a dotted module name")
    return values


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StrategyImports(_Section):
    """Which modules strategy code may import."""

    package: str = Field(pattern=_IDENTIFIER.pattern)
    allowed_modules: tuple[str, ...]
    denied_modules: tuple[str, ...] = ()
    restricted_modules: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    denied_suffixes: tuple[str, ...] = ()

    @field_validator("denied_suffixes")
    @classmethod
    def _suffixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for suffix in value:
            if not suffix.startswith(".") or "/" in suffix:
                raise ValueError(f"denied_suffixes entry {suffix!r} must look like '.so'")
        return value

    @field_validator("allowed_modules", "denied_modules")
    @classmethod
    def _modules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _dotted_names(value, "module list")

    @field_validator("restricted_modules")
    @classmethod
    def _restricted(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        _dotted_names(tuple(value), "restricted module")
        for module, names in value.items():
            for name in names:
                if not _IDENTIFIER.match(name):
                    raise ValueError(f"restricted_modules.{module} lists {name!r}, "
                                     "which is not a name")
        return value


class AccessRules(_Section):
    """Names, attributes and methods strategy code may not use."""

    forbidden_builtins: tuple[str, ...]
    forbidden_attributes: tuple[str, ...]
    forbidden_names: tuple[str, ...] = ()
    forbidden_methods: tuple[str, ...] = ()
    target_methods: tuple[str, ...] = ()
    target_keywords: tuple[str, ...] = ()


class RunnerRules(_Section):
    """The command-line runner ``strategy/__main__.py`` and what it may add."""

    path: str
    extra_allowed_modules: tuple[str, ...] = ()

    @field_validator("extra_allowed_modules")
    @classmethod
    def _modules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _dotted_names(value, "module list")


class ImportPolicy(_Section):
    """Everything in ``policies/imports.toml``."""

    strategy: StrategyImports
    access: AccessRules
    reasons: dict[str, str] = Field(default_factory=dict)
    runner: RunnerRules

    def denied_by(self, module: str) -> str | None:
        """The ``denied_modules`` entry ``module`` falls under, if any."""
        return next((d for d in self.strategy.denied_modules if module_within(module, d)), None)

    def is_allowed(self, module: str, *, runner: bool = False) -> bool:
        """Whether ``module`` is inside the allowlist (the strategy package, an allowed or
        restricted module, and for the runner its extras) and not denied."""
        if self.denied_by(module) is not None:
            return False
        allowed = (self.strategy.package, *self.strategy.allowed_modules,
                   *self.strategy.restricted_modules)
        if runner:
            allowed = (*allowed, *self.runner.extra_allowed_modules)
        return any(module_within(module, parent) for parent in allowed)

    def refusal(self, module: str, *, runner: bool = False) -> str | None:
        """``None`` when strategy code may import ``module``, else why it may not.

        A restricted module (such as ``json``) is allowed here; the names used from it
        are checked separately with :meth:`restricted_names`.
        """
        denied = self.denied_by(module)
        if denied is not None:
            return f"{module} is denied by policy ({denied})"
        if self.is_allowed(module, runner=runner):
            return None
        root = module.split(".")[0]
        reason = self.reasons.get(module) or self.reasons.get(root)
        suffix = f": {reason}" if reason else ""
        return f"{module} is not in the strategy import allowlist{suffix}"

    def restricted_names(self, module: str, *, runner: bool = False) -> tuple[str, ...] | None:
        """The names allowed from a restricted ``module``; ``None`` when unrestricted."""
        if runner and any(module_within(module, extra)
                          for extra in self.runner.extra_allowed_modules):
            return None
        for restricted, names in self.strategy.restricted_modules.items():
            if module_within(module, restricted):
                return names
        return None

    def forbidden_name(self, dotted: str) -> str | None:
        """The pattern of ``access.forbidden_names`` that ``dotted`` matches, if any."""
        for pattern in self.access.forbidden_names:
            if fnmatchcase(dotted, pattern) or module_within(dotted, pattern):
                return pattern
        return None
