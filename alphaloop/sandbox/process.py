"""The process sandbox: bubblewrap namespaces, a minimal filesystem and whole-sandbox limits.

``ProcessSandbox`` runs a command under ``bwrap`` with every namespace unshared (so no
network: the sandbox has only its own loopback) on an empty, read-only root holding only
what a strategy needs: the system libraries (``/usr``, ``/lib*``), the interpreter with
its standard library (its ``site-packages`` hidden), the allowed third-party libraries
and ``alphaloop.contract`` (see :mod:`alphaloop.sandbox._runtime`), the directories the
caller names read-only, one writable scratch directory, a private ``/tmp``, ``/proc`` and
``/dev``. No repository, no home directory, no data files. The checkout (the command's
working directory) appears as ``/sandbox/checkout`` and the scratch directory (also
``$HOME``) as ``/sandbox/scratch``, so no host path shows inside. The environment is rebuilt
from a short allowlist (no tokens, no keys).

Limits hold for the sandbox as a whole: a memory and a pids cgroup take every process of
one sandbox (falling back to ``RLIMIT_AS`` / ``RLIMIT_NPROC``, which root ignores, and
:class:`~alphaloop.sandbox.base.Isolation` says which held); ``RLIMIT_CPU`` per process;
a wall-clock deadline (the per-command limit, or the shorter remaining time of a budget
opened with :meth:`budget`) that kills the whole process tree; output read in bounded
chunks, the excess drained and discarded, the sandbox stopped past a hard cap.

``UnsandboxedRunner`` applies the same limits and environment without namespaces; it is
only used when the user asked for it explicitly.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from alphaloop.sandbox._cgroup import SandboxCgroups
from alphaloop.sandbox._output import BoundedReader
from alphaloop.sandbox._runtime import (
    DEFAULT_LIBRARIES,
    SANDBOX_CHECKOUT,
    SANDBOX_SCRATCH,
    SYSTEM_PATHS,
    Runtime,
    python_runtime,
)
from alphaloop.sandbox.base import (
    Isolation,
    Limits,
    Sandbox,
    SandboxError,
    SandboxResult,
    SandboxUnavailable,
    engine_lost,
)
from alphaloop.sandbox.redact import redact

__all__ = ["ProcessSandbox", "RunningProcess", "UnsandboxedRunner", "open_sandbox",
           "sandbox_env"]

_ENV_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def sandbox_env(scratch: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a sandboxed command gets: an allowlist, never secrets."""
    env = {k: os.environ[k] for k in _ENV_PASSTHROUGH if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({
        "HOME": str(scratch),
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    })
    env.update(extra or {})
    return env


def _limiter(limits: Limits, cgroups: SandboxCgroups) -> Callable[[], None]:
    memory = limits.memory_mb * 1024 * 1024

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        cgroups.join(os.getpid())

    return apply


class RunningProcess:
    """A sandboxed command started by ``spawn``; ``terminate`` kills its whole tree."""

    def __init__(self, popen: subprocess.Popen[bytes], cgroups: SandboxCgroups,
                 limits: Limits, deadline: float, deadline_name: str) -> None:
        self.popen = popen
        self.cgroups = cgroups
        self.limits = limits
        self.deadline = deadline
        self.deadline_name = deadline_name
        self.timed_out = False
        self.output_exceeded = False
        self._limit: str | None = None

    def group_limit_hit(self) -> str | None:
        """``"memory"`` or ``"processes"`` if the sandbox-wide limit killed a process or
        refused a fork so far (the command may still run), else None."""
        return self.cgroups.limit_hit()

    def engine_failure(self) -> str | None:
        """Why the machinery under the command failed, if it did (a process needs none:
        the kernel runs it), else None. Asked when the command ended unexpectedly."""
        return None

    def limit_hit(self) -> str | None:
        """The limit that stopped the command: memory, processes, CPU time, wall time,
        output - or None. Read it after the process has ended."""
        if self._limit is None:
            self._limit = self._which_limit()
        return self._limit

    def _which_limit(self) -> str | None:
        if self.output_exceeded:
            return f"output (more than {self.limits.max_output_total_bytes} bytes)"
        if self.timed_out:
            return self.deadline_name
        cgroup = self.group_limit_hit()
        if cgroup == "memory":
            return f"memory ({self.limits.memory_mb} MB for the whole sandbox)"
        code = self.popen.returncode
        if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return f"CPU time ({self.limits.cpu_seconds} s)"
        if cgroup == "processes":
            return f"processes ({self.limits.max_processes})"
        return None

    def kill(self) -> None:
        """Kill every process of the sandbox, leaving pipes and cgroups for inspection."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.popen.kill()
        self.cgroups.kill_all()

    def terminate(self) -> None:
        self.kill()
        self.popen.wait()
        self.limit_hit()  # read the cgroup counters before the groups go
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        self.cgroups.remove()


class _Runner(ABC):
    """Shared process handling: limits, environment, deadlines, bounded output."""

    def __init__(self, limits: Limits | None = None, *,
                 libraries: tuple[str, ...] = DEFAULT_LIBRARIES) -> None:
        self.limits = limits or Limits()
        self.libraries = tuple(libraries)
        self._cgroup_kinds: tuple[bool, bool] | None = None
        self._budget: tuple[float, float] | None = None  # (deadline, seconds)

    @abstractmethod
    def _describe(self, process_limit: str, memory_limit: str) -> Isolation:
        """The isolation this backend enforces."""

    @property
    def runtime(self) -> Runtime:
        return python_runtime(self.libraries)

    def python_command(self, root: Path, *, module: str | None = None,
                       code: str | None = None, args: Sequence[str] = ()) -> list[str]:
        """The command that runs ``module`` or ``code`` in this backend's Python, with only
        the contract, the allowed libraries and ``root`` (last) importable."""
        return self.runtime.command(Path(root).resolve(), module=module, code=code,
                                    args=tuple(args), sandboxed=self.sandboxed)

    @property
    def sandboxed(self) -> bool:
        return True

    @property
    def isolation(self) -> Isolation:
        """What this backend enforces. Which limits a cgroup holds is what the last command
        got; before the first command, what the cgroup hierarchy allows (read, not tried:
        reading this never creates a cgroup)."""
        kinds = self._cgroup_kinds or SandboxCgroups.available()
        return self._isolation(*kinds)

    def _isolation(self, memory: bool, pids: bool) -> Isolation:
        return self._describe("cgroup" if pids else "rlimit", "cgroup" if memory else "rlimit")

    # -- wall time ------------------------------------------------------------------------
    @contextlib.contextmanager
    def budget(self, seconds: float) -> Iterator[None]:
        """Share one wall-time budget among every command started inside the block
        (e.g. all backtests of one review); nested budgets keep the shorter one."""
        previous = self._budget
        deadline = time.monotonic() + seconds
        if previous is None or deadline < previous[0]:
            self._budget = (deadline, seconds)
        try:
            yield
        finally:
            self._budget = previous

    def deadline(self) -> tuple[float, str]:
        """When a command started now must end, and the name of the limit that says so."""
        own = time.monotonic() + self.limits.wall_seconds
        if self._budget is not None and self._budget[0] < own:
            return self._budget[0], f"wall-time (the review's budget of {self._budget[1]:g} s)"
        return own, f"wall-time ({self.limits.wall_seconds:g} s)"

    # -- running --------------------------------------------------------------------------
    @abstractmethod
    def spawn(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
              readonly: Sequence[Path] = (),
              env: Mapping[str, str] | None = None) -> RunningProcess:
        """Start ``argv`` in the sandbox with pipes on stdin, stdout and stderr."""

    def run(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
            readonly: Sequence[Path] = (), env: Mapping[str, str] | None = None,
            stdin: bytes | None = None) -> SandboxResult:
        started = time.monotonic()
        proc = self.spawn(argv, workdir=workdir, scratch=scratch, readonly=readonly, env=env)
        cap = self.limits.max_output_bytes
        out = BoundedReader(cap, keep="head", hard_cap=self.limits.max_output_total_bytes)
        err = BoundedReader(cap, keep="tail", hard_cap=self.limits.max_output_total_bytes)
        try:
            assert proc.popen.stdin is not None
            assert proc.popen.stdout is not None and proc.popen.stderr is not None
            _feed_stdin(proc.popen.stdin, stdin)
            streams = {proc.popen.stdout.fileno(): out, proc.popen.stderr.fileno(): err}
            BoundedReader.pump(streams, deadline=proc.deadline,
                               on_excess=lambda: _over_output(proc),
                               on_timeout=lambda: _timed_out(proc))
            proc.popen.wait()
            gone = proc.engine_failure() if proc.popen.returncode else None
            if gone is not None:
                raise engine_lost(gone, "a sandboxed command ran")
        finally:
            proc.terminate()
        return SandboxResult(
            argv=tuple(argv), returncode=proc.popen.returncode, timed_out=proc.timed_out,
            stdout=redact(out.text(), limit=cap), stderr=redact(err.text(), limit=cap),
            duration_s=time.monotonic() - started,
            isolation=self._result_isolation(proc),
            limit=proc.limit_hit(), output_truncated=out.truncated or err.truncated,
        )

    def _result_isolation(self, proc: RunningProcess) -> Isolation:
        """What held for the command ``proc`` ran."""
        return self._isolation(proc.cgroups.memory is not None, proc.cgroups.pids is not None)


def _feed_stdin(stream: object, data: bytes | None) -> None:
    import threading

    def write() -> None:
        with contextlib.suppress(OSError, ValueError):
            if data:
                stream.write(data)  # type: ignore[attr-defined]
            stream.close()  # type: ignore[attr-defined]

    threading.Thread(target=write, daemon=True).start()


def _over_output(proc: RunningProcess) -> None:
    proc.output_exceeded = True
    proc.kill()


def _timed_out(proc: RunningProcess) -> None:
    proc.timed_out = True
    proc.kill()


class _CommandRunner(_Runner):
    """A backend that runs a command line wrapping ``argv`` (bubblewrap, or nothing)."""

    @abstractmethod
    def wrap(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
             readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        """The command line that runs ``argv`` under this backend."""

    def spawn(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
              readonly: Sequence[Path] = (),
              env: Mapping[str, str] | None = None) -> RunningProcess:
        scratch.mkdir(parents=True, exist_ok=True)
        full_env = sandbox_env(scratch, env)
        command = self.wrap(argv, workdir=workdir, scratch=scratch, readonly=readonly,
                            env=full_env)
        deadline, name = self.deadline()
        if deadline <= time.monotonic():
            raise SandboxError(f"no time left: the {name} is used up")
        cgroups = SandboxCgroups.create(memory_bytes=self.limits.memory_mb << 20,
                                        max_pids=self.limits.max_processes)
        self._cgroup_kinds = (cgroups.memory is not None, cgroups.pids is not None)
        try:
            popen = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=workdir, env=full_env,
                preexec_fn=_limiter(self.limits, cgroups),
                start_new_session=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            cgroups.remove()
            raise SandboxError(f"could not start {command[0]}: {exc}") from exc
        return RunningProcess(popen, cgroups, self.limits, deadline, name)


class ProcessSandbox(_CommandRunner):
    """Bubblewrap: no network, a minimal read-only filesystem, scratch dir, limits."""

    def __init__(self, limits: Limits | None = None, *, bwrap: str | None = None,
                 libraries: tuple[str, ...] = DEFAULT_LIBRARIES) -> None:
        super().__init__(limits, libraries=libraries)
        self.bwrap = bwrap or shutil.which("bwrap") or ""

    def check(self) -> None:
        """Raise :class:`SandboxUnavailable` unless bubblewrap works here."""
        if not self.bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed, so strategy code cannot be sandboxed. "
                "Install it (Debian: apt-get install bubblewrap), or pass "
                "--allow-unsandboxed to run strategy code without isolation.")
        probe = subprocess.run(
            [self.bwrap, *_system_mounts(), "--unshare-all", "--die-with-parent", "true"],
            capture_output=True, text=True, check=False, timeout=30)
        if probe.returncode != 0:
            raise SandboxUnavailable(
                f"bubblewrap is installed but cannot create namespaces here "
                f"({probe.stderr.strip() or probe.returncode}). Run as root or enable user "
                "namespaces, or pass --allow-unsandboxed to run without isolation.")

    def wrap(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
             readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        # /tmp is an empty tmpfs, mounted before the interpreter's binds so that an
        # interpreter living under /tmp (a virtual environment there) stays visible.
        cmd = [self.bwrap, *_system_mounts(), "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp"]
        for source, target in self.runtime.binds:
            cmd += ["--ro-bind", source, target]
        for path in readonly:
            resolved = str(Path(path).resolve())
            cmd += ["--ro-bind", resolved, resolved]
        # the checkout and the scratch dir appear under fixed names: no host path inside
        cmd += ["--ro-bind", str(Path(workdir).resolve()), SANDBOX_CHECKOUT,
                "--bind", str(scratch.resolve()), SANDBOX_SCRATCH, "--remount-ro", "/",
                "--unshare-all", "--die-with-parent", "--new-session",
                "--chdir", SANDBOX_CHECKOUT, "--clearenv"]
        host_scratch = str(scratch)
        for key, value in env.items():
            cmd += ["--setenv", key, SANDBOX_SCRATCH if value == host_scratch else value]
        return [*cmd, "--", *argv]

    def _describe(self, process_limit: str, memory_limit: str) -> Isolation:
        notes = ("all namespaces unshared (net, pid, ipc, uts, user, cgroup)",
                 "filesystem: system libraries, the interpreter, the allowed libraries "
                 "and alphaloop.contract, the checkout, a scratch dir; no repository, "
                 "home or data files",
                 "environment rebuilt from an allowlist",
                 "memory bounded per sandbox by a cgroup" if memory_limit == "cgroup" else
                 "memory bounded per process by RLIMIT_AS only (no memory cgroup here)")
        return Isolation(backend="bubblewrap", network="none", filesystem="read-only",
                         process_limit=process_limit, memory_limit=memory_limit,  # type: ignore[arg-type]
                         limits=self.limits, notes=notes)


def _system_mounts() -> list[str]:
    args: list[str] = []
    for name in SYSTEM_PATHS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.exists():
            args += ["--ro-bind", name, name]
    return args


class UnsandboxedRunner(_CommandRunner):
    """Limits and a clean environment, but no namespaces: network and files are open."""

    @property
    def sandboxed(self) -> bool:
        return False

    def wrap(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
             readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        return list(argv)

    def _describe(self, process_limit: str, memory_limit: str) -> Isolation:
        return Isolation(backend="none", network="host", filesystem="writable",
                         process_limit=process_limit, memory_limit=memory_limit,  # type: ignore[arg-type]
                         limits=self.limits,
                         notes=("run without isolation at the user's explicit request",))


def open_sandbox(kind: str = "process", *, limits: Limits | None = None,
                 allow_unsandboxed: bool = False,
                 libraries: tuple[str, ...] = DEFAULT_LIBRARIES,
                 ) -> Sandbox:
    """The sandbox for ``kind``; refuses to fall back to no isolation unless allowed.

    Callers get the :class:`~alphaloop.sandbox.base.Sandbox` protocol, whichever backend
    runs: :class:`ProcessSandbox` (bubblewrap), ``DockerSandbox`` (``kind="docker"``,
    never replaced by another backend) or, only when allowed, :class:`UnsandboxedRunner`.
    """
    if kind == "none":
        if not allow_unsandboxed:
            raise SandboxUnavailable(
                "running strategy code without a sandbox needs the explicit "
                "--allow-unsandboxed flag")
        return UnsandboxedRunner(limits, libraries=libraries)
    if kind == "docker":  # never falls back: the user asked for this isolation
        from alphaloop.sandbox.docker_sandbox import DockerSandbox

        docker_box = DockerSandbox(limits, libraries=libraries)
        docker_box.check()
        return docker_box
    if kind != "process":
        raise SandboxUnavailable(
            f"unknown sandbox {kind!r}; choose 'process', 'docker' or 'none'")
    sandbox = ProcessSandbox(limits, libraries=libraries)
    try:
        sandbox.check()
    except SandboxUnavailable:
        if allow_unsandboxed:
            return UnsandboxedRunner(limits, libraries=libraries)
        raise
    return sandbox
