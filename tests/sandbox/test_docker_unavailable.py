"""Asking for the Docker sandbox where no engine answers stops with the way out; it never
falls back to another backend. Needs no engine."""

from __future__ import annotations

import pytest

from alphaloop.sandbox import SandboxUnavailable, open_sandbox


def test_refuses_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch, pytest.raises(SandboxUnavailable) as refused:
        patch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        open_sandbox("docker", allow_unsandboxed=True)  # never falls back
    assert "dockerd" in str(refused.value) and "--sandbox process" in str(refused.value)
