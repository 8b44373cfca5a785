"""Overlays: small rules the engine applies, in order, to the weights it returns.

This package is the engine's declared seam for structural changes. An overlay is a
module of it with one function::

    def apply(weights: dict[str, float], view: MarketView,
              portfolio: PortfolioState) -> dict[str, float]: ...

It receives the engine's final target weights (ticker -> weight; what is left over is
cash) and returns new ones. An overlay should only scale risky weights down, so that
what the risk controller enforced still holds.

An overlay runs once its module is listed in ``ACTIVE`` of :mod:`strategy.overlays.active`,
in the order they apply. Adding one is therefore a new module here and one entry there;
the engine itself is never edited. The engine's decision record describes the weights
before the overlays.
"""

from __future__ import annotations

from alphaloop.contract import MarketView, PortfolioState
from strategy.overlays.active import ACTIVE

__all__ = ["ACTIVE", "apply_overlays"]


def apply_overlays(weights: dict[str, float], view: MarketView,
                   portfolio: PortfolioState) -> dict[str, float]:
    """``weights`` passed through every active overlay in turn (unchanged when none is)."""
    for overlay in ACTIVE:
        weights = overlay.apply(weights, view, portfolio)
    return weights
