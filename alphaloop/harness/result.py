"""The record of one backtest, computed by the harness alone and saved as JSON.

Arrays are NumPy arrays in memory (read-only) and nested lists in JSON; floats keep
every bit through a JSON round trip, so a saved result reloads equal to the original.
Row ``d`` of the daily arrays is trading day ``dates[d]`` of the window.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pydantic_core
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from alphaloop.harness._files import write_atomic
from alphaloop.harness.config import BacktestConfig
from alphaloop.harness.metrics import Metrics

__all__ = ["BacktestResult", "DecisionLog", "DecisionRecord", "FloatArray", "Trade"]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a parsed result is millions of new objects
    and no cycle, and the collector would walk the heap over and over while they come."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _float_array(value: Any) -> np.ndarray:
    """``value`` as a read-only float array: a copy, unless it is already a read-only
    float64 array that owns its memory (its owner froze it and hands it over), kept."""
    if isinstance(value, np.ndarray) and value.dtype == np.float64 \
            and not value.flags.writeable and value.flags.owndata:
        return value
    array = np.array(value, dtype=float)
    array.setflags(write=False)
    return array


FloatArray = Annotated[
    np.ndarray,
    BeforeValidator(_float_array),
    PlainSerializer(lambda a: a.tolist(), return_type=list, when_used="always"),
    WithJsonSchema({"type": "array", "items": {}}),
]
"""A read-only float ndarray that serialises as (nested) JSON lists."""


class Trade(BaseModel):
    """One executed rebalance: what was traded at the close of ``date`` and what it cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    turnover: float = Field(ge=0, description="sum |target - drifted weight|")
    cost: float = Field(ge=0, description="cost as a fraction of the pre-trade value")
    cost_amount: float = Field(ge=0, description="cost in currency units")
    value: float = Field(description="portfolio value at the close, before the trade")


class DecisionRecord(BaseModel):
    """One decision of the strategy, as :meth:`DecisionLog.entry` presents it."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    date: date
    value: float
    target: FloatArray
    deviation: float
    traded: bool
    turnover: float
    cost: float
    record: dict[str, Any]


class DecisionLog(BaseModel):
    """Every decision of a run, one entry per decision date (columns of equal length).

    ``values`` is the portfolio value at the decision close before trading; ``targets``
    the validated target weights ``[decision, asset]``; ``deviation`` the largest
    ``|target - drifted weight|``; ``traded`` whether it reached the rebalance threshold;
    ``turnover`` and ``cost`` (fraction of ``values``) are 0 when not traded;
    ``records`` holds each :attr:`alphaloop.contract.Decision.record` as plain JSON
    (non-finite numbers become ``null``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    dates: tuple[date, ...]
    values: FloatArray
    targets: FloatArray
    deviation: FloatArray
    traded: tuple[bool, ...]
    turnover: FloatArray
    cost: FloatArray
    records: tuple[dict[str, Any], ...]

    @model_validator(mode="after")
    def _aligned(self) -> DecisionLog:
        n = len(self.dates)
        sizes = {"values": self.values.shape[0], "targets": self.targets.shape[0],
                 "deviation": self.deviation.shape[0], "traded": len(self.traded),
                 "turnover": self.turnover.shape[0], "cost": self.cost.shape[0],
                 "records": len(self.records)}
        wrong = {k: v for k, v in sizes.items() if v != n}
        if wrong or self.targets.ndim != 2:
            raise ValueError(f"decision log columns disagree with its {n} dates: {wrong}, "
                             f"targets shape {self.targets.shape}")
        return self

    def __len__(self) -> int:
        return len(self.dates)

    def entry(self, i: int) -> DecisionRecord:
        """Decision ``i`` as one record."""
        return DecisionRecord(
            date=self.dates[i], value=float(self.values[i]), target=self.targets[i],
            deviation=float(self.deviation[i]), traded=self.traded[i],
            turnover=float(self.turnover[i]), cost=float(self.cost[i]),
            record=self.records[i])

    def entries(self) -> tuple[DecisionRecord, ...]:
        """Every decision as one record each."""
        return tuple(self.entry(i) for i in range(len(self.dates)))

    @property
    def trades(self) -> tuple[Trade, ...]:
        """The executed rebalances."""
        return tuple(
            Trade(date=self.dates[i], turnover=float(self.turnover[i]),
                  cost=float(self.cost[i]),
                  cost_amount=float(self.cost[i] * self.values[i]),
                  value=float(self.values[i]))
            for i in range(len(self.dates)) if self.traded[i])


class BacktestResult(BaseModel):
    """Daily returns, values, weights, decisions and metrics of one simulated window.

    ``weights`` are end-of-day weights ``[day, asset]`` (after any trade at that close);
    the cash weight is ``1 - weights.sum(axis=1)``. ``returns`` are net of costs:
    ``returns[d] = values[d] / values[d - 1] - 1`` with ``initial_capital`` before day 0.
    ``turnover`` and ``costs`` (a fraction of the pre-trade value) are zero on days
    without a trade. The decision log is stored by column; :attr:`decisions`,
    :attr:`trades` and :attr:`records` read it one decision at a time.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    config: BacktestConfig
    data_hash: str
    tickers: tuple[str, ...]
    dates: tuple[date, ...]
    returns: FloatArray
    values: FloatArray
    weights: FloatArray
    turnover: FloatArray
    costs: FloatArray
    decision_log: DecisionLog
    metrics: Metrics

    @property
    def decisions(self) -> tuple[DecisionRecord, ...]:
        """Every decision as a :class:`DecisionRecord`, in date order."""
        return self.decision_log.entries()

    @property
    def trades(self) -> tuple[Trade, ...]:
        """Per executed rebalance: date, turnover, cost."""
        return self.decision_log.trades

    @property
    def records(self) -> tuple[dict[str, Any], ...]:
        """Each decision's record (``Decision.record``), in decision order."""
        return self.decision_log.records

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BacktestResult):
            return NotImplemented
        return self.model_dump_json() == other.model_dump_json()

    __hash__ = None  # type: ignore[assignment]

    # -- pandas views -----------------------------------------------------------------
    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.dates)

    def returns_series(self) -> pd.Series:
        return pd.Series(np.array(self.returns), index=self.index, name="returns")

    def equity_series(self) -> pd.Series:
        return pd.Series(np.array(self.values), index=self.index, name="value")

    def weights_frame(self) -> pd.DataFrame:
        return pd.DataFrame(np.array(self.weights), index=self.index, columns=list(self.tickers))

    @property
    def cash(self) -> np.ndarray:
        """End-of-day cash weight per day."""
        return 1.0 - self.weights.sum(axis=1)

    # -- files ------------------------------------------------------------------------
    def to_json(self, *, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> BacktestResult:
        """The result a JSON text describes. The text is parsed first and the parsed
        values validated after: for a decision log of free-form records that is about
        twice as fast as validating the text itself, with the same outcome. Text that is
        not JSON fails as validating it would."""
        with _collector_paused():
            try:
                parsed = pydantic_core.from_json(text)
            except ValueError:
                return cls.model_validate_json(text)  # raises the ValidationError
            return cls.model_validate(parsed)

    def save(self, path: Path) -> Path:
        """Write the result as JSON to ``path`` (atomically: temp file, then rename)."""
        write_atomic(Path(path), self.to_json().encode())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> BacktestResult:
        return cls.from_json(Path(path).read_bytes())
