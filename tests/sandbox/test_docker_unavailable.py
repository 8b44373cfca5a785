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


def test_backtest_with_the_docker_sandbox_and_no_engine_says_what_to_do(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from alphaloop.cli import app

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = CliRunner().invoke(app, [
        "backtest", "--sandbox", "docker", "--start", "2018-01-01", "--end", "2018-03-30",
        "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "no Docker engine answers" in result.output
    assert "--sandbox process" in result.output
    assert not (tmp_path / "out" / "result.json").exists()
