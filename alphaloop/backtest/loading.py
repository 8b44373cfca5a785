"""Building a strategy object from a short spec, as the command line names it.

- ``inverse-vol``: the :class:`~alphaloop.harness.reference.InverseVolatility` reference;
- ``package.module:factory``: any importable callable returning a strategy; it is called
  with ``profile`` when one is given. It runs in this process, unsandboxed: use it only
  for code you trust.

A repository's FinSage strategy is never loaded here: :mod:`alphaloop.backtest` runs it
from the commit it names, in the sandbox. The harness never imports strategy code by
itself: this module is how trusted callers hand it one.
"""

from __future__ import annotations

import importlib
from typing import Any

from alphaloop.harness.errors import StrategyLoadError
from alphaloop.harness.reference import InverseVolatility

__all__ = ["BUILTIN_STRATEGIES", "load_strategy"]

BUILTIN_STRATEGIES: tuple[str, ...] = ("inverse-vol",)


def _import(module: str, spec: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module == missing or module.startswith(missing + "."):
            raise StrategyLoadError(
                f"strategy {spec!r}: the package {module!r} cannot be imported ({exc}); run "
                "from the repository root or install the project with `pip install -e .`"
            ) from None
        raise StrategyLoadError(
            f"strategy {spec!r}: importing {module!r} failed because {exc}") from exc


def _build(factory: Any, spec: str, profile: str | None) -> Any:
    try:
        strategy = factory(profile) if profile is not None else factory()
    except Exception as exc:
        raise StrategyLoadError(
            f"strategy {spec!r} could not be built"
            f"{f' with profile {profile!r}' if profile else ''}: {type(exc).__name__}: {exc}"
        ) from exc
    if not callable(getattr(strategy, "decide", None)):
        raise StrategyLoadError(f"strategy {spec!r} built a {type(strategy).__name__}, which "
                                "has no decide(view, portfolio) method")
    return strategy


def load_strategy(spec: str, profile: str | None = None) -> Any:
    """The strategy named by ``spec`` (see the module notes), built for ``profile``."""
    if spec == "inverse-vol":
        if profile is not None:
            raise StrategyLoadError("the inverse-vol reference strategy has no profiles; "
                                    "drop --profile")
        return InverseVolatility()
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise StrategyLoadError(
            f"unknown strategy {spec!r}: use one of {', '.join(BUILTIN_STRATEGIES)} or "
            "'package.module:factory'")
    module = _import(module_name, spec)
    try:
        factory = getattr(module, attribute)
    except AttributeError:
        raise StrategyLoadError(f"strategy {spec!r}: module {module_name!r} has no "
                                f"attribute {attribute!r}") from None
    return _build(factory, spec, profile)
