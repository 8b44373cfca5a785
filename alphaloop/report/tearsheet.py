"""A cycle's tear sheet in numbers: benchmarks, relative figures, years, stress.

The benchmarks are two reference portfolios of :mod:`alphaloop.harness.reference`,
simulated by the trusted harness on the same panels and windows as the cycle's
backtests, with the same rebalancing frequency and costs:

- **equal weight** (:class:`~alphaloop.harness.reference.EqualWeight`): ``1/N`` of every
  asset listed that day;
- **60/40** (:class:`~alphaloop.harness.reference.SixtyForty`): 60% in the panel's
  ``stocks``, 40% in its ``bonds``, equal weights inside each sleeve. A class the panel
  lacks leaves its share in cash (earning nothing); without both classes there is no
  60/40, and the tear sheet says so.

Against each benchmark, per window (in-sample, held-out), :class:`RelativeFigures` holds
the figures a quant lead reads first, all from daily net returns on the days both cover:

- *excess return*: the portfolio's annual return minus the benchmark's (both geometric,
  :func:`~alphaloop.harness.metrics.annual_return`);
- *tracking error*: the annualised volatility of the daily active return (portfolio
  minus benchmark, :func:`~alphaloop.harness.metrics.annual_volatility`);
- *information ratio*: the annualised mean active return over the tracking error (the
  harness's :func:`~alphaloop.harness.metrics.sharpe_ratio` of the active return);
- *beta*: the covariance of the portfolio's daily returns with the benchmark's over the
  benchmark's variance.

:func:`stress_rows` puts Risk's stress scenarios side by side: each scenario's total
return and maximum drawdown for ``main`` and the branch, read from the backtests Risk
ran (the evaluator's cache), never run again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.data.panel import MarketData
from alphaloop.harness.config import Costs, Frequency
from alphaloop.harness.metrics import annual_return, annual_volatility, sharpe_ratio
from alphaloop.harness.reference import EqualWeight, SixtyForty
from alphaloop.harness.result import BacktestResult
from alphaloop.harness.simulate import simulate
from alphaloop.harness.windows import ResearchWindows, Window
from alphaloop.report.curves import Curve, period_returns
from alphaloop.report.history import CycleEntry

if TYPE_CHECKING:
    from alphaloop.evaluation import Evaluator

__all__ = ["EQUAL_WEIGHT", "SIXTY_FORTY", "Benchmark", "RelativeFigures", "StressRow",
           "StressSide", "TearSheet", "YearRow", "build_tear_sheet", "calendar_years",
           "relative_figures", "simulate_benchmarks", "sixty_forty_description",
           "stress_rows", "stress_window", "window_spans"]

EQUAL_WEIGHT = "equal weight"
SIXTY_FORTY = "60/40"

Run = tuple[MarketData, Window]
"""A panel and the window backtested on it."""


class Benchmark(BaseModel):
    """A reference portfolio's curve and a sentence saying what it holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    curve: Curve
    description: str


def _count(asset_classes: Mapping[str, str], asset_class: str) -> int:
    return sum(c == asset_class for c in asset_classes.values())


def _sleeve(share: str, asset_class: str, count: int) -> str:
    if not count:
        return f"{share} in cash (the panel holds no {asset_class})"
    return f"{share} in {count} {asset_class if count > 1 else asset_class[:-1]}"


def sixty_forty_description(asset_classes: Mapping[str, str]) -> str | None:
    """What the 60/40 holds on a panel with these classes; ``None`` when it cannot exist."""
    stocks, bonds = _count(asset_classes, "stocks"), _count(asset_classes, "bonds")
    if not stocks and not bonds:
        return None
    return (f"{_sleeve('60%', 'stocks', stocks)} and {_sleeve('40%', 'bonds', bonds)}, "
            "equal weights inside each class; a class with no listed asset that day "
            "leaves its share in cash")


