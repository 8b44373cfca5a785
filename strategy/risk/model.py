"""The risk model shared by the managers, the hedging agent and the risk controller.

:func:`estimate_risk_model` turns the tail of a :class:`~alphaloop.contract.MarketView`
into a :class:`RiskModel`: the clean daily returns of the tradable assets over the
estimation window and their Ledoit-Wolf shrunk covariance. Every portfolio statistic
the engine uses (volatility, VaR, diversification ratio, correlation clustering) is
computed here, once, from those two arrays, so the managers and the controller agree on
what "risk" means.

Units: returns, covariance and VaR are daily; :meth:`RiskModel.volatility` is annualised.
VaR and CVaR are positive loss fractions.

When the window holds too few returns to estimate anything (a view of a few days), the
model falls back to a *prior*: volatilities by asset class and one common correlation,
and says so in :attr:`RiskModel.fallback`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy import stats

from alphaloop.contract import TRADING_DAYS_PER_YEAR, MarketView
from strategy.optimizers import nearest_positive_definite, shrunk_covariance

__all__ = [
    "MIN_OBSERVATIONS",
    "PRIOR_CORRELATION",
    "PRIOR_VOLATILITY",
    "RiskModel",
    "clean_returns",
    "estimate_risk_model",
    "quantile",
]

MIN_OBSERVATIONS = 20
"""Fewest daily returns from which covariance and historical VaR are estimated."""

PRIOR_VOLATILITY: Mapping[str, float] = {
    "stocks": 0.25, "bonds": 0.10, "commodities": 0.25, "reits": 0.25, "crypto": 0.80,
}
"""Annual volatility assumed per class when the history is too short to estimate one."""
PRIOR_CORRELATION = 0.5
"""Common correlation assumed between assets when the history is too short."""

_Z_95 = float(stats.norm.ppf(0.95))


def quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a 1-d array, as ``numpy.quantile``'s default (linear) method.

    Written out because ``numpy.quantile``'s overhead dominates for the few hundred
    values a risk window holds, and VaR is evaluated many times per decision.
    """
    ordered = np.sort(values)
    position = q * (ordered.size - 1)
    low = int(np.floor(position))
    high = min(low + 1, ordered.size - 1)
    return float(ordered[low] + (position - low) * (ordered[high] - ordered[low]))


