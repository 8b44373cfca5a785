"""Reading a sandbox's output in bounded chunks, so the trusted parent stays small.

A :class:`BoundedReader` keeps at most ``cap`` bytes of one stream (its head or its
tail) and counts the rest, which it reads and discards; past ``hard_cap`` bytes in
total the owner is told (``on_excess``) and stops the sandbox. Nothing ever reads a
stream with an unbounded ``readline`` or ``communicate``.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Mapping
from typing import Literal

__all__ = ["CHUNK", "BoundedReader"]

CHUNK = 64 * 1024


class BoundedReader:
    """The retained part of one output stream."""

    def __init__(self, cap: int, *, keep: Literal["head", "tail"], hard_cap: int) -> None:
        self.cap = cap
        self.keep = keep
        self.hard_cap = hard_cap
        self.total = 0
        self._buffer = bytearray()

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    @property
    def exceeded(self) -> bool:
        return self.total > self.hard_cap

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.keep == "head":
            room = self.cap - len(self._buffer)
            if room > 0:
                self._buffer += chunk[:room]
        else:
            self._buffer += chunk[-self.cap:]
            if len(self._buffer) > self.cap:
                del self._buffer[:len(self._buffer) - self.cap]

    def text(self) -> str:
        return bytes(self._buffer).decode(errors="replace")

    def lines(self, count: int) -> str:
        """The last ``count`` lines kept."""
        return "".join(self.text().splitlines(keepends=True)[-count:])

    @staticmethod
    def pump(streams: Mapping[int, BoundedReader], *, deadline: float | None,
             on_excess: Callable[[], None], on_timeout: Callable[[], None]) -> None:
        """Read every stream until all reach end of file, in chunks of :data:`CHUNK`."""
        open_fds = dict(streams)
        warned = timed = False
        while open_fds:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if timed:
                wait = 5.0  # the tree is dead: collect what is left, then give up
            elif wait == 0.0:
                timed = True
                on_timeout()
                wait = 5.0
            ready, _, _ = select.select(list(open_fds), [], [], wait)
            if not ready and timed:
                return
            for fd in ready:
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    del open_fds[fd]
                    continue
                reader = open_fds[fd]
                reader.feed(chunk)
                if reader.exceeded and not warned:
                    warned = True
                    on_excess()
