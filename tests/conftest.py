"""Settings every test shares: the bot's key lives in a per-session folder, never in ~."""

from __future__ import annotations

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
