"""A branch's strategy runs in the sandbox behind the contract, and fails loudly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo, PortfolioState, validate_weights
from alphaloop.data.panel import MarketData
from alphaloop.sandbox import Limits, SandboxedStrategy, StrategyFailed, open_sandbox


def _panel(days: int = 60) -> MarketData:
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2021-01-04", periods=days)
    assets = (AssetInfo(ticker="AAA", asset_class="stocks"),
              AssetInfo(ticker="BBB", asset_class="bonds"))
    prices = 100 * np.cumprod(1 + rng.normal(0, 0.01, (days, 2)), axis=0)
    return MarketData(dates=dates, assets=assets, prices=prices,
                      volumes=np.full((days, 2), 1e6),
                      fundamentals={"yield": np.full((days, 2), 0.03)},
                      macro={"VIX": np.linspace(15, 30, days)})


def _checkout(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "checkout"
    (root / "strategy").mkdir(parents=True)
    (root / "strategy" / "__init__.py").write_text(textwrap.dedent(body))
    return root


def _state(view) -> PortfolioState:
    return PortfolioState(as_of=view.as_of, weights={}, cash=1.0, value=1.0, peak_value=1.0)


RECORDING = """
    class Recorder:
        lookback = 15
        def __init__(self):
            self.seen = []
        def decide(self, view, portfolio):
            self.seen.append(str(view.dates[-1].date()))
            print("noise on stdout must not break the protocol")
            return {"AAA": 0.6, "BBB": 0.3}
        def get_state(self):
            return {"seen": self.seen}
        def set_state(self, state):
            self.seen = list(state["seen"])
    def create_strategy(**kwargs):
        return Recorder()
"""


def test_decisions_match_point_in_time_views(tmp_path: Path) -> None:
    data = _panel()
    root = _checkout(tmp_path, RECORDING)
    with SandboxedStrategy(open_sandbox(), checkout=root, scratch=tmp_path / "s") as strat:
        for pos in (20, 25, 40):
            view = data.view(pos, 15)
            decision = strat.decide(view, _state(view))
            w = validate_weights(decision, data.tickers, as_of=view.as_of)
            assert w.tolist() == [0.6, 0.3]
        assert strat.lookback == 15
        state = strat.get_state()
        assert state["seen"] == [str(data.dates[p].date()) for p in (20, 25, 40)]
        assert strat.isolation.backend == "bubblewrap"


def test_strategy_exception_names_the_date(tmp_path: Path) -> None:
    root = _checkout(tmp_path, """
        class Boom:
            def decide(self, view, portfolio):
                raise ZeroDivisionError("factor scorer divided by zero")
        def create_strategy(**kwargs):
            return Boom()
    """)
    data = _panel()
    view = data.view(30)
    with SandboxedStrategy(open_sandbox(), checkout=root, scratch=tmp_path / "s") as strat, \
            pytest.raises(StrategyFailed, match=str(view.as_of.date())) as info:
        strat.decide(view, _state(view))
    assert "ZeroDivisionError" in str(info.value)
    assert "factor scorer" in info.value.detail


def test_nan_weight_reaches_validation(tmp_path: Path) -> None:
    root = _checkout(tmp_path, """
        def create_strategy(**kwargs):
            class S:
                def decide(self, view, portfolio):
                    return {"AAA": float("nan")}
            return S()
    """)
    data = _panel()
    view = data.view(30)
    with SandboxedStrategy(open_sandbox(), checkout=root, scratch=tmp_path / "s") as strat:
        decision = strat.decide(view, _state(view))
    with pytest.raises(ValueError, match="AAA"):
        validate_weights(decision, data.tickers, as_of=view.as_of)


def test_hanging_strategy_is_killed(tmp_path: Path) -> None:
    root = _checkout(tmp_path, """
        import time
        def create_strategy(**kwargs):
            class S:
                def decide(self, view, portfolio):
                    time.sleep(600)
            return S()
    """)
    data = _panel()
    view = data.view(30)
    box = open_sandbox(limits=Limits(wall_seconds=3))
    with SandboxedStrategy(box, checkout=root, scratch=tmp_path / "s") as strat, \
            pytest.raises(StrategyFailed, match="wall-time"):
        strat.decide(view, _state(view))


def test_crashing_strategy_reports_exit(tmp_path: Path) -> None:
    root = _checkout(tmp_path, """
        import os
        def create_strategy(**kwargs):
            class S:
                def decide(self, view, portfolio):
                    os._exit(3)
            return S()
    """)
    data = _panel()
    view = data.view(30)
    with SandboxedStrategy(open_sandbox(), checkout=root, scratch=tmp_path / "s") as strat, \
            pytest.raises(StrategyFailed, match="exited with code 3"):
        strat.decide(view, _state(view))


def test_strategy_cannot_reach_network_or_write_checkout(tmp_path: Path) -> None:
    root = _checkout(tmp_path, """
        import socket
        def create_strategy(**kwargs):
            class S:
                def decide(self, view, portfolio):
                    try:
                        open("strategy/leak.txt", "w").write("x")
                        wrote = True
                    except OSError:
                        wrote = False
                    try:
                        socket.create_connection(("127.0.0.1", 9), 1)
                        net = True
                    except OSError:
                        net = False
                    return {"AAA": 0.1 if wrote else 0.0, "BBB": 0.1 if net else 0.0}
            return S()
    """)
    data = _panel()
    view = data.view(30)
    with SandboxedStrategy(open_sandbox(), checkout=root, scratch=tmp_path / "s") as strat:
        decision = strat.decide(view, _state(view))
    assert decision.weights == {"AAA": 0.0, "BBB": 0.0}
    assert not (root / "strategy" / "leak.txt").exists()
