"""From factor paths to asset returns: the linear factor model shared by the synthetic
generator and the stress scenarios.

An asset's daily log return is::

    drift/252 + alpha/252 + beta . (equity, commodity, crypto, reits factor returns)
    - duration * d(own yield) + carry + own noise

where the own yield is ``rate_2y + curve_weight * (rate_10y - rate_2y) + credit_share *
hy_spread + term_premium`` and only bonds earn carry (their yield, less expected default
losses on the credit part).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alphaloop.data._profiles import AssetProfile
from alphaloop.data._regimes import TRADING_DAYS

__all__ = ["CurvePath", "asset_log_returns", "asset_yields", "loadings"]


@dataclass(frozen=True)
class CurvePath:
    """Levels of the 2y and 10y yields and the high-yield spread, each ``[day]``."""

    rate_2y: np.ndarray
    rate_10y: np.ndarray
    hy_spread: np.ndarray


def loadings(profiles: Sequence[AssetProfile]) -> dict[str, np.ndarray]:
    """Per-asset parameter vectors ``[asset]`` keyed by profile field name."""
    names = ("beta_equity", "beta_commodity", "beta_crypto", "beta_reits", "duration",
             "curve_weight", "credit_share", "term_premium", "default_loss", "idio_vol",
             "drift")
    return {k: np.array([getattr(p, k) for p in profiles], dtype=float) for k in names}


def asset_yields(profiles: Sequence[AssetProfile], curve: CurvePath) -> np.ndarray:
    """Each asset's own yield ``[day, asset]`` (meaningful as a yield for bonds only)."""
    p = loadings(profiles)
    r2 = curve.rate_2y[:, None]
    r10 = curve.rate_10y[:, None]
    return (r2 + p["curve_weight"] * (r10 - r2) + p["credit_share"] * curve.hy_spread[:, None]
            + p["term_premium"])


def asset_log_returns(profiles: Sequence[AssetProfile], factor_returns: np.ndarray,
                      curve: CurvePath, previous: CurvePath, *, alpha: np.ndarray,
                      noise: np.ndarray) -> np.ndarray:
    """Daily log returns ``[day, asset]``.

    ``factor_returns`` is ``[day, 4]`` (equity, commodity, crypto, reits log returns);
    ``curve`` holds the yield levels on each day and ``previous`` the levels the day
    before (a one-day path), so the first day's yield change is measured against it.
    ``alpha`` is the annualised expected extra return known the day before and
    ``noise`` the assets' own daily log-return noise.
    """
    p = loadings(profiles)
    betas = np.stack([p["beta_equity"], p["beta_commodity"], p["beta_crypto"],
                      p["beta_reits"]])
    systematic = np.einsum("nf,fa->na", factor_returns, betas)
    joined = CurvePath(*(np.concatenate([prev, now]) for prev, now in
                         ((previous.rate_2y, curve.rate_2y),
                          (previous.rate_10y, curve.rate_10y),
                          (previous.hy_spread, curve.hy_spread))))
    yields = asset_yields(profiles, joined)
    rate_move = -p["duration"] * np.diff(yields, axis=0)
    is_bond = np.array([pr.asset_class == "bonds" for pr in profiles])
    credit_loss = p["default_loss"] * p["credit_share"] * joined.hy_spread[:-1, None]
    carry = np.where(is_bond, yields[:-1] - credit_loss, 0.0) / TRADING_DAYS
    return (p["drift"] / TRADING_DAYS + alpha / TRADING_DAYS + systematic + rate_move
            + carry + noise)
