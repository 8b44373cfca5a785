"""A sliding-window rate limiter with an injectable clock, so tests never wait."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allows at most ``max_requests`` calls of :meth:`acquire` in any ``period`` seconds.

    When the window is full, :meth:`acquire` sleeps (through the injected ``sleep``)
    until the oldest request leaves the window. ``clock`` must be monotonic and
    ``sleep`` must let it advance.
    """

    def __init__(self, max_requests: int, period: float = 60.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if max_requests < 1 or period <= 0:
            raise ValueError("a rate limit needs max_requests >= 1 and period > 0")
        self.max_requests = max_requests
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self.waited = 0.0
        """Total seconds spent waiting, for reports."""

    def acquire(self) -> None:
        """Block until one more request fits in the window, then record it."""
        while True:
            now = self._clock()
            self._expire(now)
            if len(self._stamps) < self.max_requests:
                self._stamps.append(now)
                return
            delay = max(self._stamps[0] + self.period - now, 1e-6)
            self._sleep(delay)
            self.waited += delay

    def _expire(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - self.period:
            self._stamps.popleft()
