"""The hidden market regimes of the synthetic generator and their factor dynamics.

Three regimes follow a Markov chain: ``calm`` (long spells, rising markets),
``volatile`` (higher volatility and correlations) and ``crash`` (short spells of steep
equity losses, widening credit spreads and a flight to treasuries). Each regime sets the
drift, volatility and correlation of six market factors:

- ``equity``, ``commodity``, ``crypto``, ``reits``: daily log returns of the factor;
- ``rates``: daily change of the 10-year yield (a positive shock is a *loss* for bonds);
- ``credit``: daily change of the log high-yield credit spread.

Innovations are multivariate Student-t (a common chi-square mixing variable), so large
moves arrive together across factors, as they do in real crises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphaloop.contract import TRADING_DAYS_PER_YEAR

__all__ = ["FACTORS", "REGIMES", "RegimeModel", "default_regime_model"]

REGIMES: tuple[str, ...] = ("calm", "volatile", "crash")
FACTORS: tuple[str, ...] = ("equity", "commodity", "crypto", "reits", "rates", "credit")
TRADING_DAYS = TRADING_DAYS_PER_YEAR  # a synthetic year has as many sessions as the harness's


@dataclass(frozen=True)
class RegimeModel:
    """Markov chain and per-regime factor parameters (annualised units)."""

    transition: np.ndarray  # [from, to] daily transition probabilities
    drift: np.ndarray  # [regime, factor] annual drift (log return or yield units)
    vol: np.ndarray  # [regime, factor] annual volatility
    correlation: np.ndarray  # [regime, factor, factor]
    idio_scale: np.ndarray  # [regime] multiplier of assets' own volatility
    vix_target: np.ndarray  # [regime] level VIX reverts to
    hy_spread_target: np.ndarray  # [regime] level the high-yield spread reverts to
    curve_slope_target: np.ndarray  # [regime] 10y minus 2y the curve reverts to
    t_dof: float = 5.0

    def cholesky(self) -> np.ndarray:
        """``[regime, factor, factor]`` lower Cholesky factors of the correlations."""
        try:
            return np.stack([np.linalg.cholesky(c) for c in self.correlation])
        except np.linalg.LinAlgError as exc:
            raise ValueError("a regime's factor correlation matrix is not positive "
                             "definite; adjust RegimeModel.correlation") from exc

    def simulate_regimes(self, rng: np.random.Generator, n_days: int) -> np.ndarray:
        """A path of regime indices (``[day]`` ints), starting calm."""
        uniforms = rng.random(n_days)
        cumulative = np.cumsum(self.transition, axis=1)
        path = np.empty(n_days, dtype=np.int64)
        state = 0
        for day in range(n_days):
            if day:
                state = int(np.searchsorted(cumulative[state], uniforms[day], side="right"))
                state = min(state, len(REGIMES) - 1)
            path[day] = state
        return path

    def factor_shocks(self, normal_rng: np.random.Generator, mix_rng: np.random.Generator,
                      regimes: np.ndarray) -> np.ndarray:
        """Zero-mean daily factor innovations ``[day, factor]`` for a regime path."""
        n = len(regimes)
        z = normal_rng.standard_normal((n, len(FACTORS)))
        chol = self.cholesky()
        correlated = np.einsum("nj,rij->nri", z, chol)[np.arange(n), regimes]
        dof = self.t_dof
        mixing = np.sqrt((dof - 2.0) / mix_rng.chisquare(dof, n))
        daily_vol = self.vol[regimes] / np.sqrt(TRADING_DAYS)
        return correlated * mixing[:, None] * daily_vol

    def factor_drift(self, regimes: np.ndarray) -> np.ndarray:
        """Daily drift ``[day, factor]`` of each factor given the regime path."""
        return self.drift[regimes] / TRADING_DAYS


def _correlation(pairs: dict[tuple[str, str], float]) -> np.ndarray:
    out = np.eye(len(FACTORS))
    for (a, b), rho in pairs.items():
        i, j = FACTORS.index(a), FACTORS.index(b)
        out[i, j] = out[j, i] = rho
    return out


def default_regime_model() -> RegimeModel:
    """The calibrated default: ~75% calm, ~20% volatile, ~5% crash days."""
    calm = _correlation({
        ("equity", "commodity"): 0.25, ("equity", "crypto"): 0.10,
        ("equity", "rates"): 0.15, ("equity", "credit"): -0.45,
        ("commodity", "rates"): 0.10, ("commodity", "credit"): -0.15,
        ("crypto", "credit"): -0.05, ("reits", "rates"): -0.20,
        ("rates", "credit"): -0.15,
    })
    volatile = _correlation({
        ("equity", "commodity"): 0.35, ("equity", "crypto"): 0.25,
        ("equity", "rates"): 0.35, ("equity", "credit"): -0.60,
        ("commodity", "rates"): 0.15, ("commodity", "credit"): -0.30,
        ("crypto", "credit"): -0.20, ("reits", "rates"): -0.20,
        ("reits", "credit"): -0.15, ("rates", "credit"): -0.30,
    })
    crash = _correlation({
        ("equity", "commodity"): 0.50, ("equity", "crypto"): 0.45,
        ("equity", "rates"): 0.50, ("equity", "credit"): -0.75,
        ("commodity", "crypto"): 0.20, ("commodity", "rates"): 0.30,
        ("commodity", "credit"): -0.45, ("crypto", "credit"): -0.35,
        ("reits", "credit"): -0.25, ("rates", "credit"): -0.45,
    })
    #                  equity commodity crypto reits  rates   credit
    drift = np.array([[0.19, 0.07, 0.45, 0.00, 0.000, 0.0],
                      [-0.08, -0.03, -0.20, 0.00, -0.004, 0.0],
                      [-0.80, -0.40, -1.50, -0.10, -0.020, 0.0]])
    vol = np.array([[0.11, 0.14, 0.55, 0.07, 0.0075, 0.30],
                    [0.21, 0.22, 0.80, 0.10, 0.0100, 0.50],
                    [0.42, 0.35, 1.10, 0.16, 0.0130, 0.80]])
    transition = np.array([[0.992, 0.008, 0.000],
                           [0.030, 0.958, 0.012],
                           [0.000, 0.050, 0.950]])
    return RegimeModel(
        transition=transition, drift=drift, vol=vol,
        correlation=np.stack([calm, volatile, crash]),
        idio_scale=np.array([1.0, 1.4, 2.0]),
        vix_target=np.array([14.0, 24.0, 40.0]),
        hy_spread_target=np.array([0.035, 0.055, 0.10]),
        curve_slope_target=np.array([0.010, 0.014, 0.022]),
    )
