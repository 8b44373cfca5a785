"""The 9-level action space of the experts (spec 3.1.1)."""

from __future__ import annotations

import math
import re
from enum import StrEnum

__all__ = ["Action"]

_PATTERN = re.compile(r"^\s*(BUY|SELL)[\s_-]*(25|50|75|100)\s*%?\s*$|^\s*(HOLD)\s*$",
                      re.IGNORECASE)


class Action(StrEnum):
    """Sell or buy a quarter, half, three quarters or all, or hold.

    ``weight_adjustment`` is the spec's relative change of the position (``-1`` sells it
    all, ``+1`` doubles the target); ``strength`` is the same on the spec's blending scale
    of ``[-2, 2]`` (section 5.3.2).
    """

    SELL_100 = "SELL_100%"
    SELL_75 = "SELL_75%"
    SELL_50 = "SELL_50%"
    SELL_25 = "SELL_25%"
    HOLD = "HOLD"
    BUY_25 = "BUY_25%"
    BUY_50 = "BUY_50%"
    BUY_75 = "BUY_75%"
    BUY_100 = "BUY_100%"

    @property
    def weight_adjustment(self) -> float:
        return _ADJUSTMENT[self.value]

    @property
    def strength(self) -> float:
        return 2.0 * _ADJUSTMENT[self.value]

    @property
    def is_buy(self) -> bool:
        return _ADJUSTMENT[self.value] > 0

    @property
    def is_sell(self) -> bool:
        return _ADJUSTMENT[self.value] < 0

    @classmethod
    def from_adjustment(cls, adjustment: float) -> Action:
        """The level nearest to a weight adjustment in ``[-1, 1]`` (ties away from HOLD)."""
        if not math.isfinite(adjustment):
            raise ValueError(f"weight adjustment must be finite, got {adjustment}")
        quarters = int(math.copysign(math.floor(abs(adjustment) * 4 + 0.5), adjustment))
        quarters = max(-4, min(4, quarters))
        return _BY_QUARTERS[quarters]

    @classmethod
    def from_strength(cls, strength: float) -> Action:
        """The level nearest to a strength on the ``[-2, 2]`` scale."""
        return cls.from_adjustment(strength / 2.0)

    @classmethod
    def parse(cls, text: str) -> Action:
        """Read ``"BUY_25%"``, ``"buy 25"``, ``"SELL-100%"`` or ``"HOLD"``."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"unknown action {text!r}; use one of "
                             f"{', '.join(a.value for a in cls)}")
        if match.group(3):
            return cls.HOLD
        return cls(f"{match.group(1).upper()}_{match.group(2)}%")


_ADJUSTMENT: dict[str, float] = {
    "SELL_100%": -1.0, "SELL_75%": -0.75, "SELL_50%": -0.5, "SELL_25%": -0.25, "HOLD": 0.0,
    "BUY_25%": 0.25, "BUY_50%": 0.5, "BUY_75%": 0.75, "BUY_100%": 1.0,
}
_BY_QUARTERS = {
    -4: Action.SELL_100, -3: Action.SELL_75, -2: Action.SELL_50, -1: Action.SELL_25,
    0: Action.HOLD, 1: Action.BUY_25, 2: Action.BUY_50, 3: Action.BUY_75, 4: Action.BUY_100,
}
