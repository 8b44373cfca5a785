"""Canonical JSON and the SHA-256 digest every hash-chained record is sealed with.

The cycle ledger (``ledger/cycles/``) and the deployment ledger (``deploy/history/``)
both seal an entry with :func:`digest_of` its canonical JSON, so an edit of one byte
changes the digest and breaks the chain that follows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json", "digest_of"]


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace: the bytes a digest is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest_of(envelope: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``envelope`` without its ``digest`` key."""
    body = {key: value for key, value in envelope.items() if key != "digest"}
    return hashlib.sha256(canonical_json(body)).hexdigest()
