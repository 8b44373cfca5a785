"""The Docker sandbox: each command in its own hardened, throw-away container.

``DockerSandbox`` implements the :class:`~alphaloop.sandbox.base.Sandbox` protocol on a
Docker engine. Every container runs the backtest image (see
:mod:`alphaloop.sandbox.images`) or a deploy image, with

* no network (``network_mode=none``: only its own loopback);
* a read-only root file system; the checkout mounted read-only at ``/sandbox/checkout``
  (or baked into a deploy image, ``baked_checkout=True``); size-bounded tmpfs at
  ``/sandbox/scratch`` (also ``$HOME``) and ``/tmp``, which vanish with the container;
* an unprivileged user (uid 10001), every capability dropped, ``no-new-privileges``,
  a private IPC namespace and an init process that reaps orphans;
* a pids limit, a memory limit with swap equal to it, a CPU share (``nano_cpus``) and
  ``RLIMIT_CPU``, and the same wall-clock deadline as the process sandbox, after which
  the container is killed and removed;
* an environment rebuilt from the same allowlist as the process sandbox (no secrets).

Containers are created and inspected with the docker SDK; the conversation runs over
the pipes of ``docker start --attach --interactive`` (the ``popen`` callers talk to),
which keeps stdout and stderr apart. Every container is labelled ``org.alphaloop.sandbox``
and removed when its command ends; ones left by a killed process are removed the next
time a sandbox is opened. Which limit stopped a command comes from the container's
state (``OOMKilled``) and its cgroup's counters (OOM kills, refused forks).
"""

from __future__ import annotations

import contextlib
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from alphaloop.sandbox._cgroup import _read_counter
from alphaloop.sandbox._runtime import (
    BOOTSTRAP,
    DEFAULT_LIBRARIES,
    SANDBOX_CHECKOUT,
    SANDBOX_CODE,
    SANDBOX_SCRATCH,
    SANDBOX_SITE,
)
from alphaloop.sandbox.base import (
    Isolation,
    Limits,
    SandboxError,
    SandboxUnavailable,
    engine_lost,
)
from alphaloop.sandbox.docker_engine import (
    OWNER_LABEL,
    SANDBOX_LABEL,
    docker_client,
    engine_gone,
    engine_refuses,
    owner,
    remove_stale_containers,
)
from alphaloop.sandbox.process import RunningProcess, _Runner, sandbox_env

if TYPE_CHECKING:
    import docker

__all__ = ["SANDBOX_USER", "DockerSandbox", "RunningContainer"]

#: The unprivileged user every container runs as.
SANDBOX_USER = "10001:10001"
#: The interpreter inside the images (a link the backtest image makes).
IMAGE_PYTHON = "/opt/alphaloop/python"
_PATH = "/usr/local/bin:/usr/bin:/bin"
_CGROUP_ROOT = Path("/sys/fs/cgroup")


