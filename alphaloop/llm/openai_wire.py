"""OpenAI's chat completions API through the official ``openai`` SDK.

The structured answer is asked for with ``response_format`` ``json_schema``; the SDK's
own retries are off (``max_retries=0``) so the client's policy is the only one.
"""

from __future__ import annotations

from typing import Any

from alphaloop.llm.base import LLMCallFailed
from alphaloop.llm.wire import ChatRequest, Reply, Transient, status_failure

__all__ = ["OpenAITransport"]


class OpenAITransport:
    name = "openai"

    def __init__(self, api_key: str, *, base_url: str | None = None,
                 timeout: float = 60.0) -> None:
        import openai

        self._sdk = openai
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout,
                                     max_retries=0)

    def send(self, request: ChatRequest) -> Reply:
        sdk = self._sdk
        messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        try:
            response = self._client.chat.completions.create(
                model=request.model, messages=messages,  # type: ignore[arg-type]
                max_completion_tokens=request.max_tokens, temperature=request.temperature,
                response_format={"type": "json_schema", "json_schema": {
                    "name": request.schema_name, "schema": request.json_schema,
                    "strict": False}})
        except sdk.APIStatusError as exc:
            raise status_failure("openai", exc, "OPENAI_API_KEY") from None
        except sdk.APITimeoutError:
            raise Transient("openai: the request timed out") from None
        except sdk.APIConnectionError as exc:
            raise Transient(f"openai: connection failed ({exc})") from None
        except sdk.APIResponseValidationError as exc:
            raise Transient(f"openai: the response was not valid ({exc})") from None
        except ValueError as exc:  # a body that is not JSON
            raise Transient(f"openai: the response was not JSON ({exc})") from None
        except sdk.APIError as exc:  # anything else the SDK raises about the call
            raise LLMCallFailed(f"openai: the call failed ({exc})") from None
        if not response.choices:
            raise Transient("openai: the response holds no choice")
        choice = response.choices[0]
        usage = response.usage
        tokens = {"input_tokens": (usage.prompt_tokens or 0) if usage else 0,
                  "output_tokens": (usage.completion_tokens or 0) if usage else 0,
                  "model": response.model or request.model}
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            return Reply(refusal=refusal, stop="refusal", **tokens)
        stop = {"length": "length", "content_filter": "refusal"}.get(
            choice.finish_reason or "", "done")
        return Reply(text=choice.message.content, stop=stop,  # type: ignore[arg-type]
                     refusal="the provider's content filter stopped the answer"
                     if stop == "refusal" else None, **tokens)

