"""Two replays of the same cycles agree bit for bit.

The same project is cloned twice and the same two cycles run in each clone (the Quant's
own search, Risk's full review, the PM's report). The ledgers must be equal once only
what is allowed to differ is removed: wall-clock fields (when an entry was created, how
long a stage took) and commit ids (with the hash chain that seals the ``created`` time).
Commits are dated by a fixed ``GIT_*_DATE``, as a replay of recorded inputs would be.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.cycle_repos import OPTIONS, make_repo

from alphaloop.cycle.run import run_cycles

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


def test_the_normalisation_keeps_everything_but_clock_and_ids() -> None:
    entry = {"created": "2024-01-01T00:00:00Z", "records": {"plan": {
        "base_sha": "ab" * 20, "reason": "picked T-001", "duration_s": 1.5,
        "note": f"reviewed {'c' * 10}: fine", "reward": 0.25, "merge_sha": None}}}
    assert normalise(entry) == {"records": {"plan": {
        "base_sha": "<id>", "reason": "picked T-001", "note": "reviewed <id>: fine",
        "reward": 0.25, "merge_sha": None}}}
    changed = json.loads(json.dumps(entry))
    changed["records"]["plan"]["reward"] = 0.2500001
    assert differences(normalise(entry), normalise(changed)) == ["/records/plan/reward"]


def _ledger(repo: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((repo / "ledger").rglob("c*.json"))]


def test_two_replays_of_the_same_cycles_write_the_same_ledger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2024-05-01T12:00:00Z")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2024-05-01T12:00:00Z")
    source = make_repo(tmp_path / "source")
    ledgers = []
    for name in ("first", "second"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(source), str(clone)], check=True)
        summaries = run_cycles(clone, OPTIONS, count=2)
        assert len(summaries) == 2
        ledgers.append(_ledger(clone))
    first, second = ledgers
    assert len(first) == len(second) == 2
    differ = [f"{a['cycle_id']}{path}" for a, b in zip(first, second, strict=True)
              for path in differences(normalise(a), normalise(b))]
    assert differ == [], f"the replays differ at {differ}"
