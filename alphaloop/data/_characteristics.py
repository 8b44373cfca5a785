"""Latent asset characteristics, the premia they earn, and the fundamentals that reveal them.

Each asset carries slow-moving latent scores (value, quality, investment and momentum for
stocks; roll for commodities; NAV and sector for REITs; network growth for crypto;
momentum for all). The scores set a small expected extra return (``alpha``), and the
published fundamentals are noisy, partly quarterly-stale readings of the same scores.
So fundamentals carry a real but weak signal for forward returns, and momentum persists
weakly because the latent momentum score is persistent and never published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from alphaloop.data._macro import ar1
from alphaloop.data._profiles import AssetProfile
from alphaloop.data._regimes import TRADING_DAYS

__all__ = ["CHARACTERISTICS", "Characteristics", "observe_fundamentals",
           "simulate_characteristics", "simulate_volumes"]

_MONTH, _QUARTER = 21, 63

# name -> (classes it exists for, half-life in days)
CHARACTERISTICS: Mapping[str, tuple[tuple[str, ...], float]] = MappingProxyType({
    "value": (("stocks",), 500.0),
    "quality": (("stocks",), 400.0),
    "investment": (("stocks",), 250.0),
    "momentum": (("stocks", "bonds", "commodities", "reits", "crypto"), 126.0),
    "roll": (("commodities",), 120.0),
    "nav": (("reits",), 250.0),
    "sector": (("reits",), 200.0),
    "growth": (("crypto",), 250.0),
})

# annual extra log return per unit of score, by class
_PREMIA: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "stocks": {"value": 0.03, "quality": 0.025, "investment": -0.02, "momentum": 0.03},
    "bonds": {"momentum": 0.01},
    "commodities": {"roll": 0.04, "momentum": 0.04},
    "reits": {"nav": -0.035, "sector": 0.025, "momentum": 0.03},
    "crypto": {"growth": 0.15, "momentum": 0.10},
})

StreamFactory = Callable[[str], np.random.Generator]


@dataclass(frozen=True)
class Characteristics:
    """Latent scores ``[day, asset]`` (zero where absent) and the alpha they imply."""

    scores: dict[str, np.ndarray]
    alpha: np.ndarray


def simulate_characteristics(stream: StreamFactory, profiles: Sequence[AssetProfile],
                             n_days: int, signal_strength: float) -> Characteristics:
    """Unit-variance OU scores per characteristic and the annualised alpha ``[day, asset]``.

    ``stream(name)`` returns the random generator dedicated to ``name``, so each score's
    path depends only on its own draws and on nothing after the day it describes.
    """
    classes = [p.asset_class for p in profiles]
    n_assets = len(profiles)
    scores: dict[str, np.ndarray] = {}
    alpha = np.zeros((n_days, n_assets))
    for name, (members, half_life) in CHARACTERISTICS.items():
        rng = stream(f"characteristic:{name}")
        start = rng.standard_normal(n_assets)
        phi = float(np.exp(-np.log(2.0) / half_life))
        path = ar1(np.sqrt(1 - phi**2) * rng.standard_normal((n_days, n_assets)), phi, 0.0)
        path += start * phi ** np.arange(1, n_days + 1)[:, None]
        mask = np.array([c in members for c in classes])
        scores[name] = np.where(mask, path, 0.0)
        premium = np.array([_PREMIA.get(c, {}).get(name, 0.0) for c in classes])
        alpha += signal_strength * premium * scores[name]
    return Characteristics(scores=scores, alpha=alpha)


def _stepped(rng: np.random.Generator, n_days: int, n_assets: int, every: int) -> np.ndarray:
    """Noise that is redrawn every ``every`` days and held in between."""
    draws = rng.standard_normal(((n_days - 1) // every + 1, n_assets))
    return draws[np.arange(n_days) // every]


def _held(path: np.ndarray, every: int) -> np.ndarray:
    """``path`` sampled at the start of each period of ``every`` days and held."""
    return path[(np.arange(len(path)) // every) * every]


def observe_fundamentals(stream: StreamFactory, profiles: Sequence[AssetProfile],
                         chars: Characteristics, *, prices: np.ndarray, yields: np.ndarray,
                         hy_spread: np.ndarray, vix: np.ndarray) -> dict[str, np.ndarray]:
    """The published fundamental fields ``[day, asset]``, NaN outside their classes."""
    n_days, n_assets = prices.shape
    classes = np.array([p.asset_class for p in profiles])
    base = {k: np.array([getattr(p, k) for p in profiles], dtype=float)
            for k in ("book_to_market", "profitability", "investment", "market_cap_bn",
                      "earnings_yield", "duration", "credit_share", "roll_yield",
                      "nav_discount", "spread_bps")}
    z = chars.scores

    def noise(name: str, every: int = 1) -> np.ndarray:
        return _stepped(stream(f"fundamental:{name}"), n_days, n_assets, every)

    def only(field: np.ndarray, asset_class: str) -> np.ndarray:
        return np.where(classes == asset_class, field, np.nan)

    out: dict[str, np.ndarray] = {}
    liquidity = (vix[:, None] / 16.0) ** 0.9
    out["spread_bps"] = base["spread_bps"] * liquidity * np.exp(0.15 * noise("spread_bps"))

    out["book_to_market"] = only(base["book_to_market"] * np.exp(
        0.30 * z["value"] + 0.10 * noise("book_to_market", _QUARTER)), "stocks")
    out["profitability"] = only(base["profitability"] + 0.05 * _held(z["quality"], _QUARTER)
                                + 0.02 * noise("profitability", _QUARTER), "stocks")
    out["investment"] = only(base["investment"] + 0.05 * _held(z["investment"], _QUARTER)
                             + 0.02 * noise("investment", _QUARTER), "stocks")
    out["market_cap"] = only(base["market_cap_bn"] * prices / prices[0], "stocks")
    out["earnings_yield"] = only(base["earnings_yield"] * np.exp(
        0.20 * z["value"] + 0.10 * z["quality"] + 0.10 * noise("earnings_yield", _QUARTER)),
        "stocks")

    out["yield"] = only(yields, "bonds")
    out["duration"] = only(base["duration"] * (1 + yields[0]) / (1 + yields), "bonds")
    out["credit_spread"] = only(base["credit_share"] * hy_spread[:, None], "bonds")

    roll = base["roll_yield"] + 0.05 * z["roll"] + 0.01 * noise("roll_yield", _MONTH)
    out["roll_yield"] = only(roll, "commodities")
    out["basis"] = only(roll / 12.0 + 0.004 * noise("basis", _MONTH), "commodities")

    out["nav_discount"] = only(base["nav_discount"] + 0.07 * z["nav"]
                               + 0.01 * noise("nav_discount", _MONTH), "reits")
    out["sector_outlook"] = only(np.tanh(0.8 * z["sector"]
                                         + 0.4 * noise("sector_outlook", _MONTH)), "reits")

    growth = z["growth"]
    for name, trend, slope, wobble in (("active_addresses", 0.25, 0.35, 0.03),
                                       ("adoption", 0.30, 0.35, 0.05)):
        log_level = np.cumsum((trend + slope * growth) / TRADING_DAYS, axis=0)
        jitter = wobble * noise(name)
        log_level = log_level - log_level[0] + jitter - jitter[0]
        out[name] = only(100.0 * np.exp(log_level), "crypto")
    return out


def simulate_volumes(stream: StreamFactory, profiles: Sequence[AssetProfile],
                     prices: np.ndarray, vix: np.ndarray) -> np.ndarray:
    """Units traded per day: dollar volume grows ~3%/yr and rises with VIX."""
    n_days, n_assets = prices.shape
    adv = np.array([p.adv_usd_bn for p in profiles]) * 1e9
    growth = np.exp(0.03 * np.arange(n_days) / TRADING_DAYS)[:, None]
    shock = np.exp(0.3 * stream("volumes").standard_normal((n_days, n_assets)))
    return adv * growth * (vix[:, None] / 16.0) ** 0.6 * shock / prices
