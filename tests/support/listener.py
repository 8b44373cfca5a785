"""A TCP server on 127.0.0.1 that the host can reach: what sandboxed code must not reach."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tcp_listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """Yield (port, accepted connections); every connection is closed on exit, not by the
    collector during a later test."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    accepted: list[socket.socket] = []

    def serve() -> None:
        try:
            while True:
                conn, _ = server.accept()
                accepted.append(conn)
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        server.close()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
