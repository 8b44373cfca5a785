"""One cycle at a time per repository: an advisory lock on ``.git/alphaloop/cycle.lock``.

The lock is ``flock(2)`` held on an open file, so it dies with the process that holds it
(even on ``kill -9``): a crashed cycle never leaves a stale lock to clean up. While held,
the file records who holds it (pid, host, command, start time) so a second cycle can say
whom it is waiting for. The file itself is never deleted (deleting lock files races).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from alphaloop.errors import Failure

__all__ = ["CycleLock", "CycleLocked", "LockHolder"]


class LockHolder(BaseModel):
    """Who holds the cycle lock, as written by the holder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pid: int
    hostname: str
    command: str
    started: AwareDatetime

    def describe(self) -> str:
        since = self.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"pid {self.pid} on {self.hostname} (`{self.command}`), since {since}"


class CycleLocked(Failure):
    """Another process holds the cycle lock of this repository."""

    def __init__(self, path: Path, holder: LockHolder | None) -> None:
        self.path = path
        self.holder = holder
        who = holder.describe() if holder else "a process that has not yet written its details"
        super().__init__(
            f"another AlphaLoop cycle is running in this repository: {who}. Wait for it to "
            f"finish or stop that process; the lock ({path}) is released when it exits."
        )


#: How long to wait for the lock when the process that took it has died: a child it
#: forked may hold the file for a moment longer, until it exits or execs.
_DEAD_HOLDER_GRACE_S = 10.0


def _gone(holder: LockHolder | None) -> bool:
    """Whether ``holder`` is a process of this host that no longer exists."""
    if holder is None or holder.hostname != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _read_holder(handle: IO[bytes]) -> LockHolder | None:
    handle.seek(0)
    data = handle.read()
    if not data.strip():
        return None
    try:
        return LockHolder.model_validate_json(data)
    except ValidationError:
        return None


class CycleLock:
    """Context manager holding the repository's cycle lock; :class:`CycleLocked` if taken.

    ``git_dir`` is the repository's common ``.git`` directory. Acquiring does not wait for
    a running cycle; it waits a few seconds only when the recorded holder has died and the
    lock is still held (by a child of it that is still exiting).
    """

    def __init__(self, git_dir: Path | str) -> None:
        self.path = Path(git_dir) / "alphaloop" / "cycle.lock"
        self._handle: IO[bytes] | None = None
        self.holder: LockHolder | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._handle is not None

    def acquire(self) -> LockHolder:
        if self._handle is not None:
            raise RuntimeError("this CycleLock is already held; release it before acquiring")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while the lock is held
        deadline = time.monotonic() + _DEAD_HOLDER_GRACE_S
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(handle)
                if _gone(holder) and time.monotonic() < deadline:
                    time.sleep(0.05)  # a killed holder's last children are still exiting
                    continue
                handle.close()
                raise CycleLocked(self.path, holder) from None
        holder = LockHolder(pid=os.getpid(), hostname=socket.gethostname(),
                            command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]).strip()
                            or "python", started=datetime.now(UTC))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder.model_dump(mode="json")).encode())
        handle.flush()
        os.fsync(handle.fileno())
        self._handle, self.holder = handle, holder
        return holder

    def release(self) -> None:
        """Release the lock (a no-op if it is not held)."""
        handle, self._handle, self.holder = self._handle, None, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            handle.truncate(0)
            handle.flush()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()

    def __enter__(self) -> CycleLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()

