"""Hostile strategy code run through the real bubblewrap sandbox.

Each case is run twice: with the sandbox alone (the static AST layer switched off: the
code goes straight into the sandbox) and behind the AST policy as well. Either way it
must be contained - the strategy fails with a finding that names what stopped it -
while no canary (an environment token, the repository's ``.git/config``, a credentials
file and an SSH key under ``$HOME``) appears in anything the sandbox returns.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

import pytest

from alphaloop.checks.ast_policy import check_strategy_package
from alphaloop.contract import PortfolioState
from alphaloop.policy import load_policies
from alphaloop.sandbox import (
    Limits,
    ProcessSandbox,
    Sandbox,
    SandboxedStrategy,
    StrategyFailed,
)
from security.conftest import Canaries, hostile_checkout

PROJECT = Path(__file__).resolve().parents[2]


SANDBOX_LIMITS = Limits(wall_seconds=20, cpu_seconds=20, memory_mb=2048)


@dataclass(frozen=True)
class Case:
    name: str
    body: str
    expect: str  # text the failure must contain (the error or the limit)
    prelude: str = ""
    limits: Limits = SANDBOX_LIMITS


NET = "import socket\nimport urllib.request\nimport logging\nimport importlib"
CASES = [
    Case("socket-connect", """
         socket.create_connection(("127.0.0.1", PORT), 2)
         raise RuntimeError("LEAKED: connected")""", "Error", NET),
    Case("dns", """
         socket.getaddrinfo("example.com", 443)
         raise RuntimeError("LEAKED: resolved")""", "gaierror", NET),
    Case("urllib", """
         urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2)
         raise RuntimeError("LEAKED: fetched")""", "URLError", NET),
    Case("dunder-import-environ", """
         env = __import__("o" + "s").environ
         raise RuntimeError("environment: " + repr(dict(env)))""", "environment:"),
    Case("proc-self-environ", """
         raise RuntimeError(print.__self__.open("/proc/self/environ").read())""", "RuntimeError"),
    Case("importlib-git-credentials", """
         os = importlib.import_module("os")
         for path in (os.path.expanduser("~/.git-credentials"), HOME + "/.git-credentials"):
             try:
                 print.__self__.open(path).read()
                 raise RuntimeError("LEAKED: " + open(path).read())
             except FileNotFoundError:
                 pass
         raise FileNotFoundError("no credentials")""", "no credentials", NET),
    Case("ssh-key-via-logging-sys", """
         os = getattr(logging, "sy" + "s").modules["o" + "s"]
         raise RuntimeError(os.listdir(HOME + "/.ssh"))""", "FileNotFoundError", NET),
    Case("repo-git-config", """
         raise RuntimeError(print.__self__.open(REPO + "/.git/config").read())""",
         "FileNotFoundError"),
    Case("repo-walk-up", """
         import pathlib
         here = pathlib.Path(__file__).resolve()
         found = [str(p) for p in here.parents if (p / ".git").exists()]
         raise RuntimeError(f"LEAKED: {found}" if found else "no repository above")""",
         "no repository above"),
    Case("shared-data", """
         raise RuntimeError(__import__("os").listdir("/work/shared/data"))""",
         "FileNotFoundError"),
    Case("alphaloop-data", """
         import alphaloop.data.synthetic
         raise RuntimeError("LEAKED: imported alphaloop.data")""", "ModuleNotFoundError"),
    Case("alphaloop-harness", """
         importlib.import_module("alphaloop.harness")
         raise RuntimeError("LEAKED: imported the harness")""", "ModuleNotFoundError", NET),
    Case("write-outside-scratch", """
         try:  # inside, this path is on the sandbox's private /tmp: never the host's
             print.__self__.open(REPO + "/pwned", "w").write("x")
         except OSError:
             pass
         for path in ("/etc/pwned", __file__, "/opt/alphaloop/code/x.py", "/usr/pwned"):
             try:
                 print.__self__.open(path, "w").write("x")
                 raise RuntimeError("LEAKED: wrote " + path)
             except OSError:
                 pass
         raise PermissionError("every write refused")""", "every write refused"),
    Case("infinite-loop", """
         while True:
             pass""", "wall-time", limits=Limits(wall_seconds=3, cpu_seconds=30)),
    Case("memory-bomb", """
         hoard = []
         while True:
             hoard.append(bytearray(64 * 2**20))""", "Memory",
         limits=Limits(wall_seconds=30, memory_mb=1024)),
    Case("fork-and-allocate", """
         os = __import__("os")
         children = []
         for _ in range(5):
             pid = os.fork()
             if pid == 0:
                 block = bytearray(2**30)
                 __import__("time").sleep(4)
                 os._exit(0)
             children.append(pid)
         for pid in children:
             os.waitpid(pid, 0)""", "memory (2048 MB for the whole sandbox)",
         limits=Limits(wall_seconds=60, memory_mb=2048)),
]


def _run(root: Path, case: Case, panel, scratch: Path,
         box: Sandbox | None = None) -> StrategyFailed | None:
    box = box or ProcessSandbox(case.limits)
    with SandboxedStrategy(box, checkout=root, scratch=scratch) as strategy:
        try:
            for position in (100, 110):
                view = panel.view(position, 60)
                strategy.decide(view, PortfolioState(as_of=view.as_of, weights={}, cash=1.0,
                                                     value=1.0, peak_value=1.0))
        except StrategyFailed as failure:
            return failure
    return None


def _source(case: Case, canaries: Canaries, port: int) -> tuple[str, str]:
    prelude = (f"{case.prelude}\nPORT = {port}\nHOME = {str(canaries.home)!r}\n"
               f"REPO = {str(canaries.repo)!r}")
    return case.body, prelude


@pytest.mark.parametrize("layers", ["sandbox-alone", "ast-and-sandbox"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_code_is_contained(case: Case, layers: str, canaries: Canaries, listener,
                                   small_panel, tmp_path: Path) -> None:
    port, accepted = listener
    body, prelude = _source(case, canaries, port)
    # the checkout sits inside the repository, as the review's does
    root = hostile_checkout(canaries.repo / ".git" / "alphaloop" / "checkouts" / case.name,
                            body, prelude=prelude)
    if layers == "ast-and-sandbox":
        blocking = [f for f in check_strategy_package(root, load_policies(PROJECT))
                    if f.severity >= 3]
        if blocking:  # the lint layer caught it; the code never runs
            assert all(f.check.startswith("ast.") for f in blocking)
            return
    failure = _run(root, case, small_panel, tmp_path / "scratch")
    assert failure is not None, f"{case.name} ran to the end: not contained"
    text = f"{failure}\n{failure.detail}"
    assert case.expect in text
    assert "LEAKED" not in str(failure)  # (the detail quotes the source line)
    assert canaries.found_in(text) == []
    assert accepted == []  # nothing reached the host's server
    assert (canaries.repo / "pwned").exists() is False


def test_a_gigabyte_stderr_line_stops_the_sandbox_and_the_parent_stays_small(
        small_panel, tmp_path: Path) -> None:
    root = hostile_checkout(tmp_path / "co", """
        import logging
        logging.sys.stderr.write("x" * 2**30)
        logging.sys.stderr.flush()""")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    failure = _run(root, Case("flood", "", "", limits=Limits(wall_seconds=60, memory_mb=4096)),
                   small_panel, tmp_path / "scratch")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert failure is not None and failure.limit is not None
    assert failure.limit.startswith("output")
    assert "output" in str(failure) and len(str(failure)) < 10_000
    assert grown < 150 * 1024, f"the parent grew by {grown / 1024:.0f} MB"


def test_fork_bomb_hits_the_process_limit(small_panel, tmp_path: Path) -> None:
    box = ProcessSandbox(Limits(wall_seconds=30, max_processes=32))
    if box.isolation.process_limit != "cgroup":
        pytest.skip("no pids cgroup on this machine")
    root = hostile_checkout(tmp_path / "co", """
        os = __import__("os")
        for _ in range(200):
            if os.fork() == 0:
                __import__("time").sleep(3)
                os._exit(0)""")
    failure = _run(root, Case("bomb", "", "", limits=box.limits), small_panel,
                   tmp_path / "scratch")
    assert failure is not None and failure.limit == "processes (32)"
