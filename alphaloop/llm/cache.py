"""Recorded answers, keyed by the full request: a cycle can be replayed exactly.

Each answer is stored as ``<key[:2]>/<key>.json`` (the request and the reply) under the
cache folder, by default the repository's ``.git/alphaloop/llm-cache/``. The key is the
SHA-256 of the request's canonical JSON (:meth:`~alphaloop.llm.wire.ChatRequest.key`):
provider, model, system prompt, every message, the schema, the token limit and the
temperature. The endpoint's address is not part of it, so a cycle recorded against one
server replays against none.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from alphaloop.llm.wire import ChatRequest, Reply

__all__ = ["ResponseCache"]


class ResponseCache:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, request: ChatRequest) -> Reply | None:
        """The recorded reply to ``request``; None when there is none (or it is
        unreadable, which counts as none: it is asked again and recorded again)."""
        try:
            raw = json.loads(self.path(request.key()).read_text(encoding="utf-8"))
            return Reply.model_validate(raw["reply"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None

    def put(self, request: ChatRequest, reply: Reply) -> None:
        """Record ``reply`` to ``request`` (written whole, then renamed into place)."""
        target = self.path(request.key())
        target.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"request": request.model_dump(mode="json"),
                           "reply": reply.model_dump(mode="json")},
                          indent=1, sort_keys=True, ensure_ascii=False)
        handle, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(tmp, target)

    def forget(self, keys: list[str]) -> None:
        """Remove the answers recorded under ``keys`` (a call that failed in the end is
        asked again next time, not failed again from the cache)."""
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*/*.json")) if self.folder.is_dir() else 0
