"""The fan-out executors: results in the items' order whichever backend runs them."""

from __future__ import annotations

import math

import pytest

from alphaloop.evaluation.executor import (
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    open_executor,
)
from alphaloop.evaluation.performance import read_performance_policy

ITEMS = [7, 3, 11, 0, 5, 9, 2]


@pytest.mark.parametrize("name", ["serial", "process"])
def test_results_come_back_in_the_items_order(name: str) -> None:
    executor = open_executor(name, workers=2)
    try:
        assert executor.map(math.factorial, ITEMS) == [math.factorial(i) for i in ITEMS]
        assert executor.map(math.factorial, []) == []
    finally:
        executor.close()


def test_the_process_pool_raises_what_a_worker_raised() -> None:
    executor = ProcessExecutor(2)
    try:
        with pytest.raises(ValueError, match="factorial"):
            executor.map(math.factorial, [3, -1])
        assert executor.map(math.factorial, [4, 5]) == [24, 120]  # the pool is still usable
    finally:
        executor.close()


def test_an_unknown_executor_is_refused_with_the_choices() -> None:
    with pytest.raises(ExecutorError, match="serial, process, ray"):
        open_executor("threads")
    assert isinstance(open_executor("serial"), SerialExecutor)


def test_the_executor_settings_come_from_performance_toml(tmp_path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "performance.toml").write_text(
        '[executor]\nworkers = 3\naddress = "ray://head:10001"\n')
    settings = read_performance_policy(tmp_path).executor
    assert (settings.workers, settings.address) == (3, "ray://head:10001")
