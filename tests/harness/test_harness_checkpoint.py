"""Checkpoints: an interrupted run resumes to a result equal bit for bit; others refused."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from alphaloop.harness import (
    CheckpointConfig,
    CheckpointError,
    Costs,
    StrategyError,
    Window,
    simulate,
)
from alphaloop.harness.checkpoint import Checkpoint


def _setup(hb: ModuleType):
    data = hb.make_data(220, 4, seed=13)
    window = Window(start=data.dates[10].date(), end=data.dates[-1].date(), label="ck")
    return data, window


def _assert_identical(a, b) -> None:
    assert a == b  # the whole JSON, every float bit
    for name in ("returns", "values", "weights", "turnover", "costs"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert np.array_equal(a.decision_log.targets, b.decision_log.targets)


@pytest.mark.parametrize("every", [1, 3, 7])
def test_a_resumed_run_equals_an_uninterrupted_one(hb: ModuleType, tmp_path: Path,
                                                   every: int) -> None:
    data, window = _setup(hb)
    path = tmp_path / "run.ckpt.json"
    config = CheckpointConfig(path=path, every=every)
    options = {"frequency": "weekly", "rebalance_threshold": 0.02}
    uninterrupted = simulate(hb.StatefulRandom(seed=3), data, window, **options)

    with pytest.raises(StrategyError, match="simulated crash"):
        simulate(hb.StatefulRandom(seed=3, fail_at=20), data, window, checkpoint=config,
                 **options)
    saved = Checkpoint.model_validate_json(path.read_bytes())
    assert len(saved.decisions) == (19 // every) * every
    assert saved.strategy_state is not None and saved.strategy_state["calls"] == \
        len(saved.decisions)

    calls = []

    class Counting(hb.StatefulRandom):
        def decide(self, view, portfolio):
            calls.append(view.as_of)
            return super().decide(view, portfolio)

    resumed = simulate(Counting(seed=99), data, window, checkpoint=config, **options)
    # the seed is overwritten by the saved RNG state; only the remaining decisions ran
    assert len(calls) == len(uninterrupted.decision_log) - len(saved.decisions)
    _assert_identical(resumed, uninterrupted)
    assert not path.exists()  # removed after a finished run
    assert not list(tmp_path.iterdir())  # and no temporary files left behind


def test_a_checkpoint_of_another_config_or_data_is_refused(hb: ModuleType,
                                                            tmp_path: Path) -> None:
    data, window = _setup(hb)
    config = CheckpointConfig(path=tmp_path / "c.json", every=2, keep=True)
    with pytest.raises(StrategyError):
        simulate(hb.StatefulRandom(fail_at=6), data, window, checkpoint=config,
                 frequency="weekly")
    assert config.path.exists()

    with pytest.raises(CheckpointError, match=r"another configuration \(differs in: costs"):
        simulate(hb.StatefulRandom(), data, window, checkpoint=config, frequency="weekly",
                 costs=Costs(commission=0.002))
    with pytest.raises(CheckpointError, match="frequency"):
        simulate(hb.StatefulRandom(), data, window, checkpoint=config, frequency="daily")
    other = hb.make_data(220, 4, seed=14)
    with pytest.raises(CheckpointError, match="other data"):
        simulate(hb.StatefulRandom(), other, window, checkpoint=config, frequency="weekly")

    stateless = hb.Scripted(lambda view, portfolio: {})
    stateless.name = "stateful-random"
    stateless.lookback = 5
    with pytest.raises(CheckpointError, match="no set_state"):
        simulate(stateless, data, window, checkpoint=config, frequency="weekly")

    result = simulate(hb.StatefulRandom(), data, window, checkpoint=config,
                      frequency="weekly")
    assert config.path.exists() and len(result.decision_log) > 6  # keep=True keeps it


def test_a_corrupt_checkpoint_is_refused(hb: ModuleType, tmp_path: Path) -> None:
    data, window = _setup(hb)
    path = tmp_path / "c.json"
    path.write_text('{"format": 1, "config": ')
    with pytest.raises(CheckpointError, match="cannot read the checkpoint"):
        simulate(hb.StatefulRandom(), data, window,
                 checkpoint=CheckpointConfig(path=path))


def test_resume_false_starts_afresh(hb: ModuleType, tmp_path: Path) -> None:
    data, window = _setup(hb)
    path = tmp_path / "c.json"
    path.write_text("not json at all")
    result = simulate(hb.StatefulRandom(), data, window,
                      checkpoint=CheckpointConfig(path=path, resume=False, every=5))
    assert result == simulate(hb.StatefulRandom(), data, window)