def simulate_benchmarks(runs: Sequence[Run], *, frequency: str, costs: Costs) -> list[Benchmark]:
    """Equal weight and 60/40 simulated by the harness on each of ``runs``, joined.

    ``runs`` are the cycle's (panel, window) pairs in date order; ``frequency`` and
    ``costs`` are the cycle's. The 60/40 is left out when the panel has neither stocks
    nor bonds.
    """
    if not runs:
        return []
    classes = runs[0][0].asset_classes
    n_assets = len(classes)
    out = []
    candidates = [(EQUAL_WEIGHT, EqualWeight(), f"an equal share of each of the {n_assets} "
                                                "assets, among those listed that day"),
                  (SIXTY_FORTY, SixtyForty(), sixty_forty_description(classes))]
    for label, strategy, description in candidates:
        if description is None:
            continue
        results = [simulate(strategy, panel, window, frequency=cast(Frequency, frequency),
                            costs=costs) for panel, window in runs]
        out.append(Benchmark(curve=Curve.from_results(label, *results, asset_classes=classes),
                             description=description))
    return out


class RelativeFigures(BaseModel):
    """A portfolio against a benchmark over one window (see the module notes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: str
    portfolio: str
    benchmark: str
    portfolio_return: float = Field(description="annual return, geometric")
    benchmark_return: float = Field(description="annual return, geometric")
    excess_return: float = Field(description="portfolio_return - benchmark_return")
    tracking_error: float = Field(description="annualised volatility of the active return")
    information_ratio: float = Field(description="annualised mean active return / TE")
    beta: float
    n_days: int


def relative_figures(portfolio: Curve, benchmark: Curve, window: str) -> RelativeFigures:
    """``portfolio`` against ``benchmark`` on the days both cover."""
    left, right = portfolio.series(), benchmark.series()
    common = left.index.intersection(right.index)
    if len(common) < 2:
        raise ValueError(f"{portfolio.label!r} and {benchmark.label!r} share "
                         f"{len(common)} day(s) in the {window} window; 2 are needed")
    r, b = left[common].to_numpy(), right[common].to_numpy()
    active = r - b
    variance = float(np.var(b, ddof=1))
    beta = float(np.cov(r, b, ddof=1)[0, 1] / variance) if variance > 1e-18 else float("nan")
    ours, theirs = annual_return(r), annual_return(b)
    return RelativeFigures(
        window=window, portfolio=portfolio.label, benchmark=benchmark.label,
        portfolio_return=ours, benchmark_return=theirs, excess_return=ours - theirs,
        tracking_error=annual_volatility(active), information_ratio=sharpe_ratio(active),
        beta=beta, n_days=len(common))


def window_spans(holdout_start: date | None) -> list[tuple[str, date | None, date | None]]:
    """The windows a tear sheet splits its curves into: (name, first day, last day)."""
    if holdout_start is None:
        return [("in-sample", None, None)]
    return [("in-sample", None, holdout_start - timedelta(days=1)),
            ("held-out", holdout_start, None)]


class YearRow(BaseModel):
    """Each portfolio's compounded return over one calendar year (or the part covered)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int
    first: date
    last: date
    returns: dict[str, float]

    @property
    def partial(self) -> bool:
        """The curves start after the year's first week or end before its last."""
        return self.first > date(self.year, 1, 7) or self.last < date(self.year, 12, 24)


def calendar_years(curves: Sequence[Curve]) -> list[YearRow]:
    """One row per calendar year the first curve covers, every curve's return in it."""
    dates = curves[0].index()
    rows = []
    years = {c.label: period_returns(c, "Y") for c in curves}
    for year in sorted(set(dates.year)):
        inside = dates[dates.year == year]
        returns = {label: float(series[p]) for label, series in years.items()
                   for p in series.index if p.year == year}
        rows.append(YearRow(year=int(year), first=inside[0].date(), last=inside[-1].date(),
                            returns=returns))
    return rows


