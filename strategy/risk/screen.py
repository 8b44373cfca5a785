"""Which assets of a view may be traded today, and why the others may not.

An asset is left out (its target weight is zero) when its data cannot support a
decision: no valid price on the decision date (a NaN price: not listed), too little
price history in the estimation window, or a price that has not moved for
``stale_days`` days (a stale feed). Each exclusion is named with its reason so the
decision record can say what happened.

Ragged data: an asset listed after the view's first day (NaN before its first price)
is a newcomer. Days before its listing count as missing history, and a newcomer enters
only once it has ``history`` listed days (by default ``window + 1``: the whole
estimation window), so the risk model and the experts never see its missing prefix.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.contract import TRADING_DAYS_PER_YEAR, MarketView

__all__ = ["UniverseScreen", "screen_universe"]


class UniverseScreen(BaseModel):
    """Tradable tickers (in view order) and the excluded ones with their reasons."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tradable: tuple[str, ...]
    excluded: dict[str, str] = Field(default_factory=dict)

    def tradable_in(self, view: MarketView, asset_class: str) -> tuple[str, ...]:
        return tuple(t for t in self.tradable if view.asset_class(t) == asset_class)


def screen_universe(
    view: MarketView, *, window: int = TRADING_DAYS_PER_YEAR, min_history: int = 60,
    stale_days: int = 10, history: int | None = None,
) -> UniverseScreen:
    """Screen every asset of ``view`` over its last ``window`` days.

    ``min_history`` is capped at the number of days the view holds, so a short view
    (early in the data) does not exclude everything; the risk model then uses its prior.
    A newcomer (not listed on the view's first day) needs ``history`` listed days.
    """
    history = window + 1 if history is None else history
    listed = np.isfinite(view.prices)
    newcomer = ~listed[0] & listed.any(axis=0)
    listed_days = listed.shape[0] - np.argmax(listed, axis=0)
    prices = view.prices[-window:]
    n_days = prices.shape[0]
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(prices) & (prices > 0)
    needed = min(min_history, n_days)
    counts = valid.sum(axis=0)
    stale = np.zeros(prices.shape[1], dtype=bool)
    if 2 <= stale_days <= n_days:
        recent = prices[-stale_days:]
        with np.errstate(invalid="ignore"):
            stale = np.all(np.isfinite(recent), axis=0) & (np.ptp(recent, axis=0) == 0.0)
    tradable: list[str] = []
    excluded: dict[str, str] = {}
    date = view.as_of.date()
    for j, ticker in enumerate(view.tickers):
        if not valid[-1, j]:
            excluded[ticker] = f"no valid price on {date} (got {float(prices[-1, j])})"
        elif newcomer[j] and listed_days[j] < history:
            excluded[ticker] = (f"listed for {listed_days[j]} days, fewer than the "
                                f"{history} its windows need")
        elif counts[j] < needed:
            excluded[ticker] = (f"only {counts[j]} valid prices in the last {n_days} days "
                                f"(needs {needed})")
        elif stale[j]:
            excluded[ticker] = f"price unchanged for the last {stale_days} days (stale)"
        else:
            tradable.append(ticker)
    return UniverseScreen(tradable=tuple(tradable), excluded=excluded)
