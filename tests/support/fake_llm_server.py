"""A scripted HTTP server on 127.0.0.1, the plumbing under the fake OpenAI and Anthropic
servers (``fake_openai``, ``fake_anthropic``).

A test queues what the next requests get, in order: an answer (a JSON object the
structured output will hold), an error status (429 with ``retry-after``, 500, 400, ...),
a hang longer than the client's timeout, a body that is not JSON, a refusal or an
answer cut at the token limit. When the queue is empty, ``default`` (request body ->
answer) answers, or the server replies 500 saying the script ran out. Every request
body is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ScriptedServer", "Step", "answer", "usage_of"]

Answer = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What one request gets.

    ``kind``: ``answer`` (``answer`` as the structured output), ``text`` (``text`` as
    the structured output's raw text, e.g. JSON that breaks the schema), ``status``
    (``status`` with an API error body, and ``retry_after`` seconds if given), ``hang``
    (sleep ``seconds`` then answer ``answer``), ``malformed`` (a 200 whose body is not
    JSON), ``refuse`` and ``truncate``.
    """

    kind: str
    answer: Answer | None = None
    text: str = ""
    status: int = 200
    retry_after: float | None = None
    seconds: float = 0.0


def answer(value: Answer) -> Step:
    return Step("answer", answer=value)


@dataclass
class ScriptedServer:
    """Serves ``path`` with ``respond(step, body) -> (status, headers, body bytes)``."""

    path: str
    respond: Callable[[Step, dict[str, Any]], tuple[int, dict[str, str], bytes]]
    error_body: Callable[[int, str], dict[str, Any]]
    default: Callable[[dict[str, Any]], Answer] | None = None
    script: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a scripted hang may still be sleeping
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def queue(self, *steps: Step) -> None:
        with self._lock:
            self.script.extend(steps)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self, body: dict[str, Any]) -> Step:
        with self._lock:
            self.requests.append(body)
            if self.script:
                return self.script.pop(0)
        if self.default is not None:
            return Step("answer", answer=self.default(body))
        return Step("status", status=500, text="the test's script has no step left")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                if self.path.split("?")[0] != outer.path:
                    self._send(404, {}, json.dumps(outer.error_body(
                        404, f"no route {self.path}")).encode())
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, {}, json.dumps(outer.error_body(
                        400, "the request body is not JSON")).encode())
                    return
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                step = outer._next(body)
                if step.kind == "hang":
                    time.sleep(step.seconds)
                    step = Step("answer", answer=step.answer)
                if step.kind == "status":
                    extra = ({"retry-after": f"{step.retry_after:g}"}
                             if step.retry_after is not None else {})
                    self._send(step.status, extra, json.dumps(outer.error_body(
                        step.status, step.text or f"scripted HTTP {step.status}")).encode())
                    return
                if step.kind == "malformed":
                    self._send(200, {}, b'{"id": "broken", "choices": [')
                    return
                status, extra, payload = outer.respond(step, body)
                self._send(status, extra, payload)

            def _send(self, status: int, extra: dict[str, str], payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up waiting (a scripted hang)

        return Handler


def usage_of(body: dict[str, Any], text: str) -> tuple[int, int]:
    """Token counts a test can predict: a word count of the request and of the answer."""
    words = len(json.dumps(body.get("messages", [])).split())
    words += len(str(body.get("system", "")).split())
    return words, max(1, len(text.split()))