class StressSide(BaseModel):
    """One side's result in a stress scenario."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    total_return: float
    max_drawdown: float


class StressRow(BaseModel):
    """A stress scenario with ``main``'s and the branch's results (``None``: not found)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    kind: Literal["real", "synthetic"]
    start: date
    end: date
    main: StressSide | None
    branch: StressSide | None


def stress_window(name: str, start: date, end: date) -> Window:
    """The window Risk backtests scenario ``name`` over (the evaluator's cache key)."""
    return Window(start=start, end=end, label=f"stress-{name}")


def _side(result: BacktestResult) -> StressSide:
    return StressSide(total_return=result.metrics.total_return,
                      max_drawdown=result.metrics.max_drawdown)


def stress_rows(entry: CycleEntry, *, evaluator: Evaluator, data: MarketData,
                windows: ResearchWindows) -> list[StressRow]:
    """Every scenario of the cycle's Risk review with ``main``'s and the branch's result.

    The scenarios are rebuilt from the in-sample panel as Risk builds them
    (:func:`alphaloop.data.stress.stress_scenarios`), and each side's result is read from
    the evaluator's cache; a side Risk did not run (or whose backtest is gone) is
    ``None``. A scenario the record names but the panel no longer yields keeps the
    branch's drawdown from the record.
    """
    from alphaloop.data.stress import stress_scenarios

    risk, plan, implement = entry.risk_review, entry.plan, entry.implement
    if risk is None or not risk.stress or plan is None or implement is None:
        return []
    in_sample = data.slice(end=windows.in_sample.end)
    built = {s.name: s for s in stress_scenarios(in_sample) if s.name in risk.stress}
    rows = []
    for name in [*built, *sorted(set(risk.stress) - set(built))]:  # Risk's order
        recorded, scenario = risk.stress[name], built.get(name)
        if scenario is None:
            rows.append(StressRow(
                scenario=name, kind="synthetic" if name.startswith("synthetic") else "real",
                start=recorded.start, end=recorded.end, main=None,
                branch=StressSide(total_return=float("nan"),
                                  max_drawdown=recorded.max_drawdown)))
            continue
        window = stress_window(name, scenario.window.start, scenario.window.end)
        sides = {}
        for side, sha in (("main", plan.base_sha), ("branch", implement.head_sha)):
            cached = evaluator.is_cached(sha, scenario.panel, window)
            sides[side] = (_side(evaluator.backtest(sha, scenario.panel, window))
                           if cached else None)
        rows.append(StressRow(scenario=name, kind=scenario.kind, start=window.start,
                              end=window.end, **sides))
    return rows


class TearSheet(BaseModel):
    """The tear sheet's tables for the walkthrough (its charts are PNG files)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: list[str] = Field(description="main, then the branch when there is one")
    benchmarks: dict[str, str] = Field(description="benchmark label -> what it holds")
    frequency: str | None = None
    costs: Costs | None = None
    relative: list[RelativeFigures] = Field(default_factory=list)
    years: list[YearRow] = Field(default_factory=list)
    stress: list[StressRow] = Field(default_factory=list)


def build_tear_sheet(curves: Sequence[Curve], benchmarks: Sequence[Benchmark], *,
                     holdout_start: date | None, stress: Sequence[StressRow] = (),
                     frequency: str | None = None, costs: Costs | None = None) -> TearSheet:
    """The tables of the tear sheet from ``main``'s and the branch's curves."""
    relative = []
    for name, start, end in window_spans(holdout_start):
        for benchmark in benchmarks:
            theirs = benchmark.curve.between(start, end)
            for curve in curves:
                ours = curve.between(start, end)
                if ours is not None and theirs is not None and len(ours.dates) > 1:
                    relative.append(relative_figures(ours, theirs, name))
    every = [*curves, *(b.curve for b in benchmarks)]
    return TearSheet(labels=[c.label for c in curves],
                     benchmarks={b.curve.label: b.description for b in benchmarks},
                     frequency=frequency, costs=costs, relative=relative,
                     years=calendar_years(every), stress=list(stress))
