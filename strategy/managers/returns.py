"""Expected returns for the optimisers: equilibrium prior plus the experts' alphas.

``mu = delta * Sigma * w_ref + alpha / TRADING_DAYS_PER_YEAR`` (daily), where ``w_ref``
is a reference allocation (the portfolio manager's class defaults spread evenly inside
each class, or the manager's own allocation for position sizing), ``delta`` the risk
aversion, and ``alpha`` each asset's annualised expected excess return from its expert:
the value the expert gave, or Grinold's ``IC * volatility * z`` with
``z = 2 * strength * confidence`` from the expert's action (a ``BUY_100`` at full
confidence is a 2-sigma signal).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from alphaloop.contract import TRADING_DAYS_PER_YEAR
from strategy.managers.context import ClassView
from strategy.risk.model import RiskModel

__all__ = ["asset_alphas", "expected_returns"]


def asset_alphas(model: RiskModel, views: Mapping[str, ClassView],
                 information_coefficient: float) -> np.ndarray:
    """Annualised alpha per asset of ``model`` (zero where no expert spoke)."""
    out = np.zeros(model.n_assets)
    vols = model.volatilities
    for i, (ticker, asset_class) in enumerate(zip(model.tickers, model.classes, strict=True)):
        view = views.get(asset_class)
        if view is None:
            continue
        if ticker in view.alphas:
            out[i] = float(view.alphas[ticker])
            continue
        strength = float(view.strengths.get(ticker, 0.0))
        confidence = float(view.confidences.get(ticker, view.confidence))
        out[i] = information_coefficient * float(vols[i]) * 2.0 * strength * confidence
    return np.where(np.isfinite(out), out, 0.0)


def expected_returns(model: RiskModel, reference: np.ndarray, alphas: np.ndarray, *,
                     risk_aversion: float) -> np.ndarray:
    """Daily expected returns: equilibrium for ``reference`` plus ``alphas`` (annual)."""
    return risk_aversion * (model.covariance @ reference) + alphas / TRADING_DAYS_PER_YEAR
