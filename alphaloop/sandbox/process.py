"""The process sandbox: bubblewrap namespaces plus resource limits.

``ProcessSandbox`` runs a command under ``bwrap`` with every namespace unshared (so no
network: the sandbox has only its own loopback), the whole filesystem mounted read-only,
a private ``/tmp``, one writable scratch directory, credential files under ``$HOME``
masked, and an environment rebuilt from a short allowlist (no tokens, no keys). Limits:
``RLIMIT_AS`` (memory), ``RLIMIT_CPU``, a wall-clock timeout that kills the whole process
tree, and a ``pids`` cgroup for the process count (falling back to ``RLIMIT_NPROC``, which
root ignores; :class:`~alphaloop.sandbox.base.Isolation` says which one held).

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
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import alphaloop
from alphaloop.sandbox._cgroup import PidsCgroup
from alphaloop.sandbox.base import (
    Isolation,
    Limits,
    SandboxError,
    SandboxResult,
    SandboxUnavailable,
)

__all__ = ["ProcessSandbox", "RunningProcess", "UnsandboxedRunner", "open_sandbox",
           "sandbox_env"]

_ENV_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_SECRET_PATHS = (".ssh", ".gnupg", ".aws", ".azure", ".config", ".docker", ".kube",
                 ".netrc", ".npmrc", ".pypirc", ".git-credentials", ".gitconfig")


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


def _runtime_under_tmp() -> list[Path]:
    """Interpreter and package directories that the private ``/tmp`` would hide.

    A virtual environment or a checkout of AlphaLoop itself may live under ``/tmp``;
    those directories are bound back, read-only, so the sandboxed Python still runs.
    """
    tmp = Path("/tmp")
    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent,
                  Path(alphaloop.__file__).resolve().parents[1],
                  *(Path(p) for p in sys.path if p)}
    found: list[Path] = []
    for path in sorted(c.resolve() for c in candidates if c.exists()):
        if path.is_relative_to(tmp) and path != tmp and not any(
                path.is_relative_to(kept) for kept in found):
            found.append(path)
    return found


def _limiter(limits: Limits, cgroup: PidsCgroup | None) -> Callable[[], None]:
    memory = limits.memory_mb * 1024 * 1024

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        if cgroup is not None:
            with open(cgroup.join_path(), "w") as handle:
                handle.write(str(os.getpid()))

    return apply


class RunningProcess:
    """A sandboxed command started by ``spawn``; ``terminate`` kills its whole tree."""

    def __init__(self, popen: subprocess.Popen[bytes], cgroup: PidsCgroup | None) -> None:
        self.popen = popen
        self._cgroup = cgroup

    def terminate(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.popen.kill()
        if self._cgroup is not None:
            self._cgroup.kill_all()
        self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None


class _Runner(ABC):
    """Shared process handling: limits, environment, timeouts, output capture."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._cgroups_work: bool | None = None

    @abstractmethod
    def wrap(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
             readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        """The command line that runs ``argv`` under this backend."""

    @abstractmethod
    def _describe(self, process_limit: str) -> Isolation:
        """The isolation this backend enforces."""

    @property
    def isolation(self) -> Isolation:
        if self._cgroups_work is None:
            probe = PidsCgroup.create(self.limits.max_processes)
            self._cgroups_work = probe is not None
            if probe is not None:
                probe.remove()
        return self._describe("cgroup" if self._cgroups_work else "rlimit")

    def spawn(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
              readonly: Sequence[Path] = (),
              env: Mapping[str, str] | None = None) -> RunningProcess:
        scratch.mkdir(parents=True, exist_ok=True)
        full_env = sandbox_env(scratch, env)
        command = self.wrap(argv, workdir=workdir, scratch=scratch, readonly=readonly,
                            env=full_env)
        cgroup = PidsCgroup.create(self.limits.max_processes)
        try:
            popen = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=workdir, env=full_env,
                preexec_fn=_limiter(self.limits, cgroup),
                start_new_session=True,
            )
        except OSError as exc:
            if cgroup is not None:
                cgroup.remove()
            raise SandboxError(f"could not start {command[0]}: {exc}") from exc
        return RunningProcess(popen, cgroup)

    def run(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
            readonly: Sequence[Path] = (), env: Mapping[str, str] | None = None,
            stdin: bytes | None = None) -> SandboxResult:
        started = time.monotonic()
        proc = self.spawn(argv, workdir=workdir, scratch=scratch, readonly=readonly, env=env)
        timed_out = False
        try:
            out, err = proc.popen.communicate(stdin, timeout=self.limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.terminate()
            out, err = proc.popen.communicate()
        finally:
            proc.terminate()
        cap = self.limits.max_output_bytes
        return SandboxResult(
            argv=tuple(argv), returncode=proc.popen.returncode, timed_out=timed_out,
            stdout=out[:cap].decode(errors="replace"), stderr=err[-cap:].decode(errors="replace"),
            duration_s=time.monotonic() - started, isolation=self.isolation,
        )


class ProcessSandbox(_Runner):
    """Bubblewrap: no network, read-only filesystem, scratch dir, limits."""

    def __init__(self, limits: Limits | None = None, *, bwrap: str | None = None) -> None:
        super().__init__(limits)
        self.bwrap = bwrap or shutil.which("bwrap") or ""

    def check(self) -> None:
        """Raise :class:`SandboxUnavailable` unless bubblewrap works here."""
        if not self.bwrap:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed, so strategy code cannot be sandboxed. "
                "Install it (Debian: apt-get install bubblewrap), or pass "
                "--allow-unsandboxed to run strategy code without isolation.")
        probe = subprocess.run(
            [self.bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True, text=True, check=False, timeout=30)
        if probe.returncode != 0:
            raise SandboxUnavailable(
                f"bubblewrap is installed but cannot create namespaces here "
                f"({probe.stderr.strip() or probe.returncode}). Run as root or enable user "
                "namespaces, or pass --allow-unsandboxed to run without isolation.")

    def wrap(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
             readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        cmd = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--tmpfs", "/tmp"]
        home = Path(os.environ.get("HOME", "/root"))
        for name in _SECRET_PATHS:
            secret = home / name
            if secret.is_dir():
                cmd += ["--tmpfs", str(secret)]
            elif secret.exists():
                cmd += ["--ro-bind", "/dev/null", str(secret)]
        for path in (*_runtime_under_tmp(), workdir, *readonly):
            resolved = str(Path(path).resolve())
            cmd += ["--ro-bind", resolved, resolved]
        scratch_dir = str(scratch.resolve())
        cmd += ["--bind", scratch_dir, scratch_dir,
                "--unshare-all", "--die-with-parent", "--new-session",
                "--chdir", str(Path(workdir).resolve()), "--clearenv"]
        for key, value in env.items():
            cmd += ["--setenv", key, value]
        return [*cmd, "--", *argv]

    def _describe(self, process_limit: str) -> Isolation:
        notes = ("all namespaces unshared (net, pid, ipc, uts, user, cgroup)",
                 "credential files under $HOME masked; environment rebuilt from an allowlist")
        return Isolation(backend="bubblewrap", network="none", filesystem="read-only",
                         process_limit=process_limit, limits=self.limits,  # type: ignore[arg-type]
                         notes=notes)


class UnsandboxedRunner(_Runner):
    """Limits and a clean environment, but no namespaces: network and files are open."""

    def wrap(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
             readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        return list(argv)

    def _describe(self, process_limit: str) -> Isolation:
        return Isolation(backend="none", network="host", filesystem="writable",
                         process_limit=process_limit, limits=self.limits,  # type: ignore[arg-type]
                         notes=("run without isolation at the user's explicit request",))


def open_sandbox(kind: str = "process", *, limits: Limits | None = None,
                 allow_unsandboxed: bool = False) -> ProcessSandbox | UnsandboxedRunner:
    """The sandbox for ``kind``; refuses to fall back to no isolation unless allowed."""
    if kind == "none":
        if not allow_unsandboxed:
            raise SandboxUnavailable(
                "running strategy code without a sandbox needs the explicit "
                "--allow-unsandboxed flag")
        return UnsandboxedRunner(limits)
    if kind != "process":
        raise SandboxUnavailable(f"unknown sandbox {kind!r}; choose 'process' or 'none'")
    sandbox = ProcessSandbox(limits)
    try:
        sandbox.check()
    except SandboxUnavailable:
        if allow_unsandboxed:
            return UnsandboxedRunner(limits)
        raise
    return sandbox
