"""The bubblewrap sandbox really isolates: network, files, environment, limits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support.listener import tcp_listener

from alphaloop.sandbox import (
    Limits,
    ProcessSandbox,
    SandboxUnavailable,
    UnsandboxedRunner,
    open_sandbox,
)


@pytest.fixture()
def sandbox() -> ProcessSandbox:
    box = open_sandbox(limits=Limits(wall_seconds=30, cpu_seconds=30, memory_mb=1024))
    assert isinstance(box, ProcessSandbox)
    return box


@pytest.fixture()
def listener():
    """A TCP server on 127.0.0.1 that the host can reach."""
    with tcp_listener() as (port, _):
        yield port


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_isolation_is_stated(sandbox: ProcessSandbox) -> None:
    iso = sandbox.isolation
    assert iso.backend == "bubblewrap" and iso.network == "none"
    assert iso.filesystem == "read-only" and iso.sandboxed
    assert "bubblewrap" in iso.describe()


def test_no_network_inside(sandbox: ProcessSandbox, listener: int, tmp_path: Path) -> None:
    code = (f"import socket\ntry:\n socket.create_connection(('127.0.0.1', {listener}), 2)\n"
            " print('connected')\nexcept OSError as e:\n print('refused', e)")
    inside = sandbox.run(_py(code), workdir=tmp_path, scratch=tmp_path / "s")
    assert inside.ok and "refused" in inside.stdout
    outside = UnsandboxedRunner().run(_py(code), workdir=tmp_path, scratch=tmp_path / "s2")
    assert "connected" in outside.stdout  # the server was really reachable from the host


def test_checkout_read_only_scratch_writable(sandbox: ProcessSandbox, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "a.txt").write_text("original")
    scratch = tmp_path / "scratch"
    code = ("import pathlib, sys\n"
            "try:\n pathlib.Path('a.txt').write_text('changed'); print('wrote checkout')\n"
            "except OSError as e:\n print('checkout read-only')\n"
            "pathlib.Path(__import__('os').environ['HOME'], 'out.txt').write_text('ok')\n"
            "print(pathlib.Path('a.txt').read_text())")
    result = sandbox.run(_py(code), workdir=checkout, scratch=scratch)
    assert result.ok, result.stderr
    assert "checkout read-only" in result.stdout and "original" in result.stdout
    assert (checkout / "a.txt").read_text() == "original"
    assert (scratch / "out.txt").read_text() == "ok"


def test_environment_holds_no_secrets(sandbox: ProcessSandbox, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    result = sandbox.run(_py("import os; print(sorted(os.environ))"), workdir=tmp_path,
                         scratch=tmp_path / "s")
    assert result.ok
    assert "OPENAI_API_KEY" not in result.stdout and "GITHUB_TOKEN" not in result.stdout
    assert "HOME" in result.stdout


def test_wall_time_limit_kills(tmp_path: Path) -> None:
    box = ProcessSandbox(Limits(wall_seconds=1.5))
    result = box.run(_py("import time; time.sleep(60)"), workdir=tmp_path,
                     scratch=tmp_path / "s")
    assert result.timed_out and not result.ok
    assert result.duration_s < 30


def test_memory_limit(tmp_path: Path) -> None:
    box = ProcessSandbox(Limits(memory_mb=300))
    code = "b = bytearray(1024 * 1024 * 1024); print('allocated')"
    result = box.run(_py(code), workdir=tmp_path, scratch=tmp_path / "s")
    assert not result.ok and "allocated" not in result.stdout
    assert "MemoryError" in result.stderr


def test_cpu_limit(tmp_path: Path) -> None:
    box = ProcessSandbox(Limits(cpu_seconds=1, wall_seconds=60))
    result = box.run(_py("while True: pass"), workdir=tmp_path, scratch=tmp_path / "s")
    assert not result.ok and not result.timed_out
    assert result.returncode != 0


def test_process_count_limit(tmp_path: Path) -> None:
    box = ProcessSandbox(Limits(max_processes=8, wall_seconds=60))
    if box.isolation.process_limit != "cgroup":
        pytest.skip("this machine offers no pids cgroup; the limit is an rlimit root ignores")
    code = ("import subprocess, sys\nprocs = []\n"
            "try:\n for i in range(40):\n"
            "  procs.append(subprocess.Popen(['sleep', '5']))\n"
            " print('spawned all')\n"
            "except OSError as e:\n print('refused at', len(procs), e)\n"
            "for p in procs: p.kill()")
    result = box.run(_py(code), workdir=tmp_path, scratch=tmp_path / "s")
    assert "spawned all" not in result.stdout
    assert "refused at" in result.stdout


def test_refuses_without_bubblewrap_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("alphaloop.sandbox.process.shutil.which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="--allow-unsandboxed"):
        open_sandbox()
    runner = open_sandbox(allow_unsandboxed=True)
    assert isinstance(runner, UnsandboxedRunner)
    assert not runner.isolation.sandboxed and runner.isolation.network == "host"
    with pytest.raises(SandboxUnavailable, match="explicit"):
        open_sandbox("none")
