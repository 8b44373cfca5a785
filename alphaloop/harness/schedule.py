"""Rebalance dates: on which trading days of a window the strategy is asked to decide.

- ``daily``: every trading day;
- ``weekly``: the last trading day of each calendar week (weeks start on Monday);
- ``monthly``: the last trading day of each calendar month;

always restricted to the window. Two rules complete the schedule:

- the window's **first day is always a decision date**: the portfolio starts in cash and
  is invested at that close, instead of idling until the first period end;
- the window's **last day is never one**: weights chosen at its close would earn nothing
  inside the window, they would only pay costs.

Period ends are read from the whole data set, so the last trading day of a month is the
same whatever window is backtested.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphaloop.harness.config import Frequency

__all__ = ["period_keys", "rebalance_positions"]

def period_keys(dates: pd.DatetimeIndex, frequency: Frequency) -> np.ndarray:
    """An integer per date that changes exactly when a new period starts."""
    if frequency == "daily":
        return np.arange(len(dates))
    if frequency == "weekly":
        days = dates.values.astype("datetime64[D]").astype(np.int64)  # 0 = Thu 1970-01-01
        return (days + 3) // 7  # Monday-based week number
    if frequency == "monthly":
        return np.asarray(dates.year, dtype=np.int64) * 12 + np.asarray(dates.month)
    raise ValueError(f"unknown rebalance frequency {frequency!r}; use daily, weekly or monthly")


def rebalance_positions(
    dates: pd.DatetimeIndex, first: int, last: int, frequency: Frequency
) -> np.ndarray:
    """Positions of the decision dates of the window ``[first, last]`` (inclusive).

    Sorted, unique, starting with ``first`` and all below ``last``.
    """
    if not 0 <= first < last < len(dates):
        raise ValueError(f"window positions {first}..{last} are not inside 0..{len(dates) - 1}")
    keys = period_keys(dates, frequency)
    period_end = np.flatnonzero(keys[1:] != keys[:-1])  # last day before a new period
    inside = period_end[(period_end > first) & (period_end < last)]
    return np.concatenate(([first], inside)).astype(np.intp)
