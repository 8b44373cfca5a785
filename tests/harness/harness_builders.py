"""Builders shared by the harness tests: small market panels, test strategies, and an
independent per-day reference simulator to check the vectorised harness against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from alphaloop.contract import AssetInfo, Decision, MarketView, PortfolioState
from alphaloop.data.panel import MarketData

CLASSES = ("stocks", "bonds", "commodities", "reits", "crypto")


def make_data(n_days: int = 300, n_assets: int = 5, *, seed: int = 0,
              start: str = "2015-01-01", source: str = "test") -> MarketData:
    """A seeded random-walk panel with one fundamental field and one macro series."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_days)
    sigma = rng.uniform(0.005, 0.03, n_assets)
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0002, 1.0, (n_days, n_assets)) * sigma,
                                      axis=0))
    assets = tuple(AssetInfo(ticker=f"T{i}", asset_class=CLASSES[i % len(CLASSES)])
                   for i in range(n_assets))
    return MarketData(
        dates=dates, assets=assets, prices=prices,
        volumes=rng.uniform(1e5, 1e6, (n_days, n_assets)),
        fundamentals={"spread_bps": rng.uniform(1.0, 20.0, (n_days, n_assets))},
        macro={"VIX": rng.uniform(10.0, 40.0, n_days)},
        source=source)


def random_target(seed: int, day: pd.Timestamp, n_assets: int) -> np.ndarray:
    """Deterministic random long-only weights for a date: some zeros, 50-100% invested."""
    rng = np.random.default_rng([seed, day.toordinal()])
    weights = rng.dirichlet(np.ones(n_assets)) * rng.uniform(0.5, 1.0)
    weights[rng.random(n_assets) < 0.2] = 0.0
    return weights


class RandomWeights:
    """Random targets per date, blended with the drifted weights it is shown."""

    name = "random-weights"

    def __init__(self, seed: int = 1, blend: float = 0.3, lookback: int | None = 20) -> None:
        self.seed, self.blend, self.lookback = seed, blend, lookback

    def target(self, day: pd.Timestamp, drifted: np.ndarray) -> np.ndarray:
        return (1 - self.blend) * random_target(self.seed, day, drifted.size) + \
            self.blend * drifted

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        drifted = np.array([portfolio.weights[t] for t in view.tickers])
        weights = self.target(view.as_of, drifted)
        return Decision(weights=dict(zip(view.tickers, weights.tolist(), strict=True)),
                        record={"invested": float(weights.sum())})


class StatefulRandom:
    """Draws each target from its own RNG, so resuming needs its state restored.

    ``fail_at`` makes the ``fail_at``-th call raise, standing in for a crash mid-run.
    """

    name = "stateful-random"
    lookback = 5

    def __init__(self, seed: int = 3, fail_at: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        self.fail_at = fail_at

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise RuntimeError("simulated crash")
        weights = self.rng.dirichlet(np.ones(len(view.tickers))) * 0.9
        return Decision(weights=dict(zip(view.tickers, weights.tolist(), strict=True)),
                        record={"draw": self.calls, "nan_field": float("nan")})

    def get_state(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state, "calls": self.calls}

    def set_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.calls = state["calls"]


class Scripted:
    """Returns whatever ``answer(view, portfolio)`` gives; records what it was shown."""

    name = "scripted"

    def __init__(self, answer: Callable[[MarketView, PortfolioState], Any],
                 lookback: int | None = None) -> None:
        self.answer = answer
        self.lookback = lookback
        self.views: list[MarketView] = []
        self.states: list[PortfolioState] = []

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Any:
        self.views.append(view)
        self.states.append(portfolio)
        return self.answer(view, portfolio)


def expected_schedule(dates: pd.DatetimeIndex, first: int, last: int,
                      frequency: str) -> list[int]:
    """Decision positions computed with pandas periods (independent of the harness)."""
    if frequency == "daily":
        ends = set(range(len(dates)))
    else:
        periods = dates.to_period("W-SUN" if frequency == "weekly" else "M")
        frame = pd.Series(np.arange(len(dates)), index=periods)
        ends = set(frame.groupby(level=0).max().tolist())
    return [first, *sorted(p for p in ends if first < p < last)]


def reference_backtest(
    data: MarketData, first: int, last: int, target: Callable[[int, np.ndarray], np.ndarray],
    *, frequency: str, rate: float, threshold: float, capital: float,
) -> dict[str, np.ndarray]:
    """A plain per-day loop: holdings grow by each day's return; trades at decision closes.

    ``target(position, drifted)`` gives the weights chosen at a decision close.
    """
    decisions = set(expected_schedule(data.dates, first, last, frequency))
    prices = data.prices
    held = np.zeros(prices.shape[1])  # currency value of each holding
    cash = capital
    values, weights, turnovers, states = [], [], [], []
    peak = capital
    for day in range(first, last + 1):
        if day > first:
            held = held * (prices[day] / prices[day - 1])
        value = held.sum() + cash
        peak = max(peak, value)
        turnover = 0.0
        if day in decisions:
            drifted = held / value
            states.append((value, peak, drifted.copy()))
            new = target(day, drifted)
            if np.max(np.abs(new - drifted)) >= threshold:
                turnover = float(np.sum(np.abs(new - drifted)))
                cost = rate * turnover * value
                held = new * value
                cash = value - held.sum() - cost
                value -= cost
        values.append(value)
        weights.append(held / value)
        turnovers.append(turnover)
    values_arr = np.array(values)
    previous = np.concatenate(([capital], values_arr[:-1]))
    return {"values": values_arr, "returns": values_arr / previous - 1.0,
            "weights": np.array(weights), "turnover": np.array(turnovers),
            "states": states}
