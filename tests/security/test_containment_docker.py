"""The hostile corpus of test_containment, run in the Docker sandbox with no static layer.

Each case's code goes straight into a hardened container (the AST policy never sees it)
and must be contained exactly as in the process sandbox: the strategy fails with a
finding naming what stopped it, no canary appears in anything returned, nothing reaches
the host's server, nothing is written outside the container, and no container is left.
Where the container stops a case differently the expectation says so (a memory bomb is
killed by the container's memory limit rather than refused by ``RLIMIT_AS``).
Skipped, saying why, when no Docker engine answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.docker import leftover_containers, sandbox_image

from alphaloop.sandbox import DockerSandbox, Limits
from security.conftest import Canaries, hostile_checkout
from security.test_containment import CASES, Case, _run, _source

#: What the container reports where it differs from the process sandbox.
DOCKER_EXPECT = {"memory-bomb": "memory (1024 MB for the whole sandbox)"}
#: Left to the process sandbox's run: gigabytes in five processes take too long here to
#: repeat, and the container's memory limit is covered by the memory bomb.
SLOW = {"fork-and-allocate"}


@pytest.fixture(autouse=True)
def no_leftovers() -> object:
    sandbox_image()
    yield
    assert leftover_containers() == [], "a sandbox container was left behind"


@pytest.mark.parametrize("case", [c for c in CASES if c.name not in SLOW],
                         ids=lambda c: c.name)
def test_hostile_code_is_contained_by_docker_alone(case: Case, canaries: Canaries, listener,
                                                    small_panel, tmp_path: Path) -> None:
    port, accepted = listener
    body, prelude = _source(case, canaries, port)
    root = hostile_checkout(canaries.repo / ".git" / "alphaloop" / "checkouts" / case.name,
                            body, prelude=prelude)
    failure = _run(root, case, small_panel, tmp_path / "scratch", DockerSandbox(case.limits))
    assert failure is not None, f"{case.name} ran to the end: not contained"
    text = f"{failure}\n{failure.detail}"
    assert DOCKER_EXPECT.get(case.name, case.expect) in text
    assert "LEAKED" not in str(failure)
    assert canaries.found_in(text) == []
    assert accepted == []
    assert (canaries.repo / "pwned").exists() is False


def test_a_flood_on_stderr_stops_the_container(small_panel, tmp_path: Path) -> None:
    root = hostile_checkout(tmp_path / "co", """
        import logging
        logging.sys.stderr.write("x" * 2**26)
        logging.sys.stderr.flush()""")
    limits = Limits(wall_seconds=60, max_output_total_bytes=16 * 2**20)
    failure = _run(root, Case("flood", "", "", limits=limits), small_panel,
                   tmp_path / "scratch", DockerSandbox(limits))
    assert failure is not None and failure.limit is not None
    assert failure.limit.startswith("output") and len(str(failure)) < 10_000
