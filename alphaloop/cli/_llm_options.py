"""The options that choose the model the roles think with: ``--llm``, ``--model``,
``--llm-base-url``, ``--llm-replay``, ``--max-cost-usd``, ``--llm-max-tokens`` and the
prices of a model ``alphaloop/llm/prices.toml`` does not list. Keys are never options:
they come from ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` only."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from alphaloop.cli._errors import EXIT_USER_ERROR, fail, invalid_options

if TYPE_CHECKING:
    from alphaloop.llm import LLMConfig

__all__ = ["BaseURLOption", "LLMChoice", "LLMOption", "MaxCostOption", "MaxTokensOption",
           "ModelOption", "PriceInOption", "PriceOutOption", "ReplayOption", "llm_config"]


class LLMChoice(StrEnum):
    offline = "offline"
    openai = "openai"
    anthropic = "anthropic"


LLMOption = Annotated[LLMChoice, typer.Option(
    "--llm", help="the model the roles think with: offline (none: deterministic logic), "
                  "openai (key in OPENAI_API_KEY) or anthropic (key in ANTHROPIC_API_KEY)")]
ModelOption = Annotated[str | None, typer.Option(
    "--model", help="model name (default: gpt-4o-mini / claude-3-5-haiku-latest)")]
BaseURLOption = Annotated[str | None, typer.Option(
    "--llm-base-url", help="an OpenAI- or Anthropic-compatible endpoint")]
ReplayOption = Annotated[bool, typer.Option(
    "--llm-replay", help="answer only from recorded calls (.git/alphaloop/llm-cache); "
                         "refuse any call not recorded")]
MaxCostOption = Annotated[float | None, typer.Option(
    "--max-cost-usd", min=0, help="stop the cycle cleanly once its model calls cost this "
                                  "much (USD)")]
MaxTokensOption = Annotated[int, typer.Option(
    "--llm-max-tokens", min=1, help="the longest answer a call may return, in tokens")]
PriceInOption = Annotated[float | None, typer.Option(
    "--llm-price-in", min=0, help="USD per million input tokens, for a model without a "
                                  "listed price")]
PriceOutOption = Annotated[float | None, typer.Option(
    "--llm-price-out", min=0, help="USD per million output tokens, for a model without a "
                                   "listed price")]


def llm_config(command: str, *, llm: LLMChoice, model: str | None, base_url: str | None,
               replay: bool, max_cost_usd: float | None, max_tokens: int,
               price_in: float | None, price_out: float | None) -> LLMConfig:
    """The :class:`~alphaloop.llm.LLMConfig` the options describe; a user error for a
    combination that makes no sense (e.g. ``--model`` with ``--llm offline``)."""
    from alphaloop.llm import LLMConfig

    try:
        return LLMConfig(provider=llm.value, model=model, base_url=base_url, replay=replay,
                         max_cost_usd=max_cost_usd, max_tokens=max_tokens, price_in=price_in,
                         price_out=price_out)
    except ValidationError as exc:
        raise fail(command, invalid_options(exc), EXIT_USER_ERROR) from None
