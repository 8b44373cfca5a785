"""``create_strategy``: the FinSage engine for a named profile, with optional overrides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strategy.config import FinSageConfig, load_profile
from strategy.engine import FinSageStrategy, TimingHook
from strategy.experts import LLMClient
from strategy.risk import AlertHandler

__all__ = ["create_strategy"]

_SECTIONS = ("llm", "trading", "risk", "assets", "data")


def create_strategy(
    profile: str = "default",
    *,
    llm: LLMClient | Mapping[str, Any] | None = None,
    alert_handlers: Sequence[AlertHandler] = (),
    timings: TimingHook | None = None,
    **overrides: Any,
) -> FinSageStrategy:
    """The FinSage engine for a named profile, with optional overrides.

    ``overrides`` are tunables by their upper-case name (``MOMENTUM_LOOKBACK_DAYS=126``)
    or config sections by name, given as a mapping of fields to change
    (``risk={"target_volatility": 0.10}``). Unknown names raise ``ValueError``.
    ``llm`` is either the client the engine asks or, as a mapping, changes to the
    ``llm`` section (``llm={"enabled": True}``: ask the run for a model).
    """
    params = {k: v for k, v in overrides.items() if k.isupper()}
    sections = {k: v for k, v in overrides.items() if not k.isupper()}
    if isinstance(llm, Mapping):
        sections["llm"], llm = dict(llm), None
    unknown = sorted(set(sections) - set(_SECTIONS))
    if unknown:
        raise ValueError(f"unknown override(s) {unknown}: give tunables by their upper-case "
                         f"name or one of the config sections {', '.join(_SECTIONS)}")
    config = load_profile(profile, params=params)
    if sections:
        data = config.model_dump()
        for name, changes in sections.items():
            if not isinstance(changes, dict):
                raise ValueError(f"override {name}= must be a mapping of fields to change")
            data[name] = {**data[name], **changes}
        config = FinSageConfig.model_validate(data)
    return FinSageStrategy(config, llm, profile=profile, alert_handlers=alert_handlers,
                           timings=timings)
