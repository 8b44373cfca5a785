"""The series the walkthrough's charts and tables are drawn from, read off backtests.

A :class:`Curve` is one portfolio's daily net returns (and, when known, its end-of-day
weights by asset class) over the windows its backtests cover, joined in date order:
typically the in-sample backtest followed by the held-out one. Every number starts from
the trusted harness's :class:`~alphaloop.harness.result.BacktestResult`; this module only
compounds, groups and slices it, with the harness's own conventions (drawdowns from
:func:`~alphaloop.harness.metrics.drawdown_series`, Sharpe ratios annualised over
:data:`~alphaloop.contract.TRADING_DAYS_PER_YEAR` with the sample standard deviation).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.errors import Failure
from alphaloop.harness.metrics import drawdown_series
from alphaloop.harness.result import BacktestResult

__all__ = ["CLASS_ORDER", "Curve", "PlotError", "difference", "period_returns",
           "rolling_sharpe"]

CLASS_ORDER: tuple[str, ...] = ("stocks", "bonds", "commodities", "reits", "crypto", "cash")
"""Asset classes in the order charts stack them; ``cash`` is the unallocated rest."""


class PlotError(Failure, ValueError):
    """The curves cannot be drawn; the message says what is wrong with them."""


class Curve(BaseModel):
    """One portfolio on the charts: a label, daily net returns on trading dates and,
    optionally, its end-of-day weight in each asset class (``cash`` included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    dates: tuple[date, ...] = Field(min_length=1)
    returns: tuple[float, ...]
    weights: dict[str, tuple[float, ...]] = Field(
        default_factory=dict, description="asset class -> end-of-day weight per date")

    @model_validator(mode="after")
    def _aligned(self) -> Curve:
        if len(self.dates) != len(self.returns):
            raise ValueError(f"curve {self.label!r} has {len(self.dates)} dates but "
                             f"{len(self.returns)} returns")
        if any(b <= a for a, b in zip(self.dates, self.dates[1:], strict=False)):
            raise ValueError(f"curve {self.label!r}: dates must be strictly increasing")
        if not np.all(np.isfinite(self.returns)):
            raise ValueError(f"curve {self.label!r} holds non-finite returns")
        wrong = [k for k, v in self.weights.items() if len(v) != len(self.dates)]
        if wrong:
            raise ValueError(f"curve {self.label!r}: the weights of {', '.join(wrong)} do "
                             f"not have one value per date")
        return self

    @classmethod
    def from_results(cls, label: str, *results: BacktestResult,
                     asset_classes: Mapping[str, str] | None = None) -> Curve:
        """Join backtests of adjacent windows (e.g. in-sample then held-out) into one curve.

        Days repeated by a later window are taken from the later one. With
        ``asset_classes`` (ticker -> class) the curve also carries the weights summed by
        class, and ``cash`` as the harness counts it (one minus the invested weights).
        """
        if not results:
            raise PlotError(f"curve {label!r} needs at least one backtest")
        series = pd.concat([r.returns_series() for r in results])
        keep = ~series.index.duplicated(keep="last")
        series = series[keep].sort_index()
        weights: dict[str, tuple[float, ...]] = {}
        if asset_classes is not None:
            frame = pd.concat([_class_weights(r, asset_classes) for r in results])
            frame = frame[~frame.index.duplicated(keep="last")].sort_index().fillna(0.0)
            weights = {c: tuple(float(x) for x in frame[c]) for c in frame.columns}
        return cls(label=label, dates=tuple(d.date() for d in series.index),
                   returns=tuple(float(x) for x in series.to_numpy()), weights=weights)

    # -- views ------------------------------------------------------------------------
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(pd.to_datetime(list(self.dates)))

    def series(self) -> pd.Series:
        """Daily net returns indexed by date."""
        return pd.Series(self.returns, index=self.index(), name=self.label, dtype=float)

    def equity(self) -> np.ndarray:
        """Value of 1 invested, after each day."""
        return np.cumprod(1.0 + np.asarray(self.returns, dtype=float))

    def cumulative_return(self) -> np.ndarray:
        """Return since the first day, compounded: ``equity - 1``."""
        return self.equity() - 1.0

    def drawdown(self) -> np.ndarray:
        """Drawdown after each day, a positive fraction below the running peak."""
        return drawdown_series(np.asarray(self.returns, dtype=float))

    def underwater(self) -> np.ndarray:
        """The drawdown as a loss from the peak: 0 at a new high, negative below it."""
        return -self.drawdown()

    def weights_frame(self) -> pd.DataFrame:
        """End-of-day weight per asset class (columns in :data:`CLASS_ORDER`)."""
        known = [c for c in CLASS_ORDER if c in self.weights and c != "cash"]
        other = sorted(c for c in self.weights if c not in CLASS_ORDER)
        order = known + other + (["cash"] if "cash" in self.weights else [])
        return pd.DataFrame({c: self.weights[c] for c in order}, index=self.index())

    def between(self, start: date | None = None, end: date | None = None) -> Curve | None:
        """The days in ``[start, end]`` as a curve of their own (``None`` if there are none)."""
        keep = [i for i, d in enumerate(self.dates)
                if (start is None or d >= start) and (end is None or d <= end)]
        if not keep:
            return None
        return Curve(label=self.label, dates=tuple(self.dates[i] for i in keep),
                     returns=tuple(self.returns[i] for i in keep),
                     weights={c: tuple(v[i] for i in keep) for c, v in self.weights.items()})


def _class_weights(result: BacktestResult, asset_classes: Mapping[str, str]) -> pd.DataFrame:
    frame = result.weights_frame()
    classes = [asset_classes.get(t, "other") for t in frame.columns]
    grouped = frame.T.groupby(classes).sum().T
    grouped["cash"] = result.cash
    return grouped


def difference(main: Curve, branch: Curve) -> pd.DataFrame:
    """The branch minus ``main`` on the days both cover, in fractions of the capital.

    Column ``cumulative_return``: the branch's compounded return since the first common
    day minus ``main``'s (above 0: the branch is ahead). Column ``drawdown``: the branch's
    underwater value minus ``main``'s (above 0: the branch is less deep below its peak).
    """
    left, right = main.series(), branch.series()
    common = left.index.intersection(right.index)
    if common.empty:
        raise PlotError(f"{main.label!r} and {branch.label!r} share no day to compare")
    a, b = left[common].to_numpy(), right[common].to_numpy()
    return pd.DataFrame({
        "cumulative_return": np.cumprod(1.0 + b) - np.cumprod(1.0 + a),
        "drawdown": drawdown_series(a) - drawdown_series(b),
    }, index=common)


def rolling_sharpe(curve: Curve, days: int) -> pd.Series:
    """Sharpe ratio of each trailing ``days``-day window, annualised (NaN before the first
    full window, and where the window's returns do not vary)."""
    if days < 2:
        raise PlotError(f"a rolling Sharpe needs windows of at least 2 days, not {days}")
    returns = curve.series()
    window = returns.rolling(days, min_periods=days)
    mean, std = window.mean(), window.std(ddof=1)
    ratio = mean / std.where(std > 1e-12) * np.sqrt(TRADING_DAYS_PER_YEAR)
    return ratio.rename(curve.label)


def period_returns(curve: Curve, period: str) -> pd.Series:
    """Compounded return of each calendar period: ``"M"`` months or ``"Y"`` years,
    indexed by :class:`pandas.Period`. A period the curve covers only in part holds the
    return of the days it covers."""
    if period not in ("M", "Y"):
        raise PlotError(f"period must be 'M' (months) or 'Y' (years), not {period!r}")
    returns = curve.series()
    grouped = (1.0 + returns).groupby(returns.index.to_period(period)).prod() - 1.0
    return grouped.rename(curve.label)
