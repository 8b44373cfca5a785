"""A unix-socket proxy in front of the Docker engine that a test can "kill".

Pointed at by ``DOCKER_HOST``, it passes every byte between the docker clients (the SDK
and the ``docker`` command) and the real engine. :meth:`EngineProxy.kill` closes the
listening socket and every connection: to the clients the engine has died exactly as a
crashed ``dockerd`` looks (attached streams end, new connections are refused), while
the real engine, which other tests share, keeps running. ``kill_after`` arms it to die a
moment after the next request whose first line contains a marker (``/attach``: while a
container is talking to its caller).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

__all__ = ["EngineProxy"]


class EngineProxy:
    def __init__(self, path: Path, engine: str = "/var/run/docker.sock") -> None:
        self.path = Path(path)
        self.engine = engine
        self.requests: list[str] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.path.unlink(missing_ok=True)
        self._server.bind(str(self.path))
        self._server.listen(64)
        self._server.settimeout(0.1)  # the accept loop polls, so kill() can join it
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._armed: tuple[str, float] | None = None
        self.dead = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def address(self) -> str:
        return f"unix://{self.path}"

    def kill_after(self, marker: str, delay: float) -> None:
        """Die ``delay`` seconds after the next request whose first line holds ``marker``."""
        self._armed = (marker, delay)

    def kill(self) -> None:
        """Stop answering: close the listener and every open connection. The accept loop
        is joined before the listener closes: left blocked in ``accept``, it would take
        the connections of whatever socket reuses the descriptor next."""
        self.dead.set()
        if threading.current_thread() is not self._acceptor:
            self._acceptor.join()
        with self._lock:
            with contextlib.suppress(OSError):
                self._server.close()
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    conn.close()
            self._open.clear()

    def _accept(self) -> None:
        while not self.dead.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.engine)
            except OSError:
                client.close()
                upstream.close()
                continue
            with self._lock:
                if self.dead.is_set():
                    client.close()
                    upstream.close()
                    return
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, watch: bool) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                if watch:
                    self._watch(chunk)
                target.sendall(chunk)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def _watch(self, chunk: bytes) -> None:
        line = chunk.split(b"\r\n", 1)[0].decode("latin-1")
        if not line.startswith(("GET ", "POST ", "PUT ", "DELETE ", "HEAD ")):
            return
        self.requests.append(line)
        armed = self._armed
        if armed is not None and armed[0] in line:
            self._armed = None
            threading.Thread(target=self._die_in, args=(armed[1],), daemon=True).start()

    def _die_in(self, delay: float) -> None:
        time.sleep(delay)
        self.kill()
