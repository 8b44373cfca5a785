"""A clock for code that waits: ``sleep`` moves time forward at once and is recorded."""

from __future__ import annotations


class FakeClock:
    """Callable as a clock (``clock()`` is the current time); ``sleep`` advances it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
