"""Every declared tunable does something: moved within its range, it changes the engine's
decisions on a fixed sequence of synthetic views, in the conditions it declares.

Tunables declared ``requires=("llm",)`` cannot act offline: for them the test checks the
declaration and that offline decisions indeed do not move. A few tunables act only when
a soft limit is breached or a hedge is triggered; for those the sequence is decided with
limits tight enough to breach (``CONDITIONS``), never with the tunable's own help.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from alphaloop.contract import MarketView, PortfolioState
from alphaloop.data import open_source
from strategy import create_strategy
from strategy.parameters import (
    PARAMETER_SPACE,
    ParameterError,
    ParameterSpec,
    current_values,
    validate_values,
)

Weights = dict[str, float]

#: Tunables that act only on a soft-limit breach or inside the hedging discussion: the
#: configuration under which the sequence is decided for them (both sides of the move).
CONDITIONS: dict[str, dict[str, Any]] = {
    "VOLATILITY_SCALING_STRENGTH": {"risk": {"target_volatility": 0.04}},
    "DIVERSIFICATION_BLEND": {"risk": {"min_diversification_ratio": 3.0}},
    "CONSENSUS_SIZING_TOLERANCE": {"HEDGE_VAR_TRIGGER": 0.005, "MAX_DISCUSSION_ROUNDS": 5},
    "CONSENSUS_HEDGE_TOLERANCE": {"HEDGE_VAR_TRIGGER": 0.005, "MAX_DISCUSSION_ROUNDS": 5},
}
#: Rebalance dates of the sequence (positions in a 6-year synthetic history): calm
#: markets and the high-volatility autumn of 2009; the last five run as one sequence
#: through a drawdown, so the controller's cooldown and re-entry are exercised.
SINGLE = (400, 700, 1000, 1262)
SEQUENCE = (1230, 1240, 1250, 1262, 1290)


@cache
def views() -> tuple[list[tuple[MarketView, PortfolioState]], list[MarketView]]:
    data = open_source("synthetic:years=6").load()
    lookback = create_strategy("default").lookback
    base = create_strategy("default")
    singles = []
    for position in SINGLE:
        view = data.view(position, lookback)
        as_of = view.as_of.to_pydatetime()
        cash = PortfolioState(as_of=as_of, weights={}, cash=1.0, value=1e6, peak_value=1e6)
        target = base.decide(view, cash).weights
        # holdings a little off the target, as prices would drift them
        held = {t: w * (1.01 if i % 2 else 0.99) for i, (t, w) in enumerate(target.items())}
        invested = 1.0 - sum(held.values())
        singles += [
            (view, cash),
            (view, PortfolioState(as_of=as_of, weights=held, cash=invested, value=1e6,
                                  peak_value=1e6)),
            (view, PortfolioState(as_of=as_of, weights=held, cash=invested, value=8e5,
                                  peak_value=1e6)),
        ]
    return singles, [data.view(p, lookback) for p in SEQUENCE]


def decisions(**overrides: Any) -> list[Weights]:
    singles, sequence = views()
    out = [create_strategy("default", **overrides).decide(v, p).weights for v, p in singles]
    engine = create_strategy("default", **overrides)
    for i, view in enumerate(sequence):  # 20% down, then 17% down, from a peak of 1m
        value = 8e5 if i < 3 else 8.3e5
        portfolio = PortfolioState(as_of=view.as_of.to_pydatetime(), weights={}, cash=1.0,
                                   value=value, peak_value=1e6)
        out.append(engine.decide(view, portfolio).weights)
    return out


@cache
def _reference(conditions: str) -> list[Weights]:
    return decisions(**json.loads(conditions))


def reference(**conditions: Any) -> list[Weights]:
    """The decisions with nothing moved (under ``conditions``), computed once."""
    return _reference(json.dumps(conditions, sort_keys=True))


def largest_difference(a: list[Weights], b: list[Weights]) -> float:
    return max(max((abs(x.get(t, 0.0) - y.get(t, 0.0)) for t in set(x) | set(y)), default=0.0)
               for x, y in zip(a, b, strict=True))


def moves(spec: ParameterSpec, current: object) -> list[object]:
    """Values inside the range to move to: each end, or another choice."""
    if spec.kind == "choice":
        return [next(c for c in spec.choices if c != current)]
    assert spec.low is not None and spec.high is not None
    ends = [spec.low, spec.high]
    values = [int(v) if spec.kind == "int" else v for v in ends]
    return [v for v in values if v != current and valid(spec.name, v)]


def valid(name: str, value: object) -> bool:
    """Whether ``value`` passes the cross-parameter rules with the other current values."""
    try:
        validate_values({**current_values(), name: value})
    except ParameterError:
        return False
    return True


def context(name: str, spec: ParameterSpec) -> dict[str, Any]:
    conditions = dict(CONDITIONS.get(name, {}))
    for other, choices in spec.acts_when.items():
        conditions[other] = choices[0]
    return conditions


def test_the_largest_difference_sees_one_moved_weight() -> None:
    base = [{"A": 0.5, "B": 0.2}]
    assert largest_difference(base, [{"A": 0.5, "B": 0.2}]) == 0.0
    assert largest_difference(base, [{"A": 0.5}]) == pytest.approx(0.2)
    assert largest_difference(base, [{"A": 0.5, "B": 0.2, "C": 0.01}]) == pytest.approx(0.01)


@pytest.mark.parametrize("name", sorted(PARAMETER_SPACE))
def test_moving_a_tunable_changes_the_decisions(name: str) -> None:
    spec = PARAMETER_SPACE[name]
    current = current_values()[name]
    if "llm" in spec.requires:
        # Declared to act only with an LLM; offline it must indeed change nothing.
        for value in moves(spec, current):
            assert largest_difference(decisions(**{name: value}), reference()) == 0.0, (
                f"{name} changes offline decisions: its requires=('llm',) is wrong")
        return
    conditions = context(name, spec)
    unmoved = reference(**conditions)
    tried = []
    for value in moves(spec, current):
        overrides = {**conditions, name: value}
        if name == "FACTOR_SIGNAL_THRESHOLD":
            overrides["FACTOR_STRONG_SIGNAL_THRESHOLD"] = 3.0  # must stay above it
        difference = largest_difference(decisions(**overrides), unmoved)
        if difference > 1e-6:
            return
        tried.append(value)
    pytest.fail(f"{name} moved to {tried} changes no decision"
                + (f" under {conditions}" if conditions else ""))


def test_only_the_llm_blending_tunables_need_an_llm() -> None:
    needs_llm = {n for n, s in PARAMETER_SPACE.items() if "llm" in s.requires}
    assert needs_llm == {"FACTOR_WEIGHT", "LLM_MAX_RETRIES", "FACTOR_STRONG_SIGNAL_THRESHOLD"}
