"""Reference strategies: inverse volatility, equal weights and a 60/40 stocks/bonds mix.

:class:`InverseVolatility` (long-only) weighs each asset in proportion to
``1 / sigma``, where ``sigma`` is the standard deviation of its daily returns over the
last ``window`` days, scaled so the weights sum to ``invested`` (the rest is cash).
Assets without enough history or with zero volatility get no weight; with no usable
asset at all the portfolio stays in cash.

:class:`EqualWeight` holds ``invested / n`` of each asset; reports use it as the
benchmark line.

:class:`SixtyForty` is the classic balanced benchmark, built from the panel's asset
classes: 60% in the assets of class ``stocks`` and 40% in those of class ``bonds``, each
sleeve split equally among its assets listed that day. A sleeve whose class has no listed
asset leaves its share in cash (which earns nothing in the harness), so on a panel
without bonds the benchmark is 60% stocks and 40% cash; it never borrows the missing
share from the other class.

They are the baselines the harness is tested and benchmarked with, and templates for a
strategy: each reads only the :class:`~alphaloop.contract.MarketView` it is given,
declares the history it needs in ``lookback`` and returns a
:class:`~alphaloop.contract.Decision`.
"""

from __future__ import annotations

import numpy as np

from alphaloop.contract import TRADING_DAYS_PER_YEAR, Decision, MarketView, PortfolioState

__all__ = ["EqualWeight", "InverseVolatility", "SixtyForty"]


class InverseVolatility:
    """Weights proportional to inverse volatility; a stateless reference strategy."""

    name = "inverse-vol"

    def __init__(self, window: int = 63, invested: float = 1.0) -> None:
        if window < 2:
            raise ValueError(f"the volatility window needs at least 2 returns, got {window}")
        if not 0.0 < invested <= 1.0:
            raise ValueError(f"invested must be in (0, 1], got {invested}")
        self.window = window
        self.invested = invested

    @property
    def lookback(self) -> int:
        """Days of prices needed: ``window`` returns take ``window + 1`` closes."""
        return self.window + 1

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        returns = view.returns[-self.window:]
        if returns.shape[0] < 2:
            return Decision(weights={}, record={"reason": "not enough history"})
        sigma = returns.std(axis=0, ddof=1)
        usable = np.isfinite(sigma) & (sigma > 0.0)
        if not usable.any():
            return Decision(weights={}, record={"reason": "no asset with volatility"})
        inverse = np.where(usable, 1.0 / np.where(usable, sigma, 1.0), 0.0)
        weights = self.invested * inverse / inverse.sum()
        annualised = sigma * np.sqrt(TRADING_DAYS_PER_YEAR)
        return Decision(
            weights={t: float(w) for t, w in zip(view.tickers, weights, strict=True) if w > 0},
            record={"volatility": {t: float(v) for t, v in zip(view.tickers, annualised,
                                                                strict=True)}},
        )


class EqualWeight:
    """Equal weights over the whole universe: the benchmark line of reports."""

    name = "equal-weight"
    lookback = 1

    def __init__(self, invested: float = 1.0) -> None:
        if not 0.0 < invested <= 1.0:
            raise ValueError(f"invested must be in (0, 1], got {invested}")
        self.invested = invested

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        listed = [t for t, p in zip(view.tickers, view.prices[-1], strict=True)
                  if np.isfinite(p)]  # a NaN price: not listed that day
        share = self.invested / max(len(listed), 1)
        return Decision(weights=dict.fromkeys(listed, share))


class SixtyForty:
    """``stocks`` of the portfolio in the stocks, ``bonds`` in the bonds, equal weights
    within each sleeve; a sleeve with no listed asset stays in cash (see the module notes).
    """

    name = "60-40"
    lookback = 1

    def __init__(self, stocks: float = 0.6, bonds: float = 0.4) -> None:
        if stocks < 0.0 or bonds < 0.0 or not 0.0 < stocks + bonds <= 1.0:
            raise ValueError(f"the sleeves must be non-negative and sum to (0, 1], got "
                             f"stocks {stocks} and bonds {bonds}")
        self.sleeves = {"stocks": stocks, "bonds": bonds}

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        weights: dict[str, float] = {}
        held: dict[str, int] = {}
        for asset_class, share in self.sleeves.items():
            listed = [t for t in view.tickers_in(asset_class)
                      if np.isfinite(view.prices[-1, view.column(t)])]
            held[asset_class] = len(listed)
            for ticker in listed:
                weights[ticker] = share / len(listed)
        cash = 1.0 - sum(share for c, share in self.sleeves.items() if held[c])
        return Decision(weights=weights, record={"assets": held, "cash": cash})
