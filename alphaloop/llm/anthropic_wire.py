"""Anthropic's messages API through the official ``anthropic`` SDK.

The structured answer is asked for as a forced tool call: one tool whose
``input_schema`` is the answer's JSON schema, and ``tool_choice`` naming it; the
answer is that ``tool_use`` block's input. No sampling temperature is sent: the current
API leaves it to the model. The SDK's own retries are off
(``max_retries=0``) so the client's policy is the only one.
"""

from __future__ import annotations

import json

from alphaloop.llm.base import LLMCallFailed
from alphaloop.llm.wire import ChatRequest, Reply, Transient, status_failure

__all__ = ["AnthropicTransport"]


class AnthropicTransport:
    name = "anthropic"

    def __init__(self, api_key: str, *, base_url: str | None = None,
                 timeout: float = 60.0) -> None:
        import anthropic

        self._sdk = anthropic
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url,
                                           timeout=timeout, max_retries=0)

    def send(self, request: ChatRequest) -> Reply:
        sdk = self._sdk
        tool = {"name": request.schema_name,
                "description": f"Give your answer as {request.schema_name}.",
                "input_schema": request.json_schema}
        try:
            response = self._client.messages.create(
                model=request.model, max_tokens=request.max_tokens, system=request.system,
                messages=[{"role": m.role, "content": m.content}  # type: ignore[misc]
                          for m in request.messages],
                tools=[tool], tool_choice={"type": "tool", "name": request.schema_name})
        except sdk.APIStatusError as exc:
            raise status_failure("anthropic", exc, "ANTHROPIC_API_KEY") from None
        except sdk.APITimeoutError:
            raise Transient("anthropic: the request timed out") from None
        except sdk.APIConnectionError as exc:
            raise Transient(f"anthropic: connection failed ({exc})") from None
        except sdk.APIResponseValidationError as exc:
            raise Transient(f"anthropic: the response was not valid ({exc})") from None
        except ValueError as exc:  # a body that is not JSON
            raise Transient(f"anthropic: the response was not JSON ({exc})") from None
        except sdk.APIError as exc:  # anything else the SDK raises about the call
            raise LLMCallFailed(f"anthropic: the call failed ({exc})") from None
        tokens = {"input_tokens": response.usage.input_tokens,
                  "output_tokens": response.usage.output_tokens}
        texts = [b.text for b in response.content if b.type == "text"]
        if response.stop_reason == "refusal":
            return Reply(refusal=" ".join(texts) or "the model declined to answer",
                         stop="refusal", model=response.model or request.model, **tokens)
        stop = "length" if response.stop_reason == "max_tokens" else "done"
        used = [b for b in response.content if b.type == "tool_use"
                and b.name == request.schema_name]
        text = (json.dumps(used[0].input, ensure_ascii=False) if used
                else " ".join(texts) or None)
        return Reply(text=text, stop=stop, model=response.model or request.model, **tokens)