class DockerSandbox(_Runner):
    """Hardened containers on a Docker engine; see the module docstring.

    ``image`` defaults to the backtest image built for this version of AlphaLoop
    (``alphaloop sandbox build``). With ``baked_checkout=True`` the image already holds
    the strategy at ``/sandbox/checkout`` (a deploy image) and the work directory given
    to :meth:`run` / :meth:`spawn` is not mounted. ``labels`` are added to every
    container's (e.g. to tell a deployment's containers from reviews' backtests).
    """

    def __init__(self, limits: Limits | None = None, *, image: str | None = None,
                 baked_checkout: bool = False,
                 libraries: tuple[str, ...] = DEFAULT_LIBRARIES, cpus: float = 1.0,
                 scratch_mb: int = 256, tmp_mb: int = 64,
                 labels: Mapping[str, str] | None = None,
                 client: docker.DockerClient | None = None) -> None:
        super().__init__(limits, libraries=libraries)
        if cpus <= 0 or scratch_mb <= 0 or tmp_mb <= 0:
            raise ValueError("cpus, scratch_mb and tmp_mb must be positive")
        self.image = image
        self.baked_checkout = baked_checkout
        self.cpus = cpus
        self.scratch_mb = scratch_mb
        self.tmp_mb = tmp_mb
        self.labels = dict(labels or {})
        self._client = client
        self._cli = shutil.which("docker") or ""
        self._checked = False

    # -- availability -----------------------------------------------------------------
    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def check(self) -> None:
        """Raise :class:`SandboxUnavailable` unless the engine answers and the image exists."""
        from docker.errors import ImageNotFound

        from alphaloop.sandbox.images import require_backtest_image

        client = self.client
        if not self._cli:
            raise SandboxUnavailable(
                "the docker command-line client is missing (the sandbox talks to its "
                "containers through `docker start --attach`): install it (Debian: "
                "apt-get install docker.io), or use `--sandbox process`")
        if self.image is None:
            self.image = require_backtest_image(client, self.libraries)
        else:
            try:
                client.images.get(self.image)
            except ImageNotFound:
                build = ("build it with `alphaloop sandbox build`" if not self.baked_checkout
                         else "build it with build_deploy_image() for that commit")
                raise SandboxUnavailable(
                    f"the sandbox image {self.image} is not on this machine: {build}, "
                    "or use `--sandbox process`") from None
        remove_stale_containers(client)
        self._checked = True

    # -- what a command sees ----------------------------------------------------------
    def python_command(self, root: Path, *, module: str | None = None,
                       code: str | None = None, args: Sequence[str] = ()) -> list[str]:
        """The image's interpreter running ``module`` or ``code`` with the contract, the
        allowed libraries and the checkout (last) importable; ``root`` is the work
        directory given to :meth:`spawn`, which appears at ``/sandbox/checkout``."""
        if (module is None) == (code is None):
            raise ValueError("give exactly one of module and code")
        mode, target = ("-m", module) if module is not None else ("-c", code)
        return [IMAGE_PYTHON, "-s", "-S", "-P", "-c", BOOTSTRAP,
                f"{SANDBOX_CODE}:{SANDBOX_SITE}", SANDBOX_CHECKOUT, mode, str(target), *args]

    @property
    def isolation(self) -> Isolation:
        return self._describe("cgroup", "cgroup")

    def _result_isolation(self, proc: object) -> Isolation:
        return self.isolation

    def _describe(self, process_limit: str, memory_limit: str) -> Isolation:
        notes = (f"container of image {self.image or '(the backtest image)'}",
                 "network none (own loopback only); read-only root file system",
                 "checkout baked into the image" if self.baked_checkout else
                 "checkout mounted read-only",
                 f"tmpfs scratch {self.scratch_mb} MB and /tmp {self.tmp_mb} MB, "
                 "discarded with the container",
                 f"user {SANDBOX_USER}, all capabilities dropped, no-new-privileges",
                 f"pids {self.limits.max_processes}, memory {self.limits.memory_mb} MB "
                 f"(no swap), {self.cpus:g} CPU, RLIMIT_CPU {self.limits.cpu_seconds} s",
                 "environment rebuilt from an allowlist")
        return Isolation(backend="docker", network="none", filesystem="read-only",
                         process_limit="cgroup", memory_limit="cgroup", limits=self.limits,
                         notes=notes)

    # -- running ----------------------------------------------------------------------
    def _host_config(self, workdir: Path, readonly: Sequence[Path]) -> dict[str, object]:
        from docker.types import LogConfig, Ulimit

        binds: dict[str, dict[str, str]] = {}
        if not self.baked_checkout:
            _require_readable(workdir)
            binds[str(workdir.resolve())] = {"bind": SANDBOX_CHECKOUT, "mode": "ro"}
        for path in readonly:
            resolved = str(Path(path).resolve())
            binds[resolved] = {"bind": resolved, "mode": "ro"}
        memory = f"{self.limits.memory_mb}m"
        return self.client.api.create_host_config(
            log_config=LogConfig(type=LogConfig.types.NONE),  # output only over the pipes
            binds=binds, network_mode="none", read_only=True, init=True, ipc_mode="private",
            tmpfs={SANDBOX_SCRATCH: f"rw,nosuid,nodev,size={self.scratch_mb}m,mode=1777",
                   "/tmp": f"rw,nosuid,nodev,size={self.tmp_mb}m,mode=1777"},
            cap_drop=["ALL"], security_opt=["no-new-privileges"],
            pids_limit=self.limits.max_processes, mem_limit=memory, memswap_limit=memory,
            nano_cpus=int(self.cpus * 1e9),
            ulimits=[Ulimit(name="cpu", soft=self.limits.cpu_seconds,
                            hard=self.limits.cpu_seconds + 5),
                     Ulimit(name="core", soft=0, hard=0)])

    def spawn(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
              readonly: Sequence[Path] = (),
              env: Mapping[str, str] | None = None) -> RunningContainer:
        if not self._checked:
            self.check()
        scratch.mkdir(parents=True, exist_ok=True)
        deadline, name = self.deadline()
        if deadline <= time.monotonic():
            raise SandboxError(f"no time left: the {name} is used up")
        host_scratch = str(scratch)  # a value naming it means the container's scratch
        environment = sandbox_env(Path(SANDBOX_SCRATCH), {
            k: SANDBOX_SCRATCH if v == host_scratch else v for k, v in (env or {}).items()})
        environment["PATH"] = _PATH
        refused = engine_refuses(self.client)
        if refused is not None:
            raise engine_lost(f"the Docker engine stopped answering ({refused})",
                              "a sandbox was starting")
        api = self.client.api
        try:
            created = api.create_container(
                self.image, command=list(argv), stdin_open=True, detach=False,
                user=SANDBOX_USER, environment=environment, working_dir=SANDBOX_CHECKOUT,
                labels={**self.labels, SANDBOX_LABEL: "1", OWNER_LABEL: owner()},
                host_config=self._host_config(Path(workdir), readonly))
        except _engine_errors() as exc:
            gone = engine_gone(self.client)
            if gone is not None:
                raise engine_lost(gone, "a sandbox was starting") from None
            raise SandboxError(f"could not create a sandbox container from "
                               f"{self.image}: {exc}") from exc
        container_id = str(created["Id"])
        try:
            popen = subprocess.Popen(
                [self._cli, "start", "--attach", "--interactive", container_id],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True)
        except OSError as exc:
            with contextlib.suppress(*_engine_errors()):
                api.remove_container(container_id, force=True)
            raise SandboxError(f"could not start {self._cli}: {exc}") from exc
        return RunningContainer(popen, self.client, container_id, self.limits, deadline, name)


