"""Reaching the Docker engine: one client, clear errors, and the sandbox's labels.

Every container the sandbox makes carries :data:`SANDBOX_LABEL` and an owner label
(host name and process id); :func:`remove_stale_containers` removes those whose owner is
gone, so a killed run leaves nothing behind for long.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import TYPE_CHECKING

from alphaloop.sandbox.base import SandboxUnavailable

if TYPE_CHECKING:
    import docker

__all__ = ["OWNER_LABEL", "SANDBOX_LABEL", "close_clients", "docker_client", "engine_gone",
           "engine_refuses", "owner", "remove_stale_containers"]

SANDBOX_LABEL = "org.alphaloop.sandbox"
OWNER_LABEL = "org.alphaloop.owner"

_START_HINT = ("Start the engine (as root: `dockerd >/tmp/dockerd.log 2>&1 &`, or "
               "`systemctl start docker`), check `docker info` answers, or run strategy "
               "code with the process sandbox instead (`--sandbox process`).")


# one client per engine address (DOCKER_HOST and its TLS settings) for the whole process
_clients: dict[tuple[str, ...], docker.DockerClient] = {}


def docker_client() -> docker.DockerClient:
    """A client for the engine named by the environment (``DOCKER_HOST``) that answers.

    One client per engine address serves the whole process (its connections are reused,
    not leaked per sandbox). Raises :class:`SandboxUnavailable` saying how to start the
    engine when none answers.
    """
    from docker.errors import DockerException

    address = tuple(os.environ.get(k, "") for k in
                    ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"))
    _probe_unix_socket(address[0] or "unix:///var/run/docker.sock")
    client = _client(address)
    try:
        client.ping()
    except (DockerException, OSError) as exc:
        _clients.pop(address, None)
        client.close()
        raise SandboxUnavailable(
            f"the Docker sandbox was asked for, but no Docker engine answers ({_short(exc)}). "
            + _START_HINT) from None
    return client


def close_clients() -> None:
    """Close the clients :func:`docker_client` keeps, one per engine address (a process
    that is done with an engine, or whose engine went away, frees their connections)."""
    for key in list(_clients):
        with contextlib.suppress(Exception):
            _clients.pop(key).close()


def engine_gone(client: docker.DockerClient) -> str | None:
    """Why the engine behind ``client`` no longer answers ("the Docker engine stopped
    answering (...)"), or None while it does. Asked after a command ended unexpectedly:
    a dead engine is the machine's failure, not the code's."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    refused = engine_refuses(client)
    if refused is None:
        try:
            client.api.ping()
        except (DockerException, RequestException, OSError) as exc:
            refused = _short(exc)
    return None if refused is None else f"the Docker engine stopped answering ({refused})"


def engine_refuses(client: docker.DockerClient) -> str | None:
    """Why the unix socket of the engine behind ``client`` refuses connections, else None
    (also None for an engine over TCP). Cheap: asked before calls that must not leak a
    socket into a dead engine, since the SDK leaves the socket of a refused connection
    open."""
    host = next((key[0] for key, known in _clients.items() if known is client), "")
    return _unix_refusal(host or "unix:///var/run/docker.sock")


def _probe_unix_socket(host: str) -> None:
    """Fail clearly, and without leaking a socket, when a unix socket takes no calls."""
    refused = _unix_refusal(host)
    if refused is not None:
        raise SandboxUnavailable(
            f"the Docker sandbox was asked for, but no Docker engine answers at "
            f"{host.removeprefix('unix://')} ({refused}). " + _START_HINT)


def _unix_refusal(host: str) -> str | None:
    """Why a ``unix://`` engine socket refuses a connection, else None. The SDK leaks
    the socket of a refused connection; this probe closes its own."""
    if not host.startswith("unix://"):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect(host.removeprefix("unix://"))
        except OSError as exc:
            return str(exc.strerror or exc)
    return None


def _client(address: tuple[str, ...]) -> docker.DockerClient:
    import docker

    if address in _clients:
        return _clients[address]
    try:  # "auto": speak the engine's API version, older engines included
        client = docker.from_env(version="auto", timeout=120)
    except (docker.errors.DockerException, OSError) as exc:
        raise SandboxUnavailable(
            f"the Docker sandbox was asked for, but no Docker engine answers "
            f"({_short(exc)}). " + _START_HINT) from None
    _clients[address] = client
    return client


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def owner() -> str:
    """This process as a container owner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(value: str) -> bool:
    host, _, pid = value.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's (or a malformed) owner: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_containers(client: docker.DockerClient) -> list[str]:
    """Remove the sandbox's containers whose owning process on this host has ended."""
    from docker.errors import DockerException

    removed: list[str] = []
    with contextlib.suppress(DockerException):
        for container in client.containers.list(all=True, filters={"label": SANDBOX_LABEL}):
            if _owner_alive(container.labels.get(OWNER_LABEL, "")):
                continue
            with contextlib.suppress(DockerException):
                container.remove(force=True)
                removed.append(container.id)
    return removed
