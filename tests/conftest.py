"""Settings every test shares: the bot's key lives in a per-session folder, never in ~."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_bot_key(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's signing key and journal settings come from a folder of this session.

    Without this, the first cycle a test ran would create ``~/.config/alphaloop/review.key``
    on the machine running the tests. Tests that need a known key set
    ``ALPHALOOP_REVIEW_KEY`` themselves.
    """
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
    monkeypatch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)


_PROJECT_READS = Path(__file__).resolve().parents[1] / ".git" / "alphaloop" / "holdout-reads.jsonl"


def _reads() -> bytes | None:
    return _PROJECT_READS.read_bytes() if _PROJECT_READS.is_file() else None


@pytest.fixture(autouse=True, scope="session")
def project_reads_untouched() -> Iterator[None]:
    """No test records a held-out read in the repository the tests run in: backtests of
    the project's own strategy must use windows before its held-out years, so the
    project's count of reads is the same whether or not its tests ran."""
    before = _reads()
    yield
    assert _reads() == before, (f"a test recorded a held-out read in {_PROJECT_READS}; "
                                "run it on a window before the held-out years")
