"""The LLM protocol: messages in, a validated pydantic object and its usage out.

Errors, all :class:`LLMError` (a :class:`~alphaloop.errors.Failure`)::

    LLMError                 no usable answer; the message says why and what to do
    ├── LLMConfigError       no key in the environment, an unknown provider or model
    ├── LLMCallFailed        the provider refused the call (a 4xx) or kept failing
    │   │                    (429, 5xx, timeouts) after every retry
    │   └── Transient        alphaloop.llm.wire: one failure worth retrying
    ├── InvalidAnswer        the answer never fit the schema, even after repairs; or the
    │                        model refused, or its output was cut at the token limit
    ├── ReplayMiss           replay mode, and no recorded answer for this request
    └── BudgetExceeded       the cycle's ``max_cost_usd`` is spent: the cycle stops
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure

__all__ = [
    "BudgetExceeded",
    "InvalidAnswer",
    "LLMCallFailed",
    "LLMConfigError",
    "LLMError",
    "LLMProvider",
    "Message",
    "ReplayMiss",
    "Usage",
]

T = TypeVar("T", bound=BaseModel)


class LLMError(Failure, RuntimeError):
    """The provider failed or never produced an answer that fits the schema."""


class LLMConfigError(LLMError):
    """The LLM cannot be set up: an unknown provider or model, or no API key."""


class LLMCallFailed(LLMError):
    """The provider refused the request, or kept failing after every retry."""


class InvalidAnswer(LLMError):
    """No answer that fits the schema: every repair failed, the model refused, or the
    output was cut at the token limit. ``attempts`` holds what each answer said and why
    it was refused, for the stage's failure record."""

    def __init__(self, message: str, attempts: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.attempts = tuple(attempts)


class ReplayMiss(LLMError):
    """Replay mode was asked for, and the cache holds no answer to this request."""


class BudgetExceeded(LLMError):
    """The cycle's LLM budget (``max_cost_usd``) is spent; no further call is made."""

    def __init__(self, spent: float, budget: float) -> None:
        super().__init__(
            f"the LLM budget of this cycle is spent: ${spent:.4f} of max_cost_usd "
            f"${budget:.4f}; the cycle stops here with its finished stages kept. Finish it "
            "with `alphaloop cycle --resume --max-cost-usd MORE` (the budget counts the "
            "whole cycle, its interrupted runs included), or close it with `alphaloop "
            "cycle --abandon`")
        self.spent = spent
        self.budget = budget


class Message(BaseModel):
    """One turn of a conversation (the system prompt is passed apart from these)."""

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
    provider asks again a bounded number of times and then raises :class:`InvalidAnswer`.
    ``role`` names who asks, for the per-role accounting.
    """

    name: str

    def complete(self, messages: Sequence[Message], *, schema: type[T],
                 role: str = "") -> tuple[T, Usage]:
        ...
