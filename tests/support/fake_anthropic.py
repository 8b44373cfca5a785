"""A fake of Anthropic's messages API (``POST /v1/messages``) on 127.0.0.1.

It speaks the subset AlphaLoop uses, as Anthropic's API reference describes it: the
request carries ``model``, ``max_tokens``, ``system``, ``messages`` (user and assistant
turns), ``tools`` (``name``, ``description``, ``input_schema``) and ``tool_choice``
``{"type": "tool", "name"}``; the response is a ``message`` whose ``content`` holds a
``tool_use`` block (``id``, ``name``, ``input``), with ``stop_reason`` (``tool_use``,
``max_tokens``, ``refusal``) and ``usage.input_tokens`` / ``output_tokens``. Errors are
``{"type": "error", "error": {"type", "message"}}``. Point the real client at
``server.base_url``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from support.fake_llm_server import ScriptedServer, Step, usage_of

__all__ = ["fake_anthropic", "requested_schema"]

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                404: "not_found_error", 429: "rate_limit_error", 500: "api_error",
                529: "overloaded_error"}


def _error(status: int, message: str) -> dict[str, Any]:
    return {"type": "error",
            "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}


def _respond(step: Step, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    choice = body.get("tool_choice") or {}
    tools = {t["name"]: t for t in body.get("tools", [])}
    if choice.get("type") != "tool" or choice.get("name") not in tools:
        return 400, {}, json.dumps(_error(400, "tool_choice must name one of the tools "
                                               "(this fake answers only forced tool use)")
                                   ).encode()
    if "max_tokens" not in body:
        return 400, {}, json.dumps(_error(400, "max_tokens: Field required")).encode()
    name = choice["name"]
    content: list[dict[str, Any]]
    if step.kind == "answer":
        content = [{"type": "tool_use", "id": "toolu_fake01", "name": name,
                    "input": step.answer}]
        stop = "tool_use"
    elif step.kind == "text":
        content = [{"type": "text", "text": step.text}]
        stop = "end_turn"
    elif step.kind == "refuse":
        content = [{"type": "text", "text": step.text or "I can't help with that."}]
        stop = "refusal"
    elif step.kind == "truncate":
        content = [{"type": "text", "text": "Let me think about this carefully"}]
        stop = "max_tokens"
    else:
        raise ValueError(f"unknown step {step.kind!r}")
    prompt, completion = usage_of(body, json.dumps(content))
    payload = {"id": "msg_fake01", "type": "message", "role": "assistant",
               "model": body["model"], "content": content, "stop_reason": stop,
               "stop_sequence": None,
               "usage": {"input_tokens": prompt, "output_tokens": completion}}
    return 200, {}, json.dumps(payload).encode()


def fake_anthropic(default: Callable[[dict[str, Any]], dict[str, Any]] | None = None
                   ) -> ScriptedServer:
    """A fake Anthropic server (not started: use it as a context manager)."""
    return ScriptedServer("/v1/messages", _respond, _error, default=default)


def requested_schema(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The name and JSON schema a messages request forces the answer to fit."""
    name = body["tool_choice"]["name"]
    tool = next(t for t in body["tools"] if t["name"] == name)
    return name, tool["input_schema"]
