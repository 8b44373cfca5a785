"""Where independent backtests fan out: one small protocol, three backends.

An :class:`Executor` maps a picklable function over items and returns the results in
the items' order. ``serial`` runs them one after another in this process; ``process``
(the default) runs them on a local pool of worker processes, one per core; ``ray``
sends them to a Ray cluster (``pip install 'alphaloop[ray]'``; the address comes from
``[executor] address`` of ``policies/performance.toml`` or Ray's own ``RAY_ADDRESS``,
and without either a local Ray instance is started). Ray is imported only when that
backend is opened.

The backends only move work around: each item is computed by the same code from the
same inputs, so the results are the same whichever runs them.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal, Protocol, TypeVar

from alphaloop.errors import Failure

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "ExecutorName", "ProcessExecutor",
           "RayExecutor", "SerialExecutor", "open_executor"]

T = TypeVar("T")
R = TypeVar("R")

ExecutorName = Literal["serial", "process", "ray"]
EXECUTORS: tuple[ExecutorName, ...] = ("serial", "process", "ray")


class ExecutorError(Failure, RuntimeError):
    """The requested executor cannot be used here (Ray missing or unreachable)."""


class Executor(Protocol):
    """Maps a function over items, results in the items' order."""

    name: str
    workers: int
    """how many items it runs at once"""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """One item after another, in this process."""

    name = "serial"
    workers = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]

    def close(self) -> None:
        return None


class ProcessExecutor:
    """A local pool of worker processes, started on first use and kept until
    :meth:`close`; a single item runs in this process.

    Workers are forked from a clean server process (``forkserver``: nothing of this
    process's state is inherited) that imports ``preload`` once, so a pool starts in a
    fraction of the time fresh interpreters take."""

    name = "process"

    def __init__(self, workers: int | None = None, *,
                 preload: Sequence[str] = ("alphaloop.evaluation.service",)) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if len(items) <= 1 or self.workers == 1:
            return [fn(item) for item in items]
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(self.preload))
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayExecutor:
    """Tasks on a Ray cluster at ``address`` (a local instance when ``None`` and
    ``RAY_ADDRESS`` is unset); stops the instance on :meth:`close` if it started it."""

    name = "ray"

    def __init__(self, address: str | None = None, *, workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ExecutorError("--executor ray needs Ray: pip install 'alphaloop[ray]' "
                                "(or choose --executor process)") from None
        self._ray: Any = ray
        self._started = False
        self.workers = max(1, workers or os.cpu_count() or 1)
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None and not os.environ.get("RAY_ADDRESS"):
                options["num_cpus"] = workers or os.cpu_count() or 1
            try:
                ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ExecutorError(f"cannot reach Ray at {address or 'a local instance'}: "
                                    f"{exc}; check [executor] address in "
                                    "policies/performance.toml or RAY_ADDRESS") from None
            self._started = True

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        remote = self._ray.remote(fn)
        return list(self._ray.get([remote.remote(item) for item in items]))

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def open_executor(name: str, *, workers: int | None = None,
                  address: str | None = None) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`)."""
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    if name == "ray":
        return RayExecutor(address, workers=workers)
    raise ExecutorError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
