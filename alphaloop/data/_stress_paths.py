"""Building the shocked days of a synthetic scenario on the panel's own covariance.

The scenario scripts the total move of some asset-class indices (equal-weighted log
returns of the class's listed assets) over a fall and a recovery phase. Every asset then
moves by its regression on those indices, estimated from the panel's own last
``ESTIMATION_DAYS`` sessions (``beta = cov(asset, indices) @ inv(cov(indices))``), plus
a residual drawn from the panel's residual covariance. Day-to-day noise is scaled by
``scenario.noise`` and each phase ends exactly at its scripted total.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from alphaloop.data.panel import DataError, MarketData

if TYPE_CHECKING:
    from alphaloop.data.stress import StressScenario

__all__ = ["ESTIMATION_DAYS", "MIN_OBSERVATIONS", "shocked_panel"]

ESTIMATION_DAYS = 504
"""Sessions of history behind the covariance and betas (about two years)."""
MIN_OBSERVATIONS = 60
"""Fewest joint returns for an asset's own estimates; shorter histories take its class's."""


def _phased(totals: tuple[float, float], noise: np.ndarray, fall: int) -> np.ndarray:
    """Daily moves whose sum over each phase is exactly its total, bumpy by ``noise``."""
    out = np.empty_like(noise, dtype=float)
    for total, part in zip(totals, (slice(0, fall), slice(fall, len(noise))), strict=True):
        chunk = noise[part]
        if chunk.shape[0]:
            out[part] = total / chunk.shape[0] + chunk - chunk.mean(axis=0)
    return out


def _psd_root(matrix: np.ndarray) -> np.ndarray:
    """A square root ``L`` with ``L @ L.T`` the nearest positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _estimates(history: MarketData, scripted: list[str]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Betas ``[asset, index]``, residual covariance and index covariance."""
    window = history.prices[-(ESTIMATION_DAYS + 1):]
    with np.errstate(invalid="ignore"):
        returns = np.diff(np.log(window), axis=0)  # NaN where not listed
    classes = np.array([a.asset_class for a in history.assets])
    indices = np.column_stack([
        _nanmean_rows(returns[:, classes == c]) for c in scripted])
    frame = pd.DataFrame(np.hstack([returns, indices]))
    cov = frame.cov(min_periods=MIN_OBSERVATIONS).to_numpy()
    n = returns.shape[1]
    cov_ff, cov_af, cov_aa = cov[n:, n:], cov[:n, n:], cov[:n, :n]
    if not np.isfinite(cov_ff).all():
        raise DataError(f"{history.source}: fewer than {MIN_OBSERVATIONS} sessions of "
                        f"{', '.join(scripted)} to estimate a stress scenario from")
    beta = cov_af @ np.linalg.pinv(cov_ff)
    variance = np.diag(cov_aa) - np.einsum("ik,kl,il->i", beta, cov_ff, beta)
    known = np.isfinite(beta).all(axis=1) & np.isfinite(variance)
    for j in np.flatnonzero(~known):  # too short a history: its class's average
        peers = known & (classes == classes[j])
        pool = peers if peers.any() else known
        beta[j] = beta[pool].mean(axis=0) if pool.any() else 0.0
        variance[j] = float(np.median(variance[pool])) if pool.any() else 1e-4
    residual = cov_aa - beta @ cov_ff @ beta.T
    residual[~known, :] = 0.0
    residual[:, ~known] = 0.0
    residual[np.diag_indices(n)] = np.clip(variance, 0.0, None)
    return beta, np.nan_to_num(residual), cov_ff


def _nanmean_rows(block: np.ndarray) -> np.ndarray:
    finite = np.isfinite(block)
    count = finite.sum(axis=1)
    total = np.where(finite, block, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _tail_mean(array: np.ndarray, days: int = 21) -> np.ndarray:
    tail = array[-days:]
    finite = np.isfinite(tail)
    count = finite.sum(axis=0)
    total = np.where(finite, tail, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def shocked_panel(history: MarketData, scenario: StressScenario) -> MarketData:
    """``history`` followed by ``scenario.length`` shocked business days.

    Raises :class:`DataError` when no asset of a class the scenario shocks is listed on
    the last day of ``history``.
    """
    fall, length = scenario.fall_days, scenario.length
    classes = np.array([a.asset_class for a in history.assets])
    listed_now = history.listed[-1]
    scripted = [c for c in scenario.moves if (listed_now & (classes == c)).any()]
    if not scripted:
        raise DataError(f"{history.source}: scenario {scenario.name!r} shocks "
                        f"{', '.join(scenario.moves)}, and no such asset is listed on "
                        f"{history.dates[-1].date()}")

    def stream(name: str) -> np.random.Generator:
        key = np.random.SeedSequence([scenario.seed, zlib.crc32(name.encode())])
        return np.random.Generator(np.random.PCG64(key))

    beta, residual, cov_ff = _estimates(history, scripted)
    factor_noise = stream("indices").standard_normal((length, len(scripted))) \
        @ _psd_root(cov_ff).T * scenario.noise
    indices = np.column_stack([
        _phased(tuple(np.log1p(scenario.moves[c])), factor_noise[:, k], fall)
        for k, c in enumerate(scripted)])
    own = stream("residual").standard_normal((length, len(classes))) \
        @ _psd_root(residual).T * scenario.noise
    log_returns = indices @ beta.T + _phased((0.0, 0.0), own, fall)
    growth = np.exp(np.cumsum(log_returns, axis=0))
    last = np.where(listed_now, history.prices[-1], np.nan)
    prices = last * growth

    vix_ratio = np.ones((length, 1))
    macro = {}
    for name, values in history.macro.items():
        path = np.full(length, values[-1])
        if name == "VIX" and np.isfinite(values[-1]):
            days = np.arange(length)
            anchors = np.log([values[-1], scenario.vix_peak, scenario.vix_end])
            path = np.exp(np.interp(days, [-1, fall - 1, length - 1], anchors))
            vix_ratio = (path / values[-1])[:, None]
        elif name in ("rate_10y", "rate_2y"):
            moves = scenario.rate_10y if name == "rate_10y" else scenario.rate_2y
            path = values[-1] + np.cumsum(_phased(moves, np.zeros(length), fall))
        macro[name] = np.concatenate([values, path])
    fundamentals = {}
    for name, values in history.fundamentals.items():
        latest = values[-1]
        if name == "spread_bps":
            new = latest * vix_ratio ** 0.9
        elif name == "market_cap":
            new = latest * growth
        elif name in ("book_to_market", "earnings_yield"):
            new = latest / growth
        else:
            new = np.broadcast_to(latest, prices.shape)
        fundamentals[name] = np.concatenate([values, new])
    volumes = np.where(listed_now, _tail_mean(history.volumes), np.nan) * vix_ratio ** 0.6
    dates = pd.bdate_range(history.dates[-1] + pd.offsets.BDay(1), periods=length)
    return MarketData(
        dates=history.dates.append(dates), assets=history.assets,
        prices=np.concatenate([history.prices, prices]),
        volumes=np.concatenate([history.volumes, volumes]),
        fundamentals=fundamentals, macro=macro,
        source=f"{history.source}+stress:{scenario.name}",
    )
