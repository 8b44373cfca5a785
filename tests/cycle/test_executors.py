"""A cycle records the same ledger whichever executor ran Risk's backtests.

The same project is cloned and one cycle runs in each clone: with the serial executor,
with the local process pool (Risk's independent backtests prefetched in parallel into
the shared cache) and, where Ray is installed, with a local Ray instance. Once
wall-clock fields and commit ids are removed the ledgers must be equal, the held-out
read counted once in each.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.cycle_repos import OPTIONS, make_repo
from support.ledger_compare import differences, ledger_of, normalise

from alphaloop.cycle.run import run_cycles


def _one_cycle(source: Path, where: Path, executor: str) -> list[dict[str, Any]]:
    subprocess.run(["git", "clone", "-q", str(source), str(where)], check=True)
    [summary] = run_cycles(where, OPTIONS.model_copy(update={"executor": executor}))
    assert summary.outcome
    return ledger_of(where)


def _assert_same(reference: list[dict[str, Any]], other: list[dict[str, Any]]) -> None:
    assert len(reference) == len(other) == 1
    differ = list(differences(normalise(reference[0]), normalise(other[0])))
    assert differ == [], f"the ledgers differ at {differ}"
    assert other[0]["records"]["risk_review"]["holdout_reads"] == 1


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("executors")
    with pytest.MonkeyPatch.context() as patch:
        _fix_dates(patch)  # and the review key as tests/conftest.py sets it for each test
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
        patch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)
        source = make_repo(root / "source")
        return source, _one_cycle(source, root / "serial", "serial")


def _fix_dates(patch: pytest.MonkeyPatch) -> None:
    """Commits dated as a replay of recorded inputs would be."""
    patch.setenv("GIT_AUTHOR_DATE", "2024-05-01T12:00:00Z")
    patch.setenv("GIT_COMMITTER_DATE", "2024-05-01T12:00:00Z")


@pytest.fixture(autouse=True)
def _fixed_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    _fix_dates(monkeypatch)


def test_the_process_pool_records_what_the_serial_run_records(
        tmp_path: Path, serial: tuple[Path, list[dict[str, Any]]]) -> None:
    source, reference = serial
    _assert_same(reference, _one_cycle(source, tmp_path / "process", "process"))


@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason="Ray is not installed (pip install 'alphaloop[ray]')")
def test_a_local_ray_instance_records_what_the_serial_run_records(
        tmp_path: Path, serial: tuple[Path, list[dict[str, Any]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    source, reference = serial
    _assert_same(reference, _one_cycle(source, tmp_path / "ray", "ray"))
