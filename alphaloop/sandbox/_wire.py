"""Framing for the conversation between the harness and a sandboxed strategy.

Each message is an 8-byte big-endian length followed by the payload. The trusted parent
sends pickles (the child trusts its parent); the untrusted child answers in JSON only,
which the parent validates with pydantic, so nothing the child sends can run code in
the parent.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import struct
import time
from typing import IO, Any

__all__ = ["MAX_REPLY_BYTES", "WireClosed", "WireTimeout", "read_frame", "write_frame"]

MAX_REPLY_BYTES = 64 * 1024 * 1024
_HEADER = struct.Struct(">Q")


class WireClosed(EOFError):
    """The other side closed the pipe."""


class WireTimeout(TimeoutError):
    """No complete message before the deadline."""


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise WireTimeout
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise WireTimeout
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise WireClosed
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, *, deadline: float | None = None,
               limit: int = MAX_REPLY_BYTES) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if size > limit:
        raise ValueError(f"message of {size} bytes is larger than the limit of {limit}")
    return _read_exact(fd, size, deadline)


def dumps_request(message: dict[str, Any]) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def dumps_reply(message: dict[str, Any]) -> bytes:
    return json.dumps(message, allow_nan=False, default=str).encode()
