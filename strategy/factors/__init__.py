"""Factor scorers for the five asset classes and the multi-factor screener.

Each scorer (spec 5.4) turns a point-in-time market view into per-asset
:class:`FactorScore` records; see :mod:`strategy.factors.base` for the method.
"""

from collections.abc import Mapping
from types import MappingProxyType

from strategy.factors.base import FactorInputs, FactorScorer, RawFactor
from strategy.factors.bond import BondFactorScorer
from strategy.factors.commodity import CommodityFactorScorer
from strategy.factors.crypto import CryptoFactorScorer
from strategy.factors.records import (
    ClassFactorScores,
    FactorExposure,
    FactorScore,
    FactorSignal,
    Normalisation,
)
from strategy.factors.reits import REITsFactorScorer
from strategy.factors.screener import SCREEN_FACTORS, FactorScreener
from strategy.factors.settings import FACTOR_WEIGHT_PARAMETERS, FactorSettings
from strategy.factors.stock import StockFactorScorer

__all__ = [
    "FACTOR_WEIGHT_PARAMETERS",
    "SCORERS",
    "SCREEN_FACTORS",
    "BondFactorScorer",
    "ClassFactorScores",
    "CommodityFactorScorer",
    "CryptoFactorScorer",
    "FactorExposure",
    "FactorInputs",
    "FactorScore",
    "FactorScorer",
    "FactorScreener",
    "FactorSettings",
    "FactorSignal",
    "Normalisation",
    "REITsFactorScorer",
    "RawFactor",
    "StockFactorScorer",
]

#: The scorer class of each asset class.
SCORERS: Mapping[str, type[FactorScorer]] = MappingProxyType({
    "stocks": StockFactorScorer,
    "bonds": BondFactorScorer,
    "commodities": CommodityFactorScorer,
    "reits": REITsFactorScorer,
    "crypto": CryptoFactorScorer,
})
