"""A TCP server on 127.0.0.1 that the host can reach: what sandboxed code must not reach."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tcp_listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """Yield (port, accepted connections); every connection is closed on exit, not by the
    collector during a later test.

    The accepting thread polls and is joined before the socket closes: a thread left
    blocked in ``accept`` on a closed socket would accept on whatever socket reuses the
    descriptor number next (another test's server) and steal its connections."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        server.close()
        for conn in accepted:
            conn.close()
