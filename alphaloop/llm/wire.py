"""One request to a chat model and its raw reply, as every provider sees them.

A :class:`Transport` sends one :class:`ChatRequest` and returns one :class:`Reply`,
nothing more: retries, repairs, the cache and the accounting are the client's
(:mod:`alphaloop.llm.client`), the same for every provider. A transport raises
:class:`Transient` for what may pass when tried again (429, 5xx, a timeout, a dropped
connection) and :class:`~alphaloop.llm.base.LLMCallFailed` for what will not (any other
4xx).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.llm.base import LLMCallFailed, Message

__all__ = ["ChatRequest", "Reply", "Transient", "Transport", "error_detail", "retry_after",
           "status_failure"]


class Transient(LLMCallFailed):
    """A failed call worth retrying (429, 5xx, a timeout); ``retry_after`` is the server's
    hint in seconds. The client retries it and, when every attempt failed, raises an
    :class:`LLMCallFailed` saying so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChatRequest(BaseModel):
    """Everything that decides a model's answer, and so the cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    system: str
    messages: tuple[Message, ...]
    schema_name: str
    json_schema: dict[str, Any]
    max_tokens: int = Field(gt=0)
    temperature: float = Field(ge=0)

    def key(self) -> str:
        """The SHA-256 of the request's canonical JSON (sorted keys, no spaces)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Reply(BaseModel):
    """What the model said: the structured answer's JSON text, or why there is none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = None
    refusal: str | None = None
    stop: Literal["done", "length", "refusal"] = "done"
    model: str
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class Transport(Protocol):
    name: str

    def send(self, request: ChatRequest) -> Reply:
        ...


def error_detail(exc: Any) -> str:
    """The SDK error's message, shortened, as " (message)"."""
    message = getattr(exc, "message", "") or ""
    return f" ({message[:300]})" if message else ""


def retry_after(headers: Any) -> float | None:
    """The ``retry-after`` header in seconds (``retry-after-ms`` first), if any."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            continue
    return None


def status_failure(provider: str, exc: Any, key_variable: str) -> LLMCallFailed:
    """The failure an HTTP error status of ``provider`` is: 429 and 5xx are
    :class:`Transient` (retried), any other status is final."""
    status = exc.status_code
    if status == 429 or status >= 500:
        return Transient(f"{provider}: HTTP {status}{error_detail(exc)}",
                         retry_after=retry_after(exc.response.headers))
    return LLMCallFailed(f"{provider} refused the request: HTTP {status}{error_detail(exc)}; "
                         f"check the model name, the key ({key_variable}) and --llm-base-url")
