"""The figures a record quotes for one backtest window or walk-forward fold."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

__all__ = ["FoldScore", "RunMetrics"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunMetrics(_Record):
    """The figures a review quotes for one backtest window."""

    label: str
    start: date
    end: date
    sharpe: float
    annual_return: float
    annual_volatility: float
    max_drawdown: float
    calmar: float
    var_95: float
    turnover: float
    reward: float
    n_days: int


class FoldScore(_Record):
    label: str
    sharpe: float
    max_drawdown: float
    reward: float
