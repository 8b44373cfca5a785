"""The cycle lock: one holder at a time, a clear message, released when its process dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alphaloop.cycle.lock import CycleLock, CycleLocked

_HOLDER = textwrap.dedent("""
    import sys, time
    from alphaloop.cycle.lock import CycleLock

    lock = CycleLock(sys.argv[1])
    lock.acquire()
    print("locked", flush=True)
    time.sleep(120)
""")


def start_holder(git_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(git_dir)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "locked":
        proc.kill()
        raise AssertionError(f"the holder did not start: {proc.communicate()[1]}")
    return proc


def test_a_second_process_is_refused_until_the_holder_dies(tmp_path: Path) -> None:
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(CycleLocked) as caught:
            CycleLock(tmp_path).acquire()
        locked = caught.value
        assert locked.holder is not None and locked.holder.pid == holder.pid
        assert locked.holder.started.tzinfo is not None
        message = str(locked)
        assert f"pid {holder.pid}" in message and "since" in message
        assert "released when it exits" in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    with CycleLock(tmp_path) as lock:  # a killed holder leaves no stale lock
        assert lock.held and lock.holder is not None and lock.holder.pid == os.getpid()


def test_the_lock_records_its_holder_and_clears_it_on_release(tmp_path: Path) -> None:
    lock = CycleLock(tmp_path)
    with lock:
        recorded = lock.path.read_text()
        assert f'"pid": {os.getpid()}' in recorded
        assert lock.path == tmp_path / "alphaloop" / "cycle.lock"
    assert not lock.held
    assert lock.path.read_text() == ""
    assert lock.path.exists()  # never deleted


def test_two_locks_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    first = CycleLock(tmp_path)
    first.acquire()
    with pytest.raises(CycleLocked) as caught:
        CycleLock(tmp_path).acquire()
    assert caught.value.holder is not None and caught.value.holder.pid == os.getpid()
    with pytest.raises(RuntimeError, match="already held"):
        first.acquire()
    first.release()
    first.release()  # releasing twice is harmless
    with CycleLock(tmp_path):
        pass


def test_the_lock_is_released_when_the_body_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stage failed"), CycleLock(tmp_path):
        raise ValueError("stage failed")
    with CycleLock(tmp_path) as lock:
        assert lock.held


def test_a_dead_holders_exiting_child_is_waited_for(tmp_path: Path) -> None:
    """A cycle killed while it forked leaves the lock to a child for a moment: the next
    cycle waits for that child instead of naming a dead process as the holder."""
    script = textwrap.dedent(f"""
        import os, signal, time
        from alphaloop.cycle.lock import CycleLock
        lock = CycleLock({str(tmp_path)!r})
        lock.acquire()
        if os.fork() == 0:        # the child inherits the locked file
            os.close(1)
            os.close(2)
            time.sleep(1.5)
            os._exit(0)
        print("locked", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.stdout.strip() == "locked" and proc.returncode == -signal.SIGKILL
    started = time.monotonic()
    with CycleLock(tmp_path) as lock:
        assert lock.held
    assert time.monotonic() - started >= 0.5  # it did wait for the child
