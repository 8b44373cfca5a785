"""Macro state of the synthetic market: inflation, the yield curve, credit, VIX.

All processes are mean-reverting (discrete Ornstein-Uhlenbeck) and driven by the regime
path and the factor shocks of :mod:`alphaloop.data._regimes`, so the 10-year yield falls
and the curve steepens in crashes, the high-yield spread blows out, and VIX jumps when
equities fall. Every process is causal: the value on day ``t`` uses shocks up to ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from alphaloop.data._regimes import FACTORS, TRADING_DAYS, RegimeModel

__all__ = ["MacroPaths", "ar1", "simulate_macro", "soft_floor"]

_MONTH = 21


def ar1(inputs: np.ndarray, phi: float, initial: float) -> np.ndarray:
    """``y[t] = phi * y[t-1] + inputs[t]`` along axis 0, with ``y[-1] = initial``."""
    zi = np.full((1, *inputs.shape[1:]), phi * initial)
    out, _ = lfilter([1.0], [1.0, -phi], inputs, axis=0, zi=zi)
    return out


def _half_life_phi(days: float) -> float:
    return float(np.exp(-np.log(2.0) / days))


def soft_floor(rate: np.ndarray, scale: float = 0.0025) -> np.ndarray:
    """Keeps yields above zero smoothly (a softplus): policy rates stop near zero."""
    return scale * np.logaddexp(0.0, rate / scale)


@dataclass(frozen=True)
class MacroPaths:
    """Daily macro series, each ``[day]``."""

    inflation: np.ndarray
    rate_10y: np.ndarray
    rate_2y: np.ndarray
    hy_spread: np.ndarray
    vix: np.ndarray


def simulate_macro(model: RegimeModel, regimes: np.ndarray, shocks: np.ndarray,
                   noise_rng: np.random.Generator) -> MacroPaths:
    """Macro paths for a regime path and its factor shocks ``[day, factor]``."""
    n = len(regimes)
    noise = noise_rng.standard_normal((n, 3))

    # Inflation: slow OU around 2.5%, published monthly (held between releases).
    phi_i = _half_life_phi(500)
    sd_i = 0.012 * np.sqrt(1 - phi_i**2)
    daily_infl = ar1((1 - phi_i) * 0.025 + sd_i * noise[:, 0], phi_i, 0.025)
    inflation = daily_infl[(np.arange(n) // _MONTH) * _MONTH]

    # 10-year yield: reverts (kappa 0.25/yr) to a 1.2% real rate plus inflation.
    phi_r = 1.0 - 0.25 / TRADING_DAYS
    rates = FACTORS.index("rates")
    drive = ((1 - phi_r) * (0.012 + inflation)
             + model.drift[regimes, rates] / TRADING_DAYS + shocks[:, rates])
    rate_10y = soft_floor(ar1(drive, phi_r, 0.042))

    # Curve slope (10y - 2y) steepens towards its crash target when the central bank cuts.
    phi_s = _half_life_phi(120)
    slope_noise = 0.004 / np.sqrt(TRADING_DAYS) * noise[:, 1]
    slope = ar1((1 - phi_s) * model.curve_slope_target[regimes] + slope_noise, phi_s, 0.010)
    rate_2y = soft_floor(rate_10y - slope)

    # High-yield credit spread: log-OU towards the regime's level, shocked by "credit".
    phi_c = _half_life_phi(40)
    credit = FACTORS.index("credit")
    log_spread = ar1((1 - phi_c) * np.log(model.hy_spread_target[regimes])
                     + shocks[:, credit], phi_c, float(np.log(0.035)))

    # VIX: log-OU towards the regime's level, jumping up when equities fall.
    phi_v = _half_life_phi(10)
    equity = FACTORS.index("equity")
    log_vix = ar1((1 - phi_v) * np.log(model.vix_target[regimes])
                  - 3.5 * shocks[:, equity] + 0.03 * noise[:, 2], phi_v, float(np.log(14.0)))

    return MacroPaths(inflation=inflation, rate_10y=rate_10y, rate_2y=rate_2y,
                      hy_spread=np.exp(log_spread), vix=np.exp(log_vix))
