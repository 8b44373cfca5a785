"""Per-asset parameters of the synthetic market: factor loadings, volatility, liquidity.

The default universe has hand-set profiles that give each ETF or stock a plausible
character (NVDA is a high-beta stock, SHY a two-year note, HYG a credit fund). Any other
ticker gets its class's default profile with a small, deterministic, ticker-seeded
perturbation, so a custom universe is still reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np
from pydantic import BaseModel, ConfigDict

__all__ = ["AssetProfile", "profile_for", "profiles_for"]


class AssetProfile(BaseModel):
    """How one synthetic asset responds to the market factors, and its base fundamentals.

    Returns are log returns. ``duration`` is the loss per unit rise of the asset's own
    yield, which moves as ``d rate_2y + curve_weight * d(rate_10y - rate_2y) +
    credit_share * d hy_spread``; bonds also earn that yield (carry) minus
    ``default_loss`` times their credit spread.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: str
    asset_class: str
    start_price: float = 100.0
    beta_equity: float = 0.0
    beta_commodity: float = 0.0
    beta_crypto: float = 0.0
    beta_reits: float = 0.0
    duration: float = 0.0
    curve_weight: float = 1.0
    credit_share: float = 0.0
    term_premium: float = 0.0
    default_loss: float = 0.0
    idio_vol: float = 0.2
    drift: float = 0.0
    adv_usd_bn: float = 0.5
    spread_bps: float = 2.0
    book_to_market: float = 0.3
    profitability: float = 0.15
    investment: float = 0.08
    market_cap_bn: float = 50.0
    earnings_yield: float = 0.05
    roll_yield: float = 0.0
    nav_discount: float = -0.02


def _stock(t: str, price: float, beta: float, idio: float, adv: float, spread: float,
           btm: float, roe: float, inv: float, cap: float, ey: float) -> AssetProfile:
    return AssetProfile(ticker=t, asset_class="stocks", start_price=price, beta_equity=beta,
                        idio_vol=idio, adv_usd_bn=adv, spread_bps=spread, book_to_market=btm,
                        profitability=roe, investment=inv, market_cap_bn=cap,
                        earnings_yield=ey)


def _bond(t: str, price: float, duration: float, curve: float, credit: float, tp: float,
          loss: float, idio: float, adv: float, spread: float, beta: float = 0.0
          ) -> AssetProfile:
    return AssetProfile(ticker=t, asset_class="bonds", start_price=price, duration=duration,
                        curve_weight=curve, credit_share=credit, term_premium=tp,
                        default_loss=loss, idio_vol=idio, adv_usd_bn=adv, spread_bps=spread,
                        beta_equity=beta)


def _commodity(t: str, price: float, beta_cm: float, beta_eq: float, duration: float,
               idio: float, drift: float, roll: float, adv: float, spread: float
               ) -> AssetProfile:
    return AssetProfile(ticker=t, asset_class="commodities", start_price=price,
                        beta_commodity=beta_cm, beta_equity=beta_eq, duration=duration,
                        idio_vol=idio, drift=drift, roll_yield=roll, adv_usd_bn=adv,
                        spread_bps=spread)


def _reit(t: str, price: float, beta_eq: float, idio: float, nav: float, adv: float,
          spread: float) -> AssetProfile:
    return AssetProfile(ticker=t, asset_class="reits", start_price=price, beta_equity=beta_eq,
                        beta_reits=1.0, duration=4.0, idio_vol=idio, nav_discount=nav,
                        adv_usd_bn=adv, spread_bps=spread)


def _crypto(t: str, price: float, beta: float, idio: float, drift: float, adv: float,
            spread: float) -> AssetProfile:
    return AssetProfile(ticker=t, asset_class="crypto", start_price=price, beta_crypto=beta,
                        idio_vol=idio, drift=drift, adv_usd_bn=adv, spread_bps=spread)


