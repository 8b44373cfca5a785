"""The crypto expert: network effect, adoption and crash risk (spec 3.3)."""

from __future__ import annotations

from strategy.experts.base import BaseExpert
from strategy.factors.crypto import CryptoFactorScorer

__all__ = ["CryptoExpert"]


class CryptoExpert(BaseExpert):
    asset_class = "crypto"
    name = "Crypto Expert"
    asset_label = "crypto-asset"
    expertise = (
        "Network effects (active addresses, Metcalfe's law)",
        "On-chain adoption and transaction volume",
        "Crash and tail risk of crypto-assets",
        "Crypto market cycles and liquidity",
    )
    scorer_class = CryptoFactorScorer
