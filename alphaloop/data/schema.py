"""The documented vocabulary of market data: universe, fundamental fields, macro series.

Every source speaks these names. A fundamental field is a ``[day, asset]`` array that is
NaN for assets whose class the field does not describe (``yield`` means nothing for a
stock); a macro series is a ``[day]`` array. Sources may omit any field or series (files
often carry prices only), so strategies check ``name in view.fundamental_fields`` first.

Units are plain: fractions for rates and yields (0.035 is 3.5%), basis points only where
the name says ``_bps``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import numpy as np
from pydantic import BaseModel, ConfigDict

__all__ = [
    "DEFAULT_UNIVERSE",
    "FUNDAMENTAL_FIELDS",
    "MACRO_SERIES",
    "TRADABLE_CLASSES",
    "FieldSpec",
    "applicable_mask",
    "default_asset_class",
    "fields_for_class",
]

TRADABLE_CLASSES: tuple[str, ...] = ("stocks", "bonds", "commodities", "reits", "crypto")
"""Classes a ticker can belong to in the default universe; cash is the unallocated rest."""

DEFAULT_UNIVERSE: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "stocks": ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"),
    "bonds": ("TLT", "IEF", "SHY", "LQD", "HYG", "AGG"),
    "commodities": ("GLD", "SLV", "USO", "DBA", "COPX"),
    "reits": ("VNQ", "IYR", "DLR", "EQIX"),
    "crypto": ("BTC-USD", "ETH-USD"),
})
"""FinSage's default universe by asset class (spec section 2.5)."""


class FieldSpec(BaseModel):
    """One documented data field: its name, unit, meaning and the classes it describes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    unit: str
    description: str
    classes: tuple[str, ...] = ()
    """Asset classes the field applies to; empty for macro series."""


def _specs(*specs: FieldSpec) -> Mapping[str, FieldSpec]:
    return MappingProxyType({s.name: s for s in specs})


_ALL = TRADABLE_CLASSES

FUNDAMENTAL_FIELDS: Mapping[str, FieldSpec] = _specs(
    FieldSpec(name="spread_bps", unit="basis points", classes=_ALL,
              description="quoted bid-ask spread"),
    FieldSpec(name="book_to_market", unit="ratio", classes=("stocks",),
              description="book value of equity over market value"),
    FieldSpec(name="profitability", unit="fraction", classes=("stocks",),
              description="return on equity (ROE), updated quarterly"),
    FieldSpec(name="investment", unit="fraction per year", classes=("stocks",),
              description="total asset growth, updated quarterly"),
    FieldSpec(name="market_cap", unit="USD bn", classes=("stocks",),
              description="market capitalisation"),
    FieldSpec(name="earnings_yield", unit="fraction", classes=("stocks",),
              description="trailing earnings over price"),
    FieldSpec(name="yield", unit="fraction", classes=("bonds",),
              description="yield to maturity"),
    FieldSpec(name="duration", unit="years", classes=("bonds",),
              description="modified duration"),
    FieldSpec(name="credit_spread", unit="fraction", classes=("bonds",),
              description="yield spread over treasuries of the same tenor"),
    FieldSpec(name="roll_yield", unit="fraction per year", classes=("commodities",),
              description="annualised front-vs-next futures roll; > 0 is backwardation"),
    FieldSpec(name="basis", unit="fraction", classes=("commodities",),
              description="spot minus front future, over spot"),
    FieldSpec(name="nav_discount", unit="fraction", classes=("reits",),
              description="price over net asset value minus one; < 0 trades below NAV"),
    FieldSpec(name="sector_outlook", unit="score in [-1, 1]", classes=("reits",),
              description="outlook of the property sector"),
    FieldSpec(name="active_addresses", unit="index, 100 at start", classes=("crypto",),
              description="network size (active addresses)"),
    FieldSpec(name="adoption", unit="index, 100 at start", classes=("crypto",),
              description="on-chain transaction volume"),
)
"""Fundamental fields by name; values are NaN for assets outside ``classes``."""

MACRO_SERIES: Mapping[str, FieldSpec] = _specs(
    FieldSpec(name="VIX", unit="index points", description="implied equity volatility"),
    FieldSpec(name="rate_10y", unit="fraction", description="10-year treasury yield"),
    FieldSpec(name="rate_2y", unit="fraction", description="2-year treasury yield"),
    FieldSpec(name="inflation", unit="fraction", description="consumer prices, year on year"),
)
"""Macro series by name."""


def fields_for_class(asset_class: str) -> tuple[str, ...]:
    """The fundamental fields that describe assets of ``asset_class``."""
    return tuple(name for name, spec in FUNDAMENTAL_FIELDS.items()
                 if asset_class in spec.classes)


def applicable_mask(field: str, asset_classes: Sequence[str]) -> np.ndarray:
    """Boolean ``[asset]`` mask: True where ``field`` applies to the asset's class."""
    classes = FUNDAMENTAL_FIELDS[field].classes
    return np.array([c in classes for c in asset_classes], dtype=bool)


def default_asset_class(ticker: str,
                        universe: Mapping[str, Iterable[str]] = DEFAULT_UNIVERSE) -> str | None:
    """The class of ``ticker`` in ``universe`` (the default universe unless given), or None."""
    for asset_class, tickers in universe.items():
        if ticker in tickers:
            return asset_class
    return None
