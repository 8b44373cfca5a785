"""A per-run ``pids`` cgroup, the only process-count limit that binds root.

``RLIMIT_NPROC`` is not enforced for root, so where the machine lets us create a cgroup
(v1 ``pids`` hierarchy or v2 with the ``pids`` controller) each sandboxed run gets one
with ``pids.max`` set; otherwise the caller falls back to the rlimit and says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

__all__ = ["PidsCgroup"]

_V1 = Path("/sys/fs/cgroup/pids")
_V2_CANDIDATES = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))


def _v2_root() -> Path | None:
    for root in _V2_CANDIDATES:
        controllers = root / "cgroup.controllers"
        with contextlib.suppress(OSError):
            if "pids" in controllers.read_text().split():
                return root
    return None


class PidsCgroup:
    """Create with :meth:`create`; children join by writing their pid (``join``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        """A fresh cgroup limited to ``max_pids`` tasks, or None when not permitted."""
        name = f"alphaloop-{uuid.uuid4().hex[:12]}"
        for root in (_V1, _v2_root()):
            if root is None or not root.is_dir():
                continue
            path = root / name
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(max_pids))
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            return cls(path)
        return None

    def join_path(self) -> str:
        return str(self.path / "cgroup.procs")

    def kill_all(self) -> None:
        with contextlib.suppress(OSError):
            for line in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(line), signal.SIGKILL)

    def remove(self) -> None:
        self.kill_all()
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)
