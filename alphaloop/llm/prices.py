"""What a model's tokens cost: prices as data (``prices.toml`` beside this module)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.llm.base import LLMConfigError

__all__ = ["PRICES_FILE", "Price", "load_price"]

PRICES_FILE = Path(__file__).with_name("prices.toml")


class Price(BaseModel):
    """US dollars per million input and output tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok
                + output_tokens * self.output_per_mtok) / 1_000_000


def load_price(provider: str, model: str, path: Path = PRICES_FILE) -> Price:
    """The price of ``provider``'s ``model`` in ``path``; a clear error when it has none."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LLMConfigError(f"cannot read the model prices in {path}: {exc}") from None
    models = table.get(provider, {})
    if model not in models:
        known = ", ".join(sorted(models)) or "none"
        raise LLMConfigError(
            f"{path.name} has no price for {provider} model {model!r} (known: {known}); "
            f"add [{provider}.\"{model}\"] with input_per_mtok and output_per_mtok to "
            f"{path}, or pass --llm-price-in and --llm-price-out")
    try:
        return Price.model_validate(models[model])
    except ValidationError as exc:
        raise LLMConfigError(f"{path.name}: [{provider}.\"{model}\"] is not a price: "
                             f"{exc.errors(include_url=False)[0]['msg']}; write "
                             "input_per_mtok and output_per_mtok as numbers") from None
