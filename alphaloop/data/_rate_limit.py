"""A sliding-window rate limiter with an injectable clock, so tests never wait."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allows at most ``max_requests`` calls of :meth:`acquire` in any ``period`` seconds.

    When the window is full, :meth:`acquire` sleeps (through the injected ``sleep``)
    until the oldest request leaves the window. ``clock`` must be monotonic.
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
        now = self._clock()
        self._expire(now)
        if len(self._stamps) >= self.max_requests:
            delay = self._stamps[0] + self.period - now
            if delay > 0:
                self._sleep(delay)
                self.waited += delay
            now = self._clock()
            self._expire(now)
            while len(self._stamps) >= self.max_requests:  # clock did not move enough
                self._stamps.popleft()
        self._stamps.append(now)

    def _expire(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - self.period:
            self._stamps.popleft()