def _known_profiles() -> dict[str, AssetProfile]:
    rows = [
        #      ticker  price  beta  idio  adv   bps  b/m   roe   inv   cap   e/y
        _stock("SPY", 120.0, 1.00, 0.01, 30.0, 0.3, 0.30, 0.17, 0.06, 80.0, 0.055),
        _stock("QQQ", 38.0, 1.12, 0.06, 15.0, 0.4, 0.12, 0.24, 0.10, 30.0, 0.040),
        _stock("IWM", 63.0, 1.15, 0.08, 5.0, 0.6, 0.55, 0.08, 0.07, 15.0, 0.045),
        _stock("AAPL", 4.5, 1.15, 0.24, 10.0, 1.0, 0.10, 0.30, 0.08, 60.0, 0.040),
        _stock("MSFT", 24.0, 1.00, 0.20, 6.0, 1.2, 0.12, 0.32, 0.09, 250.0, 0.045),
        _stock("GOOGL", 50.0, 1.05, 0.22, 4.0, 1.5, 0.20, 0.22, 0.12, 100.0, 0.040),
        _stock("AMZN", 2.2, 1.20, 0.28, 6.0, 1.5, 0.08, 0.15, 0.15, 20.0, 0.025),
        _stock("NVDA", 0.25, 1.50, 0.36, 10.0, 2.0, 0.05, 0.28, 0.20, 8.0, 0.020),
        #     ticker price  dur  curve credit tp     loss  idio   adv  bps
        _bond("TLT", 90.0, 17.0, 1.10, 0.00, 0.004, 0.00, 0.010, 1.5, 1.0),
        _bond("IEF", 83.0, 7.5, 0.85, 0.00, 0.002, 0.00, 0.006, 0.8, 1.2),
        _bond("SHY", 81.0, 1.9, 0.00, 0.00, 0.000, 0.00, 0.003, 0.3, 1.2),
        _bond("LQD", 108.0, 8.5, 0.90, 0.25, 0.001, 0.15, 0.012, 1.0, 1.0),
        _bond("HYG", 70.0, 3.8, 0.45, 0.70, 0.000, 0.45, 0.020, 1.2, 1.3, beta=0.10),
        _bond("AGG", 100.0, 6.2, 0.60, 0.08, 0.001, 0.10, 0.005, 0.6, 1.0),
        #          ticker price  b_cm  b_eq  dur  idio  drift  roll    adv   bps
        _commodity("GLD", 43.0, 0.35, -0.05, 4.0, 0.13, 0.045, -0.005, 1.5, 0.6),
        _commodity("SLV", 7.0, 0.60, 0.15, 4.0, 0.24, 0.020, -0.010, 0.6, 2.0),
        _commodity("USO", 280.0, 1.30, 0.20, 0.0, 0.24, -0.020, -0.050, 0.4, 3.0),
        _commodity("DBA", 25.0, 0.50, 0.05, 0.0, 0.12, 0.000, -0.030, 0.02, 8.0),
        _commodity("COPX", 20.0, 1.00, 0.70, 0.0, 0.22, 0.010, 0.000, 0.03, 12.0),
        #     ticker price  b_eq  idio  nav    adv  bps
        _reit("VNQ", 55.0, 0.80, 0.03, -0.02, 0.5, 1.5),
        _reit("IYR", 60.0, 0.80, 0.04, -0.02, 0.3, 2.0),
        _reit("DLR", 30.0, 0.75, 0.20, 0.05, 0.3, 4.0),
        _reit("EQIX", 45.0, 0.85, 0.22, 0.08, 0.4, 5.0),
        #       ticker    price  beta  idio  drift  adv   bps
        _crypto("BTC-USD", 100.0, 1.00, 0.10, 0.00, 20.0, 3.0),
        _crypto("ETH-USD", 10.0, 1.15, 0.30, 0.05, 10.0, 4.0),
    ]
    return {p.ticker: p for p in rows}


_CLASS_DEFAULTS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "stocks": {"beta_equity": 1.1, "idio_vol": 0.25, "adv_usd_bn": 1.0, "spread_bps": 3.0},
    "bonds": {"duration": 6.0, "curve_weight": 0.7, "credit_share": 0.1, "default_loss": 0.1,
              "idio_vol": 0.01, "adv_usd_bn": 0.3, "spread_bps": 2.0},
    "commodities": {"beta_commodity": 0.8, "beta_equity": 0.2, "idio_vol": 0.2,
                    "adv_usd_bn": 0.1, "spread_bps": 6.0, "roll_yield": -0.02},
    "reits": {"beta_equity": 0.8, "beta_reits": 1.0, "duration": 4.0, "idio_vol": 0.15,
              "adv_usd_bn": 0.2, "spread_bps": 4.0},
    "crypto": {"beta_crypto": 1.2, "idio_vol": 0.4, "adv_usd_bn": 1.0, "spread_bps": 8.0},
    "cash": {"idio_vol": 0.001, "adv_usd_bn": 1.0, "spread_bps": 0.5, "duration": 0.2,
             "curve_weight": 0.0},
})

_JITTERED = ("beta_equity", "beta_commodity", "beta_crypto", "idio_vol", "book_to_market",
             "profitability", "investment", "market_cap_bn", "earnings_yield")


def profiles_for(assets: Iterable[tuple[str, str]]) -> tuple[AssetProfile, ...]:
    """Profiles for ``(ticker, asset_class)`` pairs, in order."""
    known = _known_profiles()
    return tuple(profile_for(t, c, known=known) for t, c in assets)


def profile_for(ticker: str, asset_class: str, *,
                known: Mapping[str, AssetProfile] | None = None) -> AssetProfile:
    """The profile of ``ticker``: hand-set for the default universe, else derived."""
    hit = (known if known is not None else _known_profiles()).get(ticker)
    if hit is not None and hit.asset_class == asset_class:
        return hit
    if asset_class not in _CLASS_DEFAULTS:
        raise ValueError(f"no synthetic profile for asset class {asset_class!r} "
                         f"(known: {sorted(_CLASS_DEFAULTS)})")
    digest = hashlib.sha256(f"{asset_class}:{ticker}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    base = AssetProfile(ticker=ticker, asset_class=asset_class,
                        **_CLASS_DEFAULTS[asset_class])
    jitter = {k: float(getattr(base, k)) * float(np.exp(0.25 * rng.standard_normal()))
              for k in _JITTERED}
    jitter["start_price"] = float(np.round(20.0 * np.exp(rng.standard_normal()), 2))
    return base.model_copy(update=jitter)
