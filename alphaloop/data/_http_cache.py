"""An on-disk cache of JSON responses, keyed by URL without credentials, with a TTL."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

__all__ = ["ResponseCache", "cache_key"]

_SECRET_PARAMS = frozenset({"apikey", "api_key", "token"})


def cache_key(url: str, params: Mapping[str, Any]) -> str:
    """``url`` with its query parameters sorted and any credential left out."""
    kept = sorted((k, str(v)) for k, v in params.items()
                  if v is not None and k.lower() not in _SECRET_PARAMS)
    return f"{url}?{urlencode(kept)}" if kept else url


class ResponseCache:
    """JSON payloads stored one file per key under ``directory``; entries expire after ``ttl``.

    A file that cannot be read or parsed counts as a miss and is replaced on the next
    store. Writes go through a temporary file and a rename, so a crash never leaves a
    half-written entry.
    """

    def __init__(self, directory: Path, ttl: float = 86_400.0, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.ttl = ttl
        self._clock = clock

    def _file(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, payload)`` for a fresh entry, else ``(False, None)``."""
        path = self._file(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            fetched = float(entry["fetched_at"])
            if entry["key"] != key:
                return False, None
        except (OSError, ValueError, KeyError, TypeError):
            return False, None
        if self._clock() - fetched >= self.ttl:
            return False, None
        return True, entry["payload"]

    def put(self, key: str, payload: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._file(key)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "fetched_at": self._clock(),
                                   "payload": payload}), encoding="utf-8")
        tmp.replace(path)
