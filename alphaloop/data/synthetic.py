"""The embedded default data source: a seeded synthetic multi-asset market.

It needs nothing external and is the same on every run with the same configuration
(same seed, same bytes). The market it draws has the FinSage default universe and
the features a multi-asset strategy must cope with:

- a hidden Markov regime (calm, volatile, crash) that drives volatility, correlations and
  drifts (see :mod:`alphaloop.data._regimes`); its path is available to tests and reviews
  through :meth:`SyntheticSource.regimes`, never inside the panel;
- a cross-asset factor structure (equity, commodity, crypto, REIT factors, the yield curve
  and the high-yield spread) under which treasuries hedge stocks in crashes and crypto is
  very volatile; fat-tailed (Student-t) innovations;
- VIX, 2y and 10y yields and inflation as macro series;
- fundamentals per :mod:`alphaloop.data.schema` that carry a small, noisy premium for
  forward returns (value, quality, carry, NAV discount, network growth), and a weakly
  persistent momentum component;
- volumes and bid-ask spreads that worsen when VIX is high.

Every random stream is dedicated to one quantity and every process is causal, so a
shorter history is an exact prefix of a longer one with the same seed: nothing in the
panel on day ``t`` depends on anything drawn for a later day.
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from alphaloop.contract import ASSET_CLASSES, AssetInfo
from alphaloop.data._characteristics import (
    StreamFactory,
    observe_fundamentals,
    simulate_characteristics,
    simulate_volumes,
)
from alphaloop.data._macro import simulate_macro
from alphaloop.data._profiles import profiles_for
from alphaloop.data._regimes import REGIMES, TRADING_DAYS, default_regime_model
from alphaloop.data._returns import CurvePath, asset_log_returns, asset_yields
from alphaloop.data.panel import MarketData
from alphaloop.data.schema import DEFAULT_UNIVERSE

__all__ = ["REGIMES", "SyntheticConfig", "SyntheticSource", "generate"]


def _default_universe() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in DEFAULT_UNIVERSE.items()}


class SyntheticConfig(BaseModel):
    """What to generate: the seed, the calendar and the universe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=66, ge=0, description="seed of every random stream; the "
                      "default's 20-year path has typical headline figures (SPY ~9.6%/yr, "
                      "17% vol, 51% max drawdown)")
    start: date = Field(default=date(2005, 1, 3), description="first business day")
    years: float = Field(default=20.0, gt=0, le=60,
                         description="length in years of 252 business days")
    universe: dict[str, tuple[str, ...]] = Field(
        default_factory=_default_universe,
        description="asset class -> tickers; unknown tickers get their class's profile")
    signal_strength: float = Field(
        default=1.0, ge=0, le=20,
        description="multiplier of the premia fundamentals predict (0 makes them noise)")

    @field_validator("universe")
    @classmethod
    def _check_universe(cls, value: dict[str, tuple[str, ...]]
                        ) -> dict[str, tuple[str, ...]]:
        seen: set[str] = set()
        for asset_class, tickers in value.items():
            if asset_class not in ASSET_CLASSES:
                raise ValueError(f"unknown asset class {asset_class!r}; use one of "
                                 f"{', '.join(ASSET_CLASSES)}")
            for ticker in tickers:
                if ticker in seen:
                    raise ValueError(f"ticker {ticker!r} appears twice in the universe")
                seen.add(ticker)
        if not seen:
            raise ValueError("the universe holds no ticker")
        return value

    @property
    def n_days(self) -> int:
        return max(2, round(self.years * TRADING_DAYS))

    def spec(self) -> str:
        """The registry spec that recreates this configuration (see ``open_source``)."""
        parts = [f"seed={self.seed}", f"years={self.years:g}", f"start={self.start}"]
        if self.signal_strength != 1.0:
            parts.append(f"signal_strength={self.signal_strength:g}")
        if self.universe != _default_universe():
            digest = zlib.crc32(repr(sorted(self.universe.items())).encode())
            parts.append(f"universe=custom-{digest:08x}")
        return "synthetic:" + ",".join(parts)