def _require_readable(workdir: Path) -> None:
    mode = workdir.stat().st_mode
    if not stat.S_ISDIR(mode):
        raise SandboxError(f"{workdir} is not a directory: the sandbox mounts the checkout")
    if mode & 0o005 != 0o005:
        raise SandboxError(
            f"{workdir} is not readable by the sandbox's unprivileged user "
            f"(mode {stat.S_IMODE(mode):04o}): make it readable by others "
            f"(chmod o+rX) or check it out under a umask of 022")


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


class _CgroupWatch:
    """Reads the container's cgroup counters while it runs: OOM kills, refused forks."""

    def __init__(self, client: docker.DockerClient, container_id: str) -> None:
        self.client = client
        self.container_id = container_id
        self.memory = False
        self.pids = False
        self._files: tuple[Path | None, Path | None] | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._watch, daemon=True).start()

    def stop(self) -> None:
        self.read()
        self._done.set()

    def _locate(self) -> tuple[Path | None, Path | None] | None:
        if engine_refuses(self.client):
            return (None, None)
        try:
            state = self.client.api.inspect_container(self.container_id)["State"]
        except _engine_errors():
            return (None, None)
        if state.get("Status") == "created":
            return None  # not started yet: look again
        if not state.get("Running") or not state.get("Pid"):
            return (None, None)  # ended already: nothing left to read
        try:
            lines = Path(f"/proc/{state['Pid']}/cgroup").read_text().splitlines()
        except OSError:
            return (None, None)
        memory = pids = None
        for line in lines:
            _, controllers, path = line.split(":", 2)
            names = controllers.split(",")
            if controllers == "":  # cgroup v2: one group for every controller
                group = _CGROUP_ROOT / path.lstrip("/")
                memory = memory or _existing(group / "memory.events")
                pids = pids or _existing(group / "pids.events")
            elif "memory" in names:
                memory = _existing(_CGROUP_ROOT / "memory" / path.lstrip("/")
                                   / "memory.oom_control") or memory
            elif "pids" in names:
                pids = _existing(_CGROUP_ROOT / "pids" / path.lstrip("/")
                                 / "pids.events") or pids
        return (memory, pids)

    def read(self) -> None:
        with self._lock:
            if self._files is None:
                return
            memory, pids = self._files
            if memory is not None and _read_counter(memory, "oom_kill") > 0:
                self.memory = True
            if pids is not None and _read_counter(pids, "max") > 0:
                self.pids = True

    def _watch(self) -> None:
        started = time.monotonic()
        while not self._done.is_set():
            if self._files is None:
                found = self._locate()
                if found is None and time.monotonic() - started > 60:
                    return
                with self._lock:
                    self._files = found
            self.read()
            self._done.wait(0.2)


