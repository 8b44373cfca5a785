"""Choosing the model: ``--llm offline|openai|anthropic``, ``--model``, ``--llm-base-url``.

``offline`` (the default) is no model at all: every role runs its deterministic logic.
The others build a :class:`~alphaloop.llm.client.StructuredLLM` over the provider's
official SDK. Keys come only from the environment (``OPENAI_API_KEY``,
``ANTHROPIC_API_KEY``), never from a file or a flag; a replayed run needs none, since it
asks no model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.llm.base import LLMConfigError
from alphaloop.llm.cache import ResponseCache
from alphaloop.llm.client import RetryPolicy, StructuredLLM
from alphaloop.llm.meter import UsageMeter
from alphaloop.llm.prices import Price, load_price
from alphaloop.llm.wire import Transport

__all__ = ["DEFAULT_MODELS", "KEY_VARIABLES", "LLMConfig", "open_llm"]

#: The model used when ``--model`` is not given.
DEFAULT_MODELS: dict[str, str] = {"openai": "gpt-4o-mini",
                                  "anthropic": "claude-3-5-haiku-latest"}
#: The environment variable holding each provider's key.
KEY_VARIABLES: dict[str, str] = {"openai": "OPENAI_API_KEY",
                                 "anthropic": "ANTHROPIC_API_KEY"}


class LLMConfig(BaseModel):
    """Which model the roles think with, and the limits of its use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal["offline", "openai", "anthropic"] = "offline"
    model: str | None = Field(default=None, description="default: per provider")
    base_url: str | None = Field(default=None,
                                 description="an OpenAI- or Anthropic-compatible endpoint")
    max_cost_usd: float | None = Field(default=None, ge=0, exclude=True,
                                       description="stop the cycle when spent (left out "
                                                   "of the dump: a resume may change it)")
    replay: bool = Field(default=False, description="answer only from the cache")
    max_repairs: int = Field(default=2, ge=0, le=10)
    max_attempts: int = Field(default=4, ge=1, le=20)
    retry_wait_seconds: float = Field(default=1.0, ge=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_tokens: int = Field(default=4096, gt=0)
    price_in: float | None = Field(default=None, ge=0,
                                   description="USD per million input tokens")
    price_out: float | None = Field(default=None, ge=0,
                                    description="USD per million output tokens")

    @model_validator(mode="after")
    def _consistent(self) -> LLMConfig:
        if self.provider == "offline":
            extra = [name for name in ("model", "base_url", "price_in", "price_out")
                     if getattr(self, name) is not None]
            if extra or self.replay:
                raise ValueError(
                    f"--llm offline uses no model, so {', '.join(extra) or 'replay'} has no "
                    "effect; choose --llm openai or --llm anthropic, or drop it")
        if (self.price_in is None) != (self.price_out is None):
            raise ValueError("give both --llm-price-in and --llm-price-out, or neither")
        return self

    @property
    def model_name(self) -> str:
        return self.model or DEFAULT_MODELS.get(self.provider, "")

    def price(self) -> Price:
        if self.price_in is not None and self.price_out is not None:
            return Price(input_per_mtok=self.price_in, output_per_mtok=self.price_out)
        return load_price(self.provider, self.model_name)


def _transport(config: LLMConfig, key: str) -> Transport:
    if config.provider == "openai":
        from alphaloop.llm.openai_wire import OpenAITransport

        return OpenAITransport(key, base_url=config.base_url,
                               timeout=config.timeout_seconds)
    from alphaloop.llm.anthropic_wire import AnthropicTransport

    return AnthropicTransport(key, base_url=config.base_url, timeout=config.timeout_seconds)


def open_llm(config: LLMConfig, cache_dir: Path | None, *,
             environ: Mapping[str, str] | None = None,
             sleep: Callable[[float], None] | None = None,
             journal: Path | None = None) -> StructuredLLM | None:
    """The model ``config`` names (None for ``offline``), recording answers in
    ``cache_dir`` (None: no cache; replay needs one) and its calls in ``journal`` (see
    :class:`~alphaloop.llm.meter.UsageMeter`)."""
    if config.provider == "offline":
        return None
    env = os.environ if environ is None else environ
    variable = KEY_VARIABLES[config.provider]
    key = env.get(variable, "").strip()
    if not key:
        if not config.replay:
            raise LLMConfigError(
                f"--llm {config.provider} needs an API key in the environment variable "
                f"{variable}; export it (keys are never read from files or flags), or run "
                "with --llm-replay to answer from recorded calls only, or --llm offline")
        key = "replay-needs-no-key"
    if config.replay and cache_dir is None:
        raise LLMConfigError("--llm-replay answers from the recorded calls, and there is no "
                             "cache folder to read them from")
    price = config.price()
    meter = UsageMeter(config.provider, config.model_name, config.max_cost_usd,
                       journal=journal)
    return StructuredLLM(_transport(config, key), model=config.model_name, price=price,
                         meter=meter,
                         cache=ResponseCache(cache_dir) if cache_dir is not None else None,
                         replay=config.replay, max_repairs=config.max_repairs,
                         max_tokens=config.max_tokens,
                         retry=RetryPolicy(max_attempts=config.max_attempts,
                                           initial_wait=config.retry_wait_seconds),
                         sleep=sleep)
