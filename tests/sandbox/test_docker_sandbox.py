"""The Docker sandbox really isolates: network, files, user, limits, and no leftovers.

Runs against the real engine; skipped, saying why, when none answers (tests/support/docker).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
from support.docker import leftover_containers, sandbox_image
from support.listener import tcp_listener

from alphaloop.contract import PortfolioState
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from alphaloop.harness import Window
from alphaloop.harness.simulate import simulate
from alphaloop.sandbox import (
    Limits,
    ProcessSandbox,
    SandboxedStrategy,
    SandboxUnavailable,
    StrategyFailed,
    open_sandbox,
)
from alphaloop.sandbox.docker_sandbox import DockerSandbox

PROJECT = Path(__file__).resolve().parents[2]
LIMITS = Limits(wall_seconds=30, cpu_seconds=30, memory_mb=512, max_processes=32)


@pytest.fixture(autouse=True)
def no_leftovers() -> object:
    sandbox_image()  # skips the module's tests without an engine
    yield
    assert leftover_containers() == [], "a sandbox container was left behind"


@pytest.fixture()
def box() -> DockerSandbox:
    sandbox = open_sandbox("docker", limits=LIMITS)
    assert isinstance(sandbox, DockerSandbox)
    return sandbox


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "a.txt").write_text("original")
    return root


def _run(box: DockerSandbox, checkout: Path, code: str):
    return box.run(box.python_command(checkout, code=code), workdir=checkout,
                   scratch=checkout.parent / "scratch")


def test_isolation_is_stated(box: DockerSandbox) -> None:
    iso = box.isolation
    assert (iso.backend, iso.network, iso.filesystem) == ("docker", "none", "read-only")
    assert iso.process_limit == "cgroup" and iso.memory_limit == "cgroup"
    assert any("capabilities dropped" in n for n in iso.notes)


def test_no_network_inside(box: DockerSandbox, checkout: Path) -> None:
    with tcp_listener() as (port, accepted):
        code = textwrap.dedent(f"""
            import socket
            for host, port in (("127.0.0.1", {port}), ("1.1.1.1", 53), ("10.0.0.1", 80)):
                try:
                    socket.create_connection((host, port), 2)
                    print("connected", host)
                except OSError as exc:
                    print("refused", host, type(exc).__name__)
            print(sorted(i[1] for i in socket.if_nameindex()))
        """)
        result = _run(box, checkout, code)
        assert result.ok, result.stderr
        assert "connected" not in result.stdout and result.stdout.count("refused") == 3
        assert "['lo']" in result.stdout  # no interface but its own loopback
        assert accepted == []


def test_checkout_and_image_read_only_scratch_writable(box: DockerSandbox,
                                                        checkout: Path) -> None:
    code = textwrap.dedent("""
        import os, pathlib
        for path in ("a.txt", "/etc/pwned", "/opt/alphaloop/code/x.py", "/usr/pwned"):
            try:
                pathlib.Path(path).write_text("x")
                print("WROTE", path)
            except OSError as exc:
                print("refused", path, exc.errno)
        pathlib.Path(os.environ["HOME"], "out.txt").write_text("ok")
        pathlib.Path("/tmp/t.txt").write_text("ok")
        print(os.environ["HOME"], pathlib.Path("a.txt").read_text())
    """)
    result = _run(box, checkout, code)
    assert result.ok, result.stderr
    assert "WROTE" not in result.stdout and result.stdout.count("refused") == 4
    assert "/sandbox/scratch original" in result.stdout
    assert (checkout / "a.txt").read_text() == "original"


def test_non_root_without_capabilities(box: DockerSandbox, checkout: Path) -> None:
    code = textwrap.dedent("""
        import os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status")
                      if ":\\t" in line)
        print(os.getuid(), os.getgid(), status["CapEff"].strip(),
              status["CapBnd"].strip(), status["NoNewPrivs"].strip())
    """)
    result = _run(box, checkout, code)
    assert result.ok, result.stderr
    uid, gid, effective, bounding, no_new = result.stdout.split()
    assert int(uid) != 0 and int(gid) != 0
    assert int(effective, 16) == 0 and int(bounding, 16) == 0 and no_new == "1"


def test_environment_holds_no_secrets(box: DockerSandbox, checkout: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    result = _run(box, checkout, "import os; print(sorted(os.environ))")
    assert result.ok, result.stderr
    assert "OPENAI_API_KEY" not in result.stdout and "GITHUB_TOKEN" not in result.stdout
    assert "PYTHONHASHSEED" in result.stdout


def test_wall_time_kills_and_removes_the_container(checkout: Path) -> None:
    box = DockerSandbox(Limits(wall_seconds=2))
    result = _run(box, checkout, "import time; time.sleep(60)")
    assert result.timed_out and not result.ok
    assert result.limit == "wall-time (2 s)"
    assert leftover_containers() == []


def test_memory_bomb_is_reported_as_the_memory_limit(checkout: Path) -> None:
    box = DockerSandbox(Limits(wall_seconds=30, memory_mb=256))
    code = "hoard = []\nwhile True:\n    hoard.append(bytearray(32 * 2**20))"
    result = _run(box, checkout, code)
    assert not result.ok and not result.timed_out
    assert result.limit == "memory (256 MB for the whole sandbox)"


def _strategy(root: Path, body: str) -> Path:
    (root / "strategy").mkdir(parents=True)
    (root / "strategy" / "__init__.py").write_text(textwrap.dedent(body))
    return root


FORK_BOMB = """
    import os, time

    class Bomb:
        def decide(self, view, portfolio):
            for _ in range(200):
                if os.fork() == 0:
                    time.sleep(3)
                    os._exit(0)
            return {}

    def create_strategy(**kwargs):
        return Bomb()
