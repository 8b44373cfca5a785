"""Records and the protocol shared by every sandbox backend.

A sandbox runs a command that may execute untrusted strategy code: no network, only the
files the strategy needs (read-only), one writable scratch directory, CPU / memory /
process-count / wall-time / output limits for the sandbox as a whole, and an environment
that holds no secrets. Each backend states the
isolation it actually obtained (:class:`Isolation`), so reviews can record it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure, InfrastructureFailure

__all__ = [
    "Isolation",
    "Limits",
    "Sandbox",
    "SandboxError",
    "SandboxResult",
    "SandboxUnavailable",
    "SandboxedProcess",
    "engine_lost",
]


class SandboxError(Failure, RuntimeError):
    """Sandboxed code failed, hung or broke a limit; the message says which."""


class SandboxUnavailable(SandboxError, InfrastructureFailure):
    """The requested isolation cannot be obtained on this machine, or its engine stopped
    answering while a command ran: a problem of the machine, not of the code it ran."""


def engine_lost(reason: str, during: str) -> SandboxUnavailable:
    """The error for a sandbox engine that died under a running command."""
    return SandboxUnavailable(
        f"{reason} while {during}: the run was cut short by the machine, not by the code "
        "it ran, and nothing was judged on it. Start the engine again and resume "
        "(`alphaloop cycle --resume`)")


class Limits(BaseModel):
    """Resource limits for one sandboxed command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wall_seconds: float = Field(default=900.0, gt=0)
    cpu_seconds: int = Field(default=900, gt=0)
    memory_mb: int = Field(default=4096, gt=64)
    max_processes: int = Field(default=64, gt=1)
    max_output_bytes: int = Field(default=4_000_000, gt=0,
                                  description="output kept per stream; the rest is discarded")
    max_output_total_bytes: int = Field(default=64 * 1024 * 1024, gt=0,
                                        description="output past this stops the sandbox")


class Isolation(BaseModel):
    """What a backend actually enforced, recorded with every sandboxed result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["bubblewrap", "docker", "none"]
    network: Literal["none", "host"]
    filesystem: Literal["read-only", "writable"]
    process_limit: Literal["cgroup", "rlimit", "none"]
    memory_limit: Literal["cgroup", "rlimit"] = "rlimit"
    limits: Limits
    notes: tuple[str, ...] = ()

    @property
    def sandboxed(self) -> bool:
        return self.backend != "none"

    def describe(self) -> str:
        parts = [f"{self.backend}", f"network {self.network}", f"filesystem {self.filesystem}",
                 f"process limit by {self.process_limit}",
                 f"{self.limits.memory_mb} MB by {self.memory_limit}",
                 f"{self.limits.cpu_seconds} s CPU",
                 f"{self.limits.wall_seconds:g} s wall"]
        return ", ".join(parts)


class SandboxResult(BaseModel):
    """Outcome of :meth:`Sandbox.run`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    isolation: Isolation
    limit: str | None = Field(default=None, description="the limit that stopped the command")
    output_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class Sandbox(Protocol):
    """A way to run commands on untrusted code; what :func:`open_sandbox` returns.

    :class:`~alphaloop.sandbox.process.ProcessSandbox` (bubblewrap) and
    :class:`~alphaloop.sandbox.process.UnsandboxedRunner` (no isolation, only on request)
    implement it; callers should need nothing beyond it.
    """

    @property
    def limits(self) -> Limits:
        """The limits every command gets."""
        ...

    @property
    def isolation(self) -> Isolation:
        """What the backend enforces; reading it starts nothing and creates nothing."""
        ...

    @property
    def sandboxed(self) -> bool:
        """False only for the runner without isolation."""
        ...

    def python_command(self, root: Path, *, module: str | None = None,
                       code: str | None = None, args: Sequence[str] = ()) -> list[str]:
        """The command that runs ``module`` or ``code`` in the backend's Python, with only
        the contract, the allowed libraries and ``root`` importable."""
        ...

    def budget(self, seconds: float) -> AbstractContextManager[None]:
        """Share one wall-time budget among every command started inside the block."""
        ...

    def deadline(self) -> tuple[float, str]:
        """When a command started now must end, and the name of the limit that says so."""
        ...

    def run(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
            readonly: Sequence[Path] = (), env: Mapping[str, str] | None = None,
            stdin: bytes | None = None) -> SandboxResult:
        """Run ``argv`` to completion inside the sandbox."""
        ...

    def spawn(self, argv: Sequence[str], *, workdir: Path, scratch: Path,
              readonly: Sequence[Path] = (),
              env: Mapping[str, str] | None = None) -> SandboxedProcess:
        """Start ``argv`` with pipes on stdin/stdout/stderr for a conversation."""
        ...


class SandboxedProcess(Protocol):
    """A running sandboxed command (see :meth:`Sandbox.spawn`).

    ``deadline`` is when it must end (``deadline_name`` names that limit); the caller
    talking to it sets ``timed_out`` or ``output_exceeded`` when it stops it for that.
    """

    popen: subprocess.Popen[bytes]
    deadline: float
    deadline_name: str
    timed_out: bool
    output_exceeded: bool

    def group_limit_hit(self) -> str | None:
        """``"memory"`` or ``"processes"`` when a process of the sandbox was killed or
        refused a fork by the sandbox-wide limit, even while the command still runs."""
        ...

    def limit_hit(self) -> str | None:
        """The limit that stopped the command, in words, or None; read it once it ended."""
        ...

    def kill(self) -> None:
        """Kill every process of the sandbox."""
        ...

    def terminate(self) -> None:
        """Kill every process, close the pipes and release what the command held."""
        ...
