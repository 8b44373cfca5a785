"""The LLM protocol: messages in, a validated pydantic object and its usage out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure

__all__ = ["LLMError", "LLMProvider", "Message", "Usage"]

T = TypeVar("T", bound=BaseModel)


class LLMError(Failure, RuntimeError):
    """The provider failed or never produced an answer that fits the schema."""


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class Usage(BaseModel):
    """What one call cost, for the ledger's accounting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0)
    cached: bool = False


class LLMProvider(Protocol):
    """A chat model that answers in a given pydantic schema.

    ``complete`` parses the answer into ``schema``; when it does not validate, the
    provider asks again a bounded number of times and then raises :class:`LLMError`.
    """

    name: str

    def complete(self, messages: Sequence[Message], *, schema: type[T]) -> tuple[T, Usage]:
        ...
