"""Per-sandbox control groups: memory and process count for all processes of one sandbox.

``RLIMIT_AS`` bounds one process and ``RLIMIT_NPROC`` is ignored for root, so where the
machine lets us create cgroups each sandbox gets its own, nested under the cgroup the
trusted process runs in: with cgroup v1 one group in the ``memory`` hierarchy
(``memory.limit_in_bytes``, and ``memory.memsw.limit_in_bytes`` where swap is accounted)
and one in the ``pids`` hierarchy (``pids.max``); with cgroup v2 one group with
``memory.max``, ``memory.swap.max`` and ``pids.max``. The caller falls back to rlimits
for whatever could not be created, and the isolation record says which held.

After a run, :meth:`SandboxCgroups.limit_hit` tells whether the memory limit killed a
process (the kernel's OOM count) or the process limit refused a fork. Groups are made
only for a command about to run; :meth:`SandboxCgroups.available` answers "could we?"
by reading the hierarchy, without making one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SandboxCgroups"]

_ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    """This process's cgroup path in the v1 hierarchy of ``controller`` ("" for v2)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path
    return None


def _v1_parent(controller: str) -> Path | None:
    """Where this process's cgroup v1 ``controller`` group is, or None without one."""
    hierarchy = _ROOT / controller
    own = _own_path(controller)
    if own is None or not hierarchy.is_dir():
        return None
    return hierarchy / own.lstrip("/")


def _v2_parent() -> tuple[Path, set[str]] | None:
    """This process's cgroup v2 group and the controllers it offers, or None without one."""
    own = _own_path("")
    if own is None or not (_ROOT / "cgroup.controllers").exists():
        return None
    parent = _ROOT / own.lstrip("/")
    controllers: set[str] = set()
    with contextlib.suppress(OSError):
        controllers = set((parent / "cgroup.controllers").read_text().split())
    return parent, controllers


def _is_v1() -> bool:
    return (_ROOT / "memory").is_dir() or (_ROOT / "pids").is_dir()


def _writable(path: Path | None) -> bool:
    return path is not None and path.is_dir() and os.access(path, os.W_OK)


def _read_counter(path: Path, key: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def _make(parent: Path, name: str, settings: dict[str, str],
          optional: tuple[str, ...] = ()) -> Path | None:
    path = parent / name
    try:
        path.mkdir()
    except OSError:
        return None
    try:
        for key, value in settings.items():
            try:
                (path / key).write_text(value)
            except OSError:
                if key not in optional:
                    raise
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return path


@dataclass
class SandboxCgroups:
    """The cgroups of one sandbox; a child joins all of them before it execs."""

    memory: Path | None = None
    pids: Path | None = None
    version: int = 1
    groups: list[Path] = field(default_factory=list)

    @staticmethod
    def available() -> tuple[bool, bool]:
        """Whether a sandbox here could get a (memory, pids) group, judged by reading the
        hierarchy only: nothing is created or changed. :meth:`create` has the last word."""
        if _is_v1():
            return _writable(_v1_parent("memory")), _writable(_v1_parent("pids"))
        found = _v2_parent()
        if found is None or not _writable(found[0]):
            return False, False
        return "memory" in found[1], "pids" in found[1]

    @classmethod
    def create(cls, *, memory_bytes: int, max_pids: int) -> SandboxCgroups:
        """Fresh cgroups with these limits; an empty result when none could be made."""
        name = f"alphaloop-{uuid.uuid4().hex[:12]}"
        if _is_v1():
            out = cls(version=1)
            memory, pids = _v1_parent("memory"), _v1_parent("pids")
            if memory is not None:
                out.memory = _make(memory, name,
                                   {"memory.limit_in_bytes": str(memory_bytes),
                                    "memory.memsw.limit_in_bytes": str(memory_bytes)},
                                   optional=("memory.memsw.limit_in_bytes",))
            if pids is not None:
                out.pids = _make(pids, name, {"pids.max": str(max_pids)})
            out.groups = [p for p in (out.memory, out.pids) if p is not None]
            return out
        return cls._create_v2(name, memory_bytes, max_pids)

    @classmethod
    def _create_v2(cls, name: str, memory_bytes: int, max_pids: int) -> SandboxCgroups:
        found = _v2_parent()
        if found is None:
            return cls(version=2)
        parent, controllers = found
        with contextlib.suppress(OSError):
            (parent / "cgroup.subtree_control").write_text(
                " ".join(f"+{c}" for c in ("memory", "pids") if c in controllers))
        settings = {}
        if "memory" in controllers:
            settings.update({"memory.max": str(memory_bytes), "memory.swap.max": "0"})
        if "pids" in controllers:
            settings["pids.max"] = str(max_pids)
        if not settings:
            return cls(version=2)
        path = _make(parent, name, settings, optional=("memory.swap.max",))
        if path is None:
            return cls(version=2)
        return cls(memory=path if "memory" in controllers else None,
                   pids=path if "pids" in controllers else None, version=2, groups=[path])

    # -- use ------------------------------------------------------------------------------
    def join(self, pid: int) -> None:
        """Move ``pid`` into every group (called in the child between fork and exec)."""
        for group in self.groups:
            with open(group / "cgroup.procs", "w") as handle:
                handle.write(str(pid))

    def oom_kills(self) -> int:
        if self.memory is None:
            return 0
        if self.version == 2:
            return _read_counter(self.memory / "memory.events", "oom_kill")
        return _read_counter(self.memory / "memory.oom_control", "oom_kill")

    def memory_failures(self) -> int:
        if self.memory is None or self.version == 2:
            return self.oom_kills()
        with contextlib.suppress(OSError, ValueError):
            return int((self.memory / "memory.failcnt").read_text())
        return 0

    def pids_refusals(self) -> int:
        if self.pids is None:
            return 0
        return _read_counter(self.pids / "pids.events", "max")

    def peak_memory(self) -> int:
        if self.memory is None:
            return 0
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return int((self.memory / name).read_text())
        return 0

    def limit_hit(self) -> str | None:
        """``"memory"`` or ``"processes"`` if that limit stopped something, else None."""
        if self.oom_kills():
            return "memory"
        if self.pids_refusals():
            return "processes"
        return None

    def kill_all(self) -> None:
        for group in self.groups:
            with contextlib.suppress(OSError):
                for line in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                        os.kill(int(line), signal.SIGKILL)

    def remove(self) -> None:
        self.kill_all()
        for group in self.groups:
            for _ in range(100):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.02)
        self.groups = []
