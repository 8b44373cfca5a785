"""A fake of OpenAI's chat completions API (``POST /v1/chat/completions``) on 127.0.0.1.

It speaks the subset AlphaLoop uses, as OpenAI's API reference describes it: the request
carries ``model``, ``messages`` (system, user, assistant) and ``response_format``
``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``; the response
is a ``chat.completion`` object whose first choice holds ``message.content`` (the JSON
text), ``message.refusal`` and ``finish_reason`` (``stop``, ``length``), with
``usage.prompt_tokens`` / ``completion_tokens`` / ``total_tokens``. Errors are
``{"error": {"message", "type", "param", "code"}}``. Point the real client at
``server.base_url + "/v1"``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.fake_llm_server import ScriptedServer, Step, usage_of

__all__ = ["fake_openai", "requested_schema"]

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                404: "not_found_error", 429: "rate_limit_exceeded", 500: "server_error"}


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": _ERROR_TYPES.get(status, "server_error"),
                      "param": None, "code": None}}


def _respond(step: Step, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    fmt = body.get("response_format") or {}
    if fmt.get("type") != "json_schema" or "schema" not in fmt.get("json_schema", {}):
        return 400, {}, json.dumps(_error(400, "response_format json_schema is required "
                                               "by this fake")).encode()
    text: str | None
    refusal = None
    finish = "stop"
    if step.kind == "answer":
        text = json.dumps(step.answer)
    elif step.kind == "text":
        text = step.text
    elif step.kind == "refuse":
        text, refusal = None, step.text or "I can't help with that."
    elif step.kind == "truncate":
        full = json.dumps(step.answer or {"statement": "x" * 200})
        text, finish = full[: len(full) // 2], "length"
    else:
        raise ValueError(f"unknown step {step.kind!r}")
    prompt, completion = usage_of(body, text or refusal or "")
    payload = {
        "id": f"chatcmpl-fake{len(json.dumps(body)) % 10_000}",
        "object": "chat.completion", "created": 1_700_000_000, "model": body["model"],
        "choices": [{"index": 0, "finish_reason": finish, "logprobs": None,
                     "message": {"role": "assistant", "content": text,
                                 "refusal": refusal}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }
    return 200, {}, json.dumps(payload).encode()


def fake_openai(default: Callable[[dict[str, Any]], dict[str, Any]] | None = None
                ) -> ScriptedServer:
    """A fake OpenAI server (not started: use it as a context manager)."""
    return ScriptedServer("/v1/chat/completions", _respond, _error, default=default)


def requested_schema(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The name and JSON schema a chat completions request asks the answer to fit."""
    spec = body["response_format"]["json_schema"]
    return spec["name"], spec["schema"]
