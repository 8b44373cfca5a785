"""What a loaded panel holds and lacks: coverage, gaps, odd moves, missing fields.

:func:`data_report` describes any :class:`MarketData` (with the file alignment report
when there is one) as a :class:`DataReport`: per asset its listing, coverage of the
calendar, filled gaps, zero or missing volume and suspicious daily moves; for the panel
the fields it lacks, the real crisis windows it covers and what a cycle will and will
not be able to assess on it. ``alphaloop data check`` prints it; a cycle can show it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.data.calendar import Alignment
from alphaloop.data.crises import CRISIS_WINDOWS, DEFAULT_HISTORY, CrisisCoverage, crisis_coverage
from alphaloop.data.defaults import SUSPICIOUS_MOVE
from alphaloop.data.panel import MarketData
from alphaloop.data.schema import FUNDAMENTAL_FIELDS, MACRO_SERIES

__all__ = [
    "SUSPICIOUS_MOVE",
    "Assessment",
    "AssetReport",
    "DataReport",
    "Move",
    "data_report",
]

_LISTED = 10


class Move(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    ret: float = Field(description="simple daily return")


class AssetReport(BaseModel):
    """One asset: its listing, how it was aligned, what is missing or odd."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: str
    asset_class: str
    first: date
    last: date
    sessions: int = Field(description="sessions listed")
    share: float = Field(description="share of the panel's sessions it is listed on")
    rule: str = Field(description="how its rows were placed on the calendar")
    rows: int | None = None
    merged_rows: int = 0
    dropped_rows: int = 0
    filled: int = 0
    filled_sessions: list[date] = Field(default_factory=list)
    zero_volume: int = 0
    zero_volume_sessions: list[date] = Field(default_factory=list)
    missing_volume: int = Field(default=0, description="listed sessions without volume")
    suspicious: list[Move] = Field(default_factory=list)


class Assessment(BaseModel):
    """Whether a cycle can assess one thing on this data, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    possible: bool
    note: str


class DataReport(BaseModel):
    """The report of one panel (JSON-ready)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    calendar: str
    sessions: int
    first: date
    last: date
    assets: list[AssetReport]
    volume: str = Field(description="complete, partial or missing")
    fundamentals: list[str]
    missing_fundamentals: list[str]
    macro: list[str]
    missing_macro: list[str]
    crises: list[CrisisCoverage]
    assessments: list[Assessment]

    @property
    def missing_fields(self) -> list[str]:
        """Field names the data lacks (``volume`` when no asset has any)."""
        return ([*(["volume"] if self.volume == "missing" else []),
                 *self.missing_fundamentals, *self.missing_macro])


def _asset(data: MarketData, j: int, alignment: Alignment | None,
           move_limit: float) -> AssetReport:
    listed = data.listed[:, j]
    first, last = int(data.first_listed[j]), int(data.last_listed[j])
    volume = data.volumes[first:last + 1, j]
    days = data.dates[first:last + 1]
    zero = volume == 0
    returns = data.returns[:, j]
    big = np.flatnonzero(np.abs(returns) > move_limit)
    aligned = alignment.assets[j] if alignment is not None else None
    extra = {} if aligned is None else {
        "rule": aligned.rule, "rows": aligned.rows, "merged_rows": aligned.merged_rows,
        "dropped_rows": aligned.dropped_rows, "filled": aligned.filled,
        "filled_sessions": aligned.filled_sessions}
    return AssetReport(
        ticker=data.tickers[j], asset_class=data.assets[j].asset_class,
        first=data.dates[first].date(), last=data.dates[last].date(),
        sessions=int(listed.sum()), share=float(listed.mean()),
        **{"rule": "as generated", **extra},
        zero_volume=int(zero.sum()),
        zero_volume_sessions=[d.date() for d in days[zero][:_LISTED]],
        missing_volume=int(np.isnan(volume).sum()),
        suspicious=[Move(date=data.dates[i].date(), ret=float(returns[i])) for i in big])


def _assessments(data: MarketData, volume: str, crises: list[CrisisCoverage],
                 fundamentals: list[str]) -> list[Assessment]:
    classes = {a.asset_class for a in data.assets}
    covered = [c.name for c in crises if c.covered]
    return [
        Assessment(topic="liquidity", possible=volume != "missing",
                   note={"complete": "days to liquidate from real volume",
                         "partial": "assessed where volume exists; the other holdings are "
                                    "reported as not assessed",
                         "missing": "no volume: Risk reports liquidity as not assessed"}[
                       volume]),
        Assessment(topic="VIX regime", possible="VIX" in data.macro,
                   note="from the VIX series" if "VIX" in data.macro else
                   "no VIX series: the regime is read from realised volatility, and the "
                   "Quant leaves VIX tunables alone"),
        Assessment(topic="fundamental factors", possible=bool(fundamentals),
                   note=(f"from {', '.join(fundamentals)}" if fundamentals else
                         "no fundamentals: experts score price-based factors only")),
        Assessment(topic="crypto", possible="crypto" in classes,
                   note="crypto assets present" if "crypto" in classes else
                   "no crypto: its expert and tunables have nothing to act on"),
        Assessment(topic="real stress", possible=bool(covered),
                   note=(f"replays {', '.join(covered)}" if covered else
                         "no real crisis window covered: synthetic shocks only")),
    ]


def data_report(data: MarketData, alignment: Alignment | None = None, *,
                move_limit: float = SUSPICIOUS_MOVE,
                history: int = DEFAULT_HISTORY) -> DataReport:
    """Describe ``data`` (see the module docstring); ``alignment`` from a file load."""
    listed = data.listed
    has_volume = np.isfinite(data.volumes) & listed
    per_asset = has_volume.any(axis=0)
    volume = ("missing" if not per_asset.any() else
              "complete" if has_volume.sum() == listed.sum() else "partial")
    fundamentals = [k for k, v in data.fundamentals.items() if np.isfinite(v).any()]
    crises = [crisis_coverage(data, c, history=history) for c in CRISIS_WINDOWS.values()]
    return DataReport(
        source=data.source,
        calendar=alignment.calendar if alignment is not None else "as generated",
        sessions=data.n_days, first=data.dates[0].date(), last=data.dates[-1].date(),
        assets=[_asset(data, j, alignment, move_limit) for j in range(len(data.tickers))],
        volume=volume, fundamentals=fundamentals,
        missing_fundamentals=[f for f in FUNDAMENTAL_FIELDS if f not in fundamentals],
        macro=[k for k in data.macro], missing_macro=[m for m in MACRO_SERIES
                                                       if m not in data.macro],
        crises=crises, assessments=_assessments(data, volume, crises, fundamentals))
