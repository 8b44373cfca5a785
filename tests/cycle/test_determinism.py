"""Two replays of the same cycles agree bit for bit.

The same project is cloned twice and the same two cycles run in each clone (the Quant's
own search, Risk's full review, the PM's report). The ledgers must be equal once only
what is allowed to differ is removed: wall-clock fields (when an entry was created, how
long a stage took) and commit ids (with the hash chain that seals the ``created`` time).
Commits are dated by a fixed ``GIT_*_DATE``, as a replay of recorded inputs would be.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, make_repo
from support.ledger_compare import differences, ledger_of, normalise

from alphaloop.cycle.run import run_cycles


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
        ledgers.append(ledger_of(clone))
    first, second = ledgers
    assert len(first) == len(second) == 2
    differ = [f"{a['cycle_id']}{path}" for a, b in zip(first, second, strict=True)
              for path in differences(normalise(a), normalise(b))]
    assert differ == [], f"the replays differ at {differ}"
