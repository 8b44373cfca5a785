"""A strategy cannot see data after the decision date, by any route."""

from __future__ import annotations

import gc
import pickle
from types import ModuleType

import numpy as np
import pytest

from alphaloop.data.panel import MarketData
from alphaloop.harness import InverseVolatility, Window, rebalance_positions, simulate


def _reachable_arrays(root: object, depth: int = 4) -> list[np.ndarray]:
    """Every ndarray reachable from ``root`` through the garbage collector's referents."""
    found: list[np.ndarray] = []
    seen: set[int] = set()
    frontier = [root]
    for _ in range(depth):
        following = []
        for obj in frontier:
            if id(obj) in seen or isinstance(obj, type | ModuleType):
                continue
            seen.add(id(obj))
            if isinstance(obj, np.ndarray):
                found.append(obj)
                if obj.base is not None:
                    following.append(obj.base)
            following.extend(gc.get_referents(obj))
        frontier = following
    return found


def test_views_end_at_the_decision_date_and_hold_no_later_data(hb: ModuleType) -> None:
    data = hb.make_data(150, 4, seed=3)
    spy = hb.Scripted(lambda view, portfolio: {}, lookback=None)
    window = Window(start=data.dates[30].date(), end=data.dates[140].date())
    simulate(spy, data, window, frequency="weekly")

    decided = [state.as_of for state in spy.states]
    assert decided == [view.as_of.to_pydatetime() for view in spy.views]
    for view in spy.views:
        position = data.index_of(view.as_of)
        assert view.dates[-1] == view.as_of == data.dates[position]
        assert view.n_days == position + 1
        routes = [view.prices, view.volumes, view.returns, view.fundamental("spread_bps"),
                  view.macro("VIX"), view.price_frame().to_numpy(),
                  view.tail(10).prices, pickle.loads(pickle.dumps(view)).prices,
                  *_reachable_arrays(view)]
        for array in routes:
            assert array.shape[0] <= position + 1
            assert not np.shares_memory(array, data.prices)
            assert not np.shares_memory(array, data.fundamentals["spread_bps"])
        assert not view.prices.flags.writeable
        with pytest.raises(AttributeError):
            _ = view.__dict__
        with pytest.raises(ValueError):
            view.prices[0, 0] = 1.0


def test_the_lookback_caps_the_history(hb: ModuleType) -> None:
    data = hb.make_data(120, 3, seed=5)
    spy = hb.Scripted(lambda view, portfolio: {}, lookback=15)
    simulate(spy, data, Window(start=data.dates[5].date(), end=data.dates[-1].date()),
             frequency="weekly")
    for view in spy.views:
        position = data.index_of(view.as_of)
        assert view.n_days == min(15, position + 1)


def _garbage_after(data: MarketData, position: int, seed: int) -> MarketData:
    """The same panel with every row after ``position`` replaced by random garbage."""
    rng = np.random.default_rng(seed)

    def scramble(array: np.ndarray) -> np.ndarray:
        out = array.copy()
        out[position + 1:] = rng.uniform(1.0, 1e6, out[position + 1:].shape)
        return out

    return MarketData(
        dates=data.dates, assets=data.assets, prices=scramble(data.prices),
        volumes=scramble(data.volumes),
        fundamentals={k: scramble(v) for k, v in data.fundamentals.items()},
        macro={k: scramble(v) for k, v in data.macro.items()}, source=data.source)


class EverythingReader:
    """Uses every field of the view, so any leak of later rows would change its answer."""

    lookback = None

    def decide(self, view, portfolio):
        score = (view.prices[-1] / view.prices.mean(axis=0)
                 + view.volumes.mean(axis=0) / view.volumes.max()
                 + view.fundamental("spread_bps").mean(axis=0) / 100
                 + view.macro("VIX").mean() / 1000 + portfolio.value / 1e9)
        weights = score / score.sum() * 0.9
        return {"weights": dict(zip(view.tickers, weights.tolist(), strict=True)),
                "record": {"score": score.tolist()}}


@pytest.mark.parametrize("k", [3, 11, 24])
def test_decisions_do_not_change_when_the_future_is_garbage(hb: ModuleType, k: int) -> None:
    data = hb.make_data(180, 4, seed=21)
    cut = int(rebalance_positions(data.dates, 20, 179, "weekly")[k])  # a decision date
    garbled = _garbage_after(data, cut, seed=cut)
    window = Window(start=data.dates[20].date(), end=data.dates[-1].date())
    for make in (EverythingReader, InverseVolatility):
        clean = simulate(_Wrapped(make()), data, window, frequency="weekly")
        dirty = simulate(_Wrapped(make()), garbled, window, frequency="weekly")
        before = [i for i, d in enumerate(clean.decision_log.dates)
                  if d <= data.dates[cut].date()]
        assert clean.decision_log.dates[before[-1]] == data.dates[cut].date()
        for i in before:
            assert np.array_equal(clean.decision_log.targets[i], dirty.decision_log.targets[i])
            assert clean.records[i] == dirty.records[i]
        days = cut - 20 + 1
        assert np.array_equal(clean.values[:days], dirty.values[:days])
        assert not np.array_equal(clean.values, dirty.values)  # the garbage did matter


class _Wrapped:
    """Turns a dict answer into a Decision, passing other answers through."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.lookback = inner.lookback

    def decide(self, view, portfolio):
        from alphaloop.contract import Decision

        answer = self.inner.decide(view, portfolio)
        return Decision(**answer) if isinstance(answer, dict) else answer
