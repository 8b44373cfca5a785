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
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure

__all__ = [
    "Isolation",
    "Limits",
    "Sandbox",
    "SandboxError",
    "SandboxResult",
    "SandboxUnavailable",
]


class SandboxError(Failure, RuntimeError):
    """Sandboxed code failed, hung or broke a limit; the message says which."""


class SandboxUnavailable(SandboxError):
    """The requested isolation cannot be obtained on this machine."""


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
    """A way to run commands on untrusted code."""

    @property
    def isolation(self) -> Isolation: ...

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
    """A running sandboxed command (see :meth:`Sandbox.spawn`)."""

    popen: subprocess.Popen[bytes]

    def terminate(self) -> None: ...