def clean_returns(prices: np.ndarray) -> np.ndarray:
    """Daily simple returns of ``prices`` ``[day, asset]`` with gaps filled.

    A missing price (NaN or not positive) is carried forward from the last valid one,
    so a gap gives a zero return; days before an asset's first valid price give zero.
    """
    array = np.array(prices, dtype=float)
    array[~np.isfinite(array) | (array <= 0)] = np.nan
    n_days = array.shape[0]
    valid = ~np.isnan(array)
    index = np.where(valid, np.arange(n_days)[:, None], 0)
    np.maximum.accumulate(index, axis=0, out=index)
    filled = np.take_along_axis(array, index, axis=0)
    if n_days < 2:
        return np.zeros((0, array.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = filled[1:] / filled[:-1] - 1.0
    out[~np.isfinite(out)] = 0.0
    return out


@dataclass(frozen=True, eq=False)
class RiskModel:
    """Daily return statistics of ``tickers`` (one column each, in this order)."""

    tickers: tuple[str, ...]
    classes: tuple[str, ...]
    returns: np.ndarray
    covariance: np.ndarray
    fallback: str | None = None

    # -- per-asset statistics ---------------------------------------------------------
    @property
    def n_assets(self) -> int:
        return len(self.tickers)

    @property
    def n_obs(self) -> int:
        return int(self.returns.shape[0])

    @cached_property
    def daily_volatility(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    @property
    def volatilities(self) -> np.ndarray:
        """Annualised volatility per asset."""
        return self.daily_volatility * np.sqrt(TRADING_DAYS_PER_YEAR)

    @cached_property
    def correlation(self) -> np.ndarray:
        vols = np.where(self.daily_volatility > 0, self.daily_volatility, 1.0)
        corr = self.covariance / np.outer(vols, vols)
        np.fill_diagonal(corr, 1.0)
        return np.clip(corr, -1.0, 1.0)

    @cached_property
    def mean_returns(self) -> np.ndarray:
        """Mean daily return per asset over the window (zeros without history)."""
        if self.n_obs == 0:
            return np.zeros(self.n_assets)
        return self.returns.mean(axis=0)

    @cached_property
    def position(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tickers)}

    def columns_of(self, asset_class: str) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.classes) if c == asset_class], dtype=int)

    # -- conversions ------------------------------------------------------------------
    def vector(self, weights: Mapping[str, float]) -> np.ndarray:
        """Weights keyed by ticker as a vector in model order (unknown keys ignored)."""
        out = np.zeros(self.n_assets)
        for ticker, value in weights.items():
            i = self.position.get(ticker)
            if i is not None:
                out[i] = float(value)
        return out

    def mapping(self, weights: np.ndarray) -> dict[str, float]:
        return {t: float(w) for t, w in zip(self.tickers, weights, strict=True)}

    def subset(self, columns: Sequence[int]) -> RiskModel:
        cols = np.asarray(columns, dtype=int)
        return RiskModel(
            tickers=tuple(self.tickers[i] for i in cols),
            classes=tuple(self.classes[i] for i in cols),
            returns=self.returns[:, cols],
            covariance=self.covariance[np.ix_(cols, cols)],
            fallback=self.fallback,
        )

    # -- portfolio statistics (w: weights in model order; the rest is cash) -------------
    def portfolio_returns(self, w: np.ndarray) -> np.ndarray:
        return self.returns @ w

    def variance(self, w: np.ndarray) -> float:
        return float(max(w @ self.covariance @ w, 0.0))

    def volatility(self, w: np.ndarray) -> float:
        """Annualised ex-ante volatility."""
        return float(np.sqrt(self.variance(w) * TRADING_DAYS_PER_YEAR))

    def value_at_risk(self, w: np.ndarray, level: float = 0.95) -> float:
        """Daily VaR as a positive loss: the larger of historical and Gaussian estimates.

        Both scale linearly with the weights (``VaR(c w) = c VaR(w)`` for ``c > 0``),
        which is what lets the controller meet a VaR limit by scaling exposure.
        """
        z = _Z_95 if level == 0.95 else float(stats.norm.ppf(level))
        gaussian = z * float(np.sqrt(self.variance(w)))
        if self.n_obs < MIN_OBSERVATIONS:
            return gaussian
        historical = -quantile(self.returns @ w, 1.0 - level)
        return max(gaussian, historical, 0.0)

    def diversification_ratio(self, w: np.ndarray) -> float:
        """Weighted average volatility over portfolio volatility (1 for one asset)."""
        sigma = float(np.sqrt(self.variance(w)))
        if sigma <= 0.0:
            return 1.0
        return float(np.abs(w) @ self.daily_volatility / sigma)

    def correlation_cluster(self, w: np.ndarray) -> float:
        """Weight-weighted mean pairwise correlation among held assets (0 if fewer than 2)."""
        a = np.abs(w)
        total, own = float(a.sum()), float(a @ a)
        pairs = total * total - own
        if pairs <= 1e-12:
            return 0.0
        return float((a @ self.correlation @ a - own) / pairs)

    def risk_contributions(self, w: np.ndarray) -> np.ndarray:
        """Share of portfolio variance per asset (sums to 1; zeros for a flat portfolio)."""
        variance = self.variance(w)
        if variance <= 0.0:
            return np.zeros(self.n_assets)
        return w * (self.covariance @ w) / variance


def _prior_covariance(classes: Sequence[str]) -> np.ndarray:
    annual = np.array([PRIOR_VOLATILITY.get(c, 0.30) for c in classes])
    daily = annual / np.sqrt(TRADING_DAYS_PER_YEAR)
    corr = np.full((len(classes), len(classes)), PRIOR_CORRELATION)
    np.fill_diagonal(corr, 1.0)
    return corr * np.outer(daily, daily)


def estimate_risk_model(
    view: MarketView, tickers: Sequence[str], *, window: int = TRADING_DAYS_PER_YEAR,
    shrinkage: Literal["ledoit_wolf", "sample"] = "ledoit_wolf",
) -> RiskModel:
    """Estimate the risk model of ``tickers`` from the last ``window`` returns of ``view``.

    ``shrinkage`` picks the covariance estimator: Ledoit-Wolf shrinkage toward a scaled
    identity, or the plain sample covariance (tunable ``COVARIANCE_SHRINKAGE``).
    """
    tickers = tuple(tickers)
    classes = tuple(view.asset_class(t) for t in tickers)
    if not tickers:
        return RiskModel((), (), np.zeros((0, 0)), np.zeros((0, 0)))
    cols = [view.column(t) for t in tickers]
    prices = view.prices[-(window + 1):, cols]
    returns = clean_returns(prices)
    if returns.shape[0] < MIN_OBSERVATIONS:
        return RiskModel(
            tickers, classes, returns, _prior_covariance(classes),
            fallback=(f"only {returns.shape[0]} daily returns in the view (fewer than "
                      f"{MIN_OBSERVATIONS}); prior volatilities by class were used"),
        )
    covariance = shrunk_covariance(returns, shrinkage=None if shrinkage == "ledoit_wolf" else 0.0)
    fallback = None
    vols = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    if np.any(vols <= 1e-12) or np.linalg.eigvalsh(covariance)[0] <= 1e-14 * vols.max() ** 2:
        covariance = nearest_positive_definite(covariance)
        fallback = "the estimated covariance was singular; repaired to the nearest positive-" \
                   "definite matrix"
    return RiskModel(tickers, classes, returns, covariance, fallback=fallback)
