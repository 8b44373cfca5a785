"""The Docker engine dying under a review is the machine's failure, not the change's.

A proxy stands between the cycle and the real engine (``DOCKER_HOST``) and dies a moment
after Risk's first container attaches, as a crashed ``dockerd`` would look to its
clients. The cycle must stop resumable, with no verdict recorded and ``main`` as it
was; with the engine back, ``--resume`` ends as the uninterrupted cycle did.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git, make_repo
from support.docker import sandbox_image
from support.socket_proxy import EngineProxy

from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.sandbox.docker_engine import close_clients
from faults.crash import Reference, audit_problems, more_cash

RUNS = Path(".git") / "alphaloop" / "runs" / "c0001"


def _remove_containers_of(proxy_requests: list[str]) -> None:
    """The containers the proxy saw created keep running in the real engine (a dead
    engine would have taken them along): remove them through the real socket."""
    import docker

    client = docker.DockerClient(base_url="unix:///var/run/docker.sock")
    try:
        for line in proxy_requests:
            parts = line.split("/containers/")
            if len(parts) < 2:
                continue
            ident = parts[1].split("/")[0].split("?")[0]
            if len(ident) == 64:
                with contextlib.suppress(docker.errors.DockerException):
                    client.api.remove_container(ident, force=True)
    finally:
        client.close()


def test_the_engine_dying_mid_review_stops_the_cycle_resumable(
        tmp_path: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox_image()
    repo = make_repo(tmp_path / "project")  # a cold cache: Risk's backtests must run
    source = more_cash(repo)
    before = git(repo, "rev-parse", "main")
    options = OPTIONS.model_copy(update={"sandbox": "docker"})
    socket_path = tmp_path / "docker.sock"
    proxies = [EngineProxy(socket_path)]
    monkeypatch.setenv("DOCKER_HOST", proxies[0].address)

    def arm(stage: str, note: str) -> None:
        if stage == "risk_review":
            proxies[0].kill_after("/attach", 1.0)

    try:
        with pytest.raises(CycleError) as info:
            run_cycles(repo, options, hypothesis_source=source, on_stage=arm)
        message = str(info.value)
        assert proxies[0].dead.is_set()
        assert "stopped in risk_review" in message
        assert "the Docker engine stopped answering" in message
        assert "--resume" in message
        assert "veto" not in message.lower()
        assert git(repo, "rev-parse", "main") == before
        assert not (repo / RUNS / "risk_review.json").exists()  # no verdict was recorded
        assert (repo / RUNS / "implement.json").exists()  # the finished stages are kept
        assert Ledger(repo).entries() == []

        proxies.append(EngineProxy(socket_path))  # the engine is back
        [summary] = run_cycles(repo, options, resume=True, hypothesis_source=source)
        assert summary.outcome == reference.summary.outcome
        [entry] = Ledger(repo).entries()
        assert entry.records["risk_review"]["verdict"] == "approve"
        assert "docker" in entry.records["risk_review"]["isolation"]
        assert audit_problems(repo) == []
    finally:
        close_clients()  # the clients of the proxy's address: their engine is gone
        for proxy in proxies:
            proxy.kill()
        _remove_containers_of([r for p in proxies for r in p.requests])
