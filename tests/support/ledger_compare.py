"""Comparing ledgers of cycles that should agree: what may differ between two runs of the
same cycles (wall-clock readings, commit ids) is removed, the rest must be equal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["COMMIT_IDS", "WALL_CLOCK", "differences", "ledger_of", "normalise"]

#: Keys whose values are wall-clock readings or commit ids, wherever they appear.
WALL_CLOCK = frozenset({"created", "duration_s", "timings"})
COMMIT_IDS = frozenset({"digest", "previous", "sha", "base_sha", "head_sha", "merge_sha",
                        "commit"})
_HEX_ID = re.compile(r"\b[0-9a-f]{10,64}\b")


def normalise(value: Any) -> Any:
    """``value`` without wall-clock fields, with commit ids (also inside text) masked."""
    if isinstance(value, dict):
        return {k: "<id>" if k in COMMIT_IDS and v is not None else normalise(v)
                for k, v in value.items() if k not in WALL_CLOCK}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return _HEX_ID.sub("<id>", value)
    return value


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Paths at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b))
                for d in differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def ledger_of(repo: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((repo / "ledger").rglob("c*.json"))]
