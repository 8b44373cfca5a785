"""What QA writes for one change, as data: the tests by name and kind, and everything
their template needs (the universe, the hard limits, Risk's synthetic stress scenarios).

The tests are a fixed menu near the change: the engine's invariants as properties on
random point-in-time views, one range test per moved tunable, one pinned figure per
regression test on a fixed window, and one stress test per synthetic scenario of
:mod:`alphaloop.data.stress`. :func:`render_tests` writes the kept ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.data.panel import MarketData
from alphaloop.data.stress import STRESS_SCENARIOS
from alphaloop.policy import Policies
from alphaloop.roles.qa.change import ChangeUnderTest

__all__ = ["FIGURES", "PROPERTIES", "PlannedTest", "TestPlan", "plan_tests"]

TestKind = Literal["property", "range", "regression", "stress", "model"]

#: The engine's invariants, each one property test.
PROPERTIES: tuple[str, ...] = (
    "test_weights_are_finite",
    "test_weights_are_never_negative",
    "test_no_asset_exceeds_the_single_asset_limit",
    "test_no_asset_class_exceeds_the_class_limit",
    "test_weights_sum_to_at_most_one",
    "test_same_view_gives_the_same_weights",
    "test_decision_ignores_data_after_its_date",
)

#: The key figures a regression test pins, each with what it is.
FIGURES: Mapping[str, str] = {
    "invested_share": "The mean share invested over the fixed window",
    "largest_weight": "The largest weight given to one asset over the fixed window",
    "turnover": "The turnover of the decisions over the fixed window",
    "window_return": "The return of the fixed window, weights held between decisions",
}

MAX_UNIVERSE = 12


class PlannedTest(BaseModel):
    """One generated test: its function name, kind and what it is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: TestKind
    tunable: str | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    figure: str | None = None
    scenario: str | None = None
    doc: str = ""
    source: str = ""
    """A ``model`` test's whole function (see :mod:`.model_tests`)."""


class TestPlan(BaseModel):
    """Every test QA writes for one change and the values its template is filled with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    __test__ = False  # not a pytest class

    title: str
    change_text: str
    profile: str
    universe: list[tuple[str, str]]
    limits: dict[str, float]
    scenarios: list[dict[str, object]]
    tests: list[PlannedTest]
    max_examples: int = Field(ge=1)
    min_days: int = 260
    max_days: int = 400
    regression_seed: int = 20240101
    regression_days: int = 360
    regression_start: int = 252
    stress_seed: int = 7
    stress_history: int = 300
    pinned_tolerance: float = 1e-6
    pinned: dict[str, float] = Field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tests]

    def of_kind(self, kind: TestKind) -> list[PlannedTest]:
        return [t for t in self.tests if t.kind == kind]


def _identifier(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "change"


def _universe(data: MarketData) -> list[tuple[str, str]]:
    """Up to :data:`MAX_UNIVERSE` assets listed on the data's last day, taken in turn from
    each asset class so every class is there."""
    by_class: dict[str, list[str]] = {}
    for asset, listed in zip(data.assets, data.listed[-1], strict=True):
        if listed:
            by_class.setdefault(asset.asset_class, []).append(asset.ticker)
    out: list[tuple[str, str]] = []
    while len(out) < MAX_UNIVERSE and any(by_class.values()):
        for asset_class, tickers in by_class.items():
            if tickers and len(out) < MAX_UNIVERSE:
                out.append((tickers.pop(0), asset_class))
    return out


def _scenarios(classes: Iterable[str]) -> list[dict[str, object]]:
    held = set(classes)
    return [{"name": s.name, "fall_days": s.fall_days, "recovery_days": s.recovery_days,
             "moves": {c: list(m) for c, m in sorted(s.moves.items())}}
            for s in STRESS_SCENARIOS.values() if held & set(s.moves)]


def plan_tests(change: ChangeUnderTest, data: MarketData, policies: Policies, *,
               title: str, profile: str, max_examples: int) -> TestPlan:
    """The tests QA writes for ``change`` (none when it changes no strategy file); the
    views use assets of ``data``."""
    universe = _universe(data)
    hard = policies.risk.hard_limits
    scenarios = _scenarios(c for _, c in universe)
    tests = [PlannedTest(name=name, kind="property") for name in PROPERTIES
             if change.tunables or change.added_lines]
    for moved in change.tunables:
        tests.append(PlannedTest(
            name=f"test_{_identifier(moved.name)}_stays_inside_its_declared_range",
            kind="range", tunable=moved.name, low=moved.low, high=moved.high,
            choices=moved.choices))
    if tests:
        tests += [PlannedTest(name=f"test_pinned_{figure}_on_the_fixed_window",
                              kind="regression", figure=figure, doc=doc)
                  for figure, doc in FIGURES.items()]
        tests += [PlannedTest(name=f"test_hard_limits_hold_in_{s['name']}", kind="stress",
                              scenario=str(s["name"])) for s in scenarios]
    return TestPlan(title=title, change_text=change.text(), profile=profile,
                    universe=universe,
                    limits={"max_single_asset": hard.max_single_asset,
                            "max_asset_class": hard.max_asset_class},
                    scenarios=scenarios, tests=[t for t in tests if _declared(t)],
                    max_examples=max_examples)


def _declared(test: PlannedTest) -> bool:
    """A range test needs a declared range or choices."""
    return test.kind != "range" or bool(test.choices) or (
        test.low is not None and test.high is not None)