class RunningContainer(RunningProcess):
    """A command started by :meth:`DockerSandbox.spawn`; ``terminate`` kills and removes
    its container. Which limit stopped it is read as for a process (``limit_hit``), from
    the container's cgroup counters and state instead of a sandbox cgroup of our own."""

    def __init__(self, popen: subprocess.Popen[bytes], client: docker.DockerClient,
                 container_id: str, limits: Limits, deadline: float,
                 deadline_name: str) -> None:
        # no RunningProcess.__init__: the engine holds the cgroups, not we
        self.popen = popen
        self.client = client
        self.container_id = container_id
        self.limits = limits
        self.deadline = deadline
        self.deadline_name = deadline_name
        self.timed_out = False
        self.output_exceeded = False
        self._watch = _CgroupWatch(client, container_id)
        self._limit: str | None = None
        self._oom_killed: bool | None = None
        self._removed = False

    def group_limit_hit(self) -> str | None:
        self._watch.read()
        if self._watch.memory or self._oom():
            return "memory"
        if self._watch.pids:
            return "processes"
        return None

    def _oom(self) -> bool:
        if self._oom_killed is None and not self._removed \
                and not engine_refuses(self.client):
            with contextlib.suppress(*_engine_errors()):
                state = self.client.api.inspect_container(self.container_id)["State"]
                if not state.get("Running"):
                    self._oom_killed = bool(state.get("OOMKilled"))
        return bool(self._oom_killed)

    def engine_failure(self) -> str | None:
        """``"the Docker engine stopped answering"`` (with the reason) when the engine
        that ran the container is gone, else None: a container the engine still knows
        ended for a reason of its own."""
        return engine_gone(self.client)

    def kill(self) -> None:
        """Kill the container (every process in it); the pipes close as it ends."""
        self._watch.read()
        # the attached client first: while it is blocked writing output nobody reads,
        # the engine would wait for it before killing the container
        if self.popen.poll() is None:
            self.popen.kill()
        if engine_refuses(self.client):
            return  # a dead engine took its containers along
        with contextlib.suppress(*_engine_errors()):
            self.client.api.kill(self.container_id)

    def terminate(self) -> None:
        """Kill the container, read why it ended, close the pipes and remove it."""
        if self._removed:
            return
        self.kill()
        self.popen.wait()
        self._watch.stop()
        self.limit_hit()  # read the state before the container goes
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        if not engine_refuses(self.client):
            with contextlib.suppress(*_engine_errors()):
                self.client.api.remove_container(self.container_id, force=True)
        self._removed = True


def _engine_errors() -> tuple[type[Exception], ...]:
    """What a call to the engine raises when it fails or the engine is gone."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    return DockerException, RequestException, OSError

