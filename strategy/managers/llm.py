"""Asking the LLM client for a structured (JSON) answer, with bounded retries.

The managers work without an LLM (deterministic rules); when the engine is handed a
client they ask it instead, with the spec's prompts, and validate the answer against a
pydantic model. The client is the experts' :class:`~strategy.experts.llm.LLMClient`
(``complete(system, user) -> str``), so one client serves the whole engine. An answer
that is not valid JSON of the right shape is asked for again (``retries`` times,
quoting the problem); if it still fails, or the client raises
:class:`~alphaloop.contract.ModelUnavailable` (no model answers), the caller falls back
to its rule and records why. Other errors raised by the client itself propagate.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alphaloop.contract import ModelUnavailable
from strategy.experts.llm import LLMClient, json_text

__all__ = ["LLMClient", "ask_json", "extract_json"]

T = TypeVar("T", bound=BaseModel)

def extract_json(text: str) -> Any:
    """The JSON object in ``text``: a fenced block if any, else first ``{`` to last ``}``.

    Raises ``ValueError`` when there is none or it does not parse."""
    try:
        return json.loads(json_text(text))
    except RecursionError:
        raise ValueError("the answer's JSON nests too deeply to read") from None


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
                         for e in error.errors()[:5])
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def ask_json(llm: LLMClient, *, system: str, prompt: str, schema: type[T],
             retries: int = 2) -> tuple[T | None, str]:
    """Ask ``llm`` and parse the reply into ``schema``.

    Returns ``(answer, "")`` on success, or ``(None, reason)`` once ``retries`` further
    requests have failed too, or at once when no model answers.
    """
    user = prompt
    reason = ""
    for _ in range(retries + 1):
        try:
            reply = llm.complete(system, user)
        except ModelUnavailable as exc:
            return None, str(exc)
        try:
            return schema.model_validate(extract_json(str(reply))), ""
        except ValueError as error:  # JSON and validation errors are both ValueErrors
            reason = f"invalid LLM answer: {_describe(error)}"
            user = (f"{prompt}\n\nYour previous answer was not valid ({_describe(error)}). "
                    "Reply with the JSON object only.")
    return None, reason
