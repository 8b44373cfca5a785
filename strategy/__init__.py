"""FinSage: the multi-agent portfolio engine AlphaLoop researches and deploys.

    from strategy import create_strategy
    strategy = create_strategy("conservative")          # default | conservative | aggressive
    decision = strategy.decide(view, portfolio)          # weights + the decision record

The engine imports nothing of AlphaLoop but :mod:`alphaloop.contract`, and does no file,
network, process or environment access: the LLM client (optional) is handed in, and the
harness saves and restores its state through ``get_state`` / ``set_state``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strategy.config import PROFILES, FinSageConfig, load_profile
    from strategy.engine import EngineError, FinSageStrategy, TimingHook
    from strategy.experts import LLMClient
    from strategy.factory import create_strategy
    from strategy.managers.coordinator import ManagerCoordinator
    from strategy.managers.settings import EngineSettings
    from strategy.records import (
        HedgingDecision,
        IntegratedDecision,
        PortfolioDecision,
        PositionSizingDecision,
    )
    from strategy.risk import AlertHandler, RiskController, RiskLimits

__all__ = [
    "PROFILES",
    "AlertHandler",
    "EngineError",
    "EngineSettings",
    "FinSageConfig",
    "FinSageStrategy",
    "HedgingDecision",
    "IntegratedDecision",
    "LLMClient",
    "ManagerCoordinator",
    "PortfolioDecision",
    "PositionSizingDecision",
    "RiskController",
    "RiskLimits",
    "TimingHook",
    "create_strategy",
    "load_profile",
]



@functools.cache
def _exports() -> dict[str, Any]:
    """The public names, importing the engine (on first use, never at package import)."""
    from strategy import config, engine, experts, factory, records, risk
    from strategy.managers import coordinator, settings

    homes = {config: ("PROFILES", "FinSageConfig", "load_profile"),
             engine: ("EngineError", "FinSageStrategy", "TimingHook"),
             experts: ("LLMClient",), factory: ("create_strategy",),
             coordinator: ("ManagerCoordinator",), settings: ("EngineSettings",),
             records: ("HedgingDecision", "IntegratedDecision", "PortfolioDecision",
                       "PositionSizingDecision"),
             risk: ("AlertHandler", "RiskController", "RiskLimits")}
    return {name: getattr(module, name) for module, names in homes.items() for name in names}


def __getattr__(name: str) -> Any:
    # Importing the package runs nothing else: ``python -m strategy`` loads only this file
    # and ``__main__`` (both protected from the bot's changes) before it hands the engine
    # to the sandbox. The engine is imported when a public name is first used.
    if name not in __all__:
        raise AttributeError(f"module 'strategy' has no attribute {name!r}")
    return _exports()[name]


def __dir__() -> list[str]:
    return sorted(__all__)