def _streams(seed: int) -> StreamFactory:
    def stream(name: str) -> np.random.Generator:
        key = np.random.SeedSequence([seed, zlib.crc32(name.encode())])
        return np.random.Generator(np.random.PCG64(key))
    return stream


def generate(config: SyntheticConfig) -> tuple[MarketData, np.ndarray]:
    """The panel for ``config`` and its hidden regime path (``[day]`` indices of REGIMES)."""
    n = config.n_days
    stream = _streams(config.seed)
    dates = pd.bdate_range(pd.Timestamp(config.start), periods=n)
    assets = tuple(AssetInfo(ticker=t, asset_class=c)  # type: ignore[arg-type]
                   for c, tickers in config.universe.items() for t in tickers)
    profiles = profiles_for((a.ticker, a.asset_class) for a in assets)
    model = default_regime_model()

    regimes = model.simulate_regimes(stream("regimes"), n)
    shocks = model.factor_shocks(stream("factors"), stream("factor-mixing"), regimes)
    macro = simulate_macro(model, regimes, shocks, stream("macro"))
    factor_returns = (model.factor_drift(regimes) + shocks)[:, :4]
    chars = simulate_characteristics(stream, profiles, n, config.signal_strength)
    known_alpha = np.vstack([chars.alpha[:1], chars.alpha[:-1]])

    dof = 4.0
    idio_vol = np.array([p.idio_vol for p in profiles]) / np.sqrt(TRADING_DAYS)
    noise = (stream("idiosyncratic").standard_t(dof, (n, len(assets)))
             * np.sqrt((dof - 2) / dof) * idio_vol * model.idio_scale[regimes][:, None])

    curve = CurvePath(macro.rate_2y, macro.rate_10y, macro.hy_spread)
    first = CurvePath(macro.rate_2y[:1], macro.rate_10y[:1], macro.hy_spread[:1])
    log_returns = asset_log_returns(profiles, factor_returns, curve, first,
                                    alpha=known_alpha, noise=noise)
    log_returns[0] = 0.0
    start_prices = np.array([p.start_price for p in profiles])
    prices = start_prices * np.exp(np.cumsum(log_returns, axis=0))

    fundamentals = observe_fundamentals(stream, profiles, chars, prices=prices,
                                        yields=asset_yields(profiles, curve),
                                        hy_spread=macro.hy_spread, vix=macro.vix)
    volumes = simulate_volumes(stream, profiles, prices, macro.vix)
    data = MarketData(
        dates=dates, assets=assets, prices=prices, volumes=volumes,
        fundamentals=fundamentals,
        macro={"VIX": macro.vix, "rate_10y": macro.rate_10y, "rate_2y": macro.rate_2y,
               "inflation": macro.inflation},
        source=config.spec(),
    )
    return data, regimes


class SyntheticSource:
    """A :class:`~alphaloop.data.base.DataSource` for the seeded synthetic market.

    Generation is lazy and done once per source object; the panel is immutable.
    """

    def __init__(self, config: SyntheticConfig | None = None) -> None:
        self.config = config or SyntheticConfig()
        self._generated: tuple[MarketData, np.ndarray] | None = None

    @property
    def name(self) -> str:
        return self.config.spec()

    def _get(self) -> tuple[MarketData, np.ndarray]:
        if self._generated is None:
            self._generated = generate(self.config)
        return self._generated

    def load(self) -> MarketData:
        return self._get()[0]

    def content_hash(self) -> str:
        return self.load().content_hash()

    def regimes(self) -> pd.Series:
        """The hidden regime of each day (``calm``, ``volatile`` or ``crash``).

        For tests, attribution and reviews only: strategies never see it.
        """
        data, path = self._get()
        return pd.Series(np.asarray(REGIMES, dtype=object)[path], index=data.dates,
                         name="regime")

    def __repr__(self) -> str:
        return f"SyntheticSource({self.name})"
