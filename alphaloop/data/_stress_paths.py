"""Building the shocked days of a stress scenario on top of any market panel."""

from __future__ import annotations

import zlib
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alphaloop.data._macro import soft_floor
from alphaloop.data._profiles import profiles_for
from alphaloop.data._regimes import FACTORS, REGIMES, TRADING_DAYS, default_regime_model
from alphaloop.data._returns import CurvePath, asset_log_returns, asset_yields
from alphaloop.data.panel import MarketData

if TYPE_CHECKING:
    from alphaloop.data.stress import StressScenario

__all__ = ["shocked_panel"]

_DEFAULT_LEVELS = MappingProxyType(
    {"rate_10y": 0.03, "rate_2y": 0.02, "VIX": 16.0, "inflation": 0.025})
_HY_SPREAD = 0.04


def _last(history: MarketData, name: str) -> float:
    series = history.macro.get(name)
    if series is not None and np.isfinite(series[-1]):
        return float(series[-1])
    return _DEFAULT_LEVELS[name]


def _phased(totals: tuple[float, float], noise: np.ndarray, fall: int) -> np.ndarray:
    """Daily moves whose sum over each phase is exactly its total, bumpy by ``noise``."""
    out = np.empty_like(noise, dtype=float)
    for total, part in zip(totals, (slice(0, fall), slice(fall, len(noise))), strict=True):
        chunk = noise[part]
        if chunk.shape[0]:
            out[part] = total / chunk.shape[0] + chunk - chunk.mean(axis=0)
    return out


def _bridge(noise: np.ndarray, fall: int) -> np.ndarray:
    """Cumulated phase-demeaned noise: wanders, but is zero at the end of each phase."""
    return np.cumsum(_phased((0.0, 0.0), noise, fall), axis=0)


def _tail_mean(array: np.ndarray, days: int = 21) -> np.ndarray:
    tail = array[-days:]
    finite = np.isfinite(tail)
    count = finite.sum(axis=0)
    total = np.where(finite, tail, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def shocked_panel(history: MarketData, scenario: StressScenario) -> MarketData:
    """``history`` followed by ``scenario.length`` shocked business days."""
    fall, length = scenario.fall_days, scenario.length

    def stream(name: str) -> np.random.Generator:
        key = np.random.SeedSequence([scenario.seed, zlib.crc32(name.encode())])
        return np.random.Generator(np.random.PCG64(key))

    model = default_regime_model()
    regime = REGIMES.index(scenario.regime)
    shocks = scenario.noise * model.factor_shocks(
        stream("factors"), stream("factor-mixing"), np.full(length, regime))
    col = {name: shocks[:, i] for i, name in enumerate(FACTORS)}

    factors = np.stack([
        _phased(tuple(np.log1p(scenario.equity)), col["equity"], fall),
        _phased(tuple(np.log1p(scenario.commodity)), col["commodity"], fall),
        _phased(tuple(np.log1p(scenario.crypto)), col["crypto"], fall),
        _phased(tuple(np.log1p(scenario.reits)), col["reits"], fall),
    ], axis=1)
    r10_0, r2_0 = _last(history, "rate_10y"), _last(history, "rate_2y")
    previous = CurvePath(np.array([r2_0]), np.array([r10_0]), np.array([_HY_SPREAD]))
    curve = CurvePath(
        rate_2y=soft_floor(r2_0 + np.cumsum(
            _phased(scenario.rate_2y, 0.8 * col["rates"], fall))),
        rate_10y=soft_floor(r10_0 + np.cumsum(_phased(scenario.rate_10y, col["rates"], fall))),
        hy_spread=np.maximum(0.002, _HY_SPREAD + np.cumsum(
            _phased(scenario.hy_spread, _HY_SPREAD * col["credit"], fall))),
    )

    vix_0 = _last(history, "VIX")
    days = np.arange(length)
    anchors_x = [-1, fall - 1, length - 1]
    anchors_y = np.log([vix_0, scenario.vix_peak, scenario.vix_end])
    if scenario.recovery_days == 0:
        anchors_x, anchors_y = anchors_x[:2], anchors_y[:2]
    vix = np.exp(np.interp(days, anchors_x, anchors_y) - 2.0 * _bridge(col["equity"], fall))

    profiles = profiles_for((a.ticker, a.asset_class) for a in history.assets)
    idio_vol = np.array([p.idio_vol for p in profiles]) / np.sqrt(TRADING_DAYS)
    dof = 4.0
    own = (stream("idiosyncratic").standard_t(dof, (length, len(profiles)))
           * np.sqrt((dof - 2) / dof) * idio_vol * model.idio_scale[regime] * scenario.noise)
    log_returns = asset_log_returns(
        profiles, factors, curve, previous,
        alpha=np.zeros((length, len(profiles))), noise=_phased((0.0, 0.0), own, fall))
    growth = np.exp(np.cumsum(log_returns, axis=0))
    prices = history.prices[-1] * growth

    vix_ratio = (vix / vix_0)[:, None]
    yield_move = asset_yields(profiles, curve) - asset_yields(profiles, previous)
    credit_share = np.array([p.credit_share for p in profiles])
    fundamentals = {}
    for name, values in history.fundamentals.items():
        last = values[-1]
        if name == "spread_bps":
            new = last * vix_ratio ** 0.9
        elif name == "market_cap":
            new = last * growth
        elif name in ("book_to_market", "earnings_yield"):
            new = last / growth
        elif name == "yield":
            new = last + yield_move
        elif name == "credit_spread":
            new = last + credit_share * (curve.hy_spread - _HY_SPREAD)[:, None]
        elif name == "nav_discount":
            new = last + 0.3 * np.log(growth)
        else:
            new = np.broadcast_to(last, prices.shape)
        fundamentals[name] = np.concatenate([values, new])

    inflation_path = _last(history, "inflation") + np.cumsum(
        _phased(scenario.inflation, np.zeros(length), fall))
    modelled = {"VIX": vix, "rate_10y": curve.rate_10y, "rate_2y": curve.rate_2y,
                "inflation": inflation_path}
    macro = {name: np.concatenate([values, modelled.get(name, np.full(length, values[-1]))])
             for name, values in history.macro.items()}

    volumes = _tail_mean(history.volumes) * vix_ratio ** 0.6
    dates = pd.bdate_range(history.dates[-1] + pd.offsets.BDay(1), periods=length)
    return MarketData(
        dates=history.dates.append(dates), assets=history.assets,
        prices=np.concatenate([history.prices, prices]),
        volumes=np.concatenate([history.volumes, volumes]),
        fundamentals=fundamentals, macro=macro,
        source=f"{history.source}+stress:{scenario.name}",
    )