"""


def test_fork_bomb_is_reported_as_the_process_limit(tmp_path: Path) -> None:
    panel = SyntheticSource(SyntheticConfig(years=1)).load()
    box = DockerSandbox(Limits(wall_seconds=30, max_processes=16))
    root = _strategy(tmp_path / "co", FORK_BOMB)
    with SandboxedStrategy(box, checkout=root, scratch=tmp_path / "s") as strategy:
        view = panel.view(100, 60)
        with pytest.raises(StrategyFailed) as failed:
            strategy.decide(view, PortfolioState(as_of=view.as_of, weights={}, cash=1.0,
                                                 value=1.0, peak_value=1.0))
    assert failed.value.limit == "processes (16)"


def test_a_backtest_gives_the_same_result_as_in_the_process_sandbox(tmp_path: Path) -> None:
    panel = SyntheticSource(SyntheticConfig(years=2)).load()
    checkout = tmp_path / "finsage"
    checkout.mkdir()
    shutil.copytree(PROJECT / "strategy", checkout / "strategy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    window = Window(start=panel.dates[300].date(), end=panel.dates[420].date(), label="in")
    results = {}
    for name, box in (("process", ProcessSandbox(LIMITS)), ("docker", DockerSandbox(LIMITS))):
        with SandboxedStrategy(box, checkout=checkout, scratch=tmp_path / name) as strategy:
            results[name] = simulate(strategy, panel, window, frequency="monthly")
    process, docker = results["process"], results["docker"]
    assert process.dates == docker.dates and len(process.dates) > 100
    assert np.array_equal(process.values, docker.values)  # bit-identical, not close
    assert np.array_equal(process.weights, docker.weights)
    assert np.any(process.weights != 0)  # the strategy really traded


def test_a_missing_image_names_the_build_command() -> None:
    with pytest.raises(SandboxUnavailable) as missing:
        DockerSandbox(image="alphaloop-backtest:does-not-exist").check()
    assert "alphaloop sandbox build" in str(missing.value)


def test_an_unreadable_checkout_is_named(box: DockerSandbox, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(Exception, match="not readable by the sandbox"):
        _run(box, private, "print(1)")


def test_containers_carry_the_sandbox_label_and_the_callers(checkout: Path) -> None:
    from alphaloop.sandbox.docker_engine import docker_client

    box = DockerSandbox(LIMITS, labels={"org.alphaloop.role": "deploy"})
    proc = box.spawn(box.python_command(checkout, code="import sys; sys.stdin.read()"),
                     workdir=checkout, scratch=checkout.parent / "scratch")
    try:
        labels = docker_client().api.inspect_container(proc.container_id)["Config"]["Labels"]
        assert labels["org.alphaloop.role"] == "deploy"
        assert labels["org.alphaloop.sandbox"] == "1"
    finally:
        proc.terminate()
    assert leftover_containers() == []
