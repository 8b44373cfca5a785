"""The drawdown rule of the risk controller (spec 2.4 and E.1: a 15% drawdown triggers
full de-risking).

- **Trigger.** The portfolio's drawdown from its peak (the harness's high-water mark,
  never reset) reaches ``max_drawdown_trigger``.
- **De-risking.** Every risky position is scaled by ``derisk_factor`` (the share of
  risky exposure kept); the rest is held in cash.
- **Cooldown.** De-risking holds for at least ``cooldown_days`` trading days.
- **Re-entry.** After the cooldown the portfolio re-enters when its drawdown is back
  within the trigger, or when the sell-off has stopped: the portfolio the managers
  propose, held unchanged over the last cooldown (at least :data:`MIN_RECOVERY_DAYS`
  days), has gained. While neither holds, de-risking goes on for another cooldown.
  A re-entry made beyond the trigger is on probation: until the drawdown is back within
  the trigger, any deepening past its level at re-entry de-risks again at once.

So a crash costs at most the trigger, the kept share of what falls while de-risked and
one rebalance period's move, whatever the crash's length. The state
(:class:`DrawdownState`) is the controller's only state: plain JSON, saved and restored
with the engine's state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from alphaloop.contract import MarketView, PortfolioState
from strategy.records import RiskAlert, RiskCheck

__all__ = ["MIN_RECOVERY_DAYS", "DrawdownDecision", "DrawdownState", "apply_drawdown_rule",
           "current_drawdown", "proposed_return"]

#: Fewest days over which the proposed portfolio must have gained before re-entry.
MIN_RECOVERY_DAYS = 5
_EPS = 1e-12


class DrawdownState(BaseModel):
    """Whether de-risking is in force, and the level a probationary re-entry may not pass.

    ``derisk_since`` is the day the current cooldown started (the trigger, or the last
    re-entry check that found the sell-off still going on); ``reentry_drawdown`` is the
    drawdown at a re-entry made beyond the trigger, until the drawdown is back within it.
    """

    model_config = ConfigDict(extra="forbid")

    derisk_since: str | None = None
    reentry_drawdown: float | None = None


@dataclass(frozen=True)
class DrawdownDecision:
    """What the rule decided for one bar."""

    derisk: bool
    drawdown: float
    check: RiskCheck
    alerts: tuple[RiskAlert, ...] = ()


def current_drawdown(portfolio: PortfolioState) -> float:
    """Drawdown from the portfolio's peak, as a positive fraction."""
    return max(0.0, 1.0 - portfolio.value / portfolio.peak_value)


def proposed_return(view: MarketView, weights: dict[str, float], days: int) -> float:
    """Return of ``weights`` (by ticker) held unchanged over the view's last ``days`` days.

    Assets without a price at either end count as flat (as cash would be).
    """
    if not weights or days < 1 or len(view.dates) < 2:
        return 0.0
    days = min(days, len(view.dates) - 1)
    tickers = sorted(weights)
    cols = [view.column(t) for t in tickers]
    start, end = view.prices[-1 - days, cols], view.prices[-1, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        moves = np.where((start > 0) & np.isfinite(start) & np.isfinite(end),
                         end / start - 1.0, 0.0)
    w = np.array([weights[t] for t in tickers])
    return float(w @ moves)


def _check(trigger: float, drawdown: float, status: str, message: str = "") -> RiskCheck:
    return RiskCheck(name="drawdown", kind="hard", limit=trigger, before=drawdown,
                     after=drawdown, status=status, message=message)


def _cooling(state: DrawdownState, view: MarketView, portfolio: PortfolioState,
             proposed: dict[str, float], trigger: float, cooldown_days: int
             ) -> DrawdownDecision | None:
    """While de-risked: the decision to stay de-risked, or None on re-entry."""
    assert state.derisk_since is not None
    drawdown = current_drawdown(portfolio)
    elapsed = int((view.dates > pd.Timestamp(state.derisk_since)).sum())
    if elapsed < cooldown_days:
        return DrawdownDecision(True, drawdown, _check(
            trigger, drawdown, "derisked",
            f"drawdown {drawdown:.1%}: de-risked since {state.derisk_since} ({elapsed} of "
            f"{cooldown_days} cooldown days)"))
    if drawdown < trigger:
        state.derisk_since = state.reentry_drawdown = None
        return None
    window = max(cooldown_days, MIN_RECOVERY_DAYS)
    gain = proposed_return(view, proposed, window)
    if gain <= 0:
        state.derisk_since = str(view.as_of.date())
        return DrawdownDecision(True, drawdown, _check(
            trigger, drawdown, "derisked",
            f"drawdown {drawdown:.1%} after the cooldown and the proposed portfolio lost "
            f"{-gain:.1%} over {window} days: de-risked for another {cooldown_days} days"))
    state.derisk_since = None
    state.reentry_drawdown = drawdown
    return None


def apply_drawdown_rule(
    state: DrawdownState,
    view: MarketView,
    portfolio: PortfolioState,
    proposed: dict[str, float],
    *,
    trigger: float,
    derisk_factor: float,
    cooldown_days: int,
) -> DrawdownDecision:
    """Update ``state`` for this bar and say whether the weights are de-risked.

    ``proposed`` are the managers' weights by ticker before the controller acts.
    """
    drawdown = current_drawdown(portfolio)
    if state.derisk_since is not None:
        staying = _cooling(state, view, portfolio, proposed, trigger, cooldown_days)
        if staying is not None:
            return staying
        if state.reentry_drawdown is not None:
            return DrawdownDecision(False, drawdown, _check(
                trigger, drawdown, "warning",
                f"re-entered at a drawdown of {drawdown:.1%}: the proposed portfolio gained "
                "over the cooldown; a deeper drawdown de-risks again"))
        return DrawdownDecision(False, drawdown, _check(
            trigger, drawdown, "ok", f"re-entered: drawdown {drawdown:.1%} is back within "
            f"the trigger {trigger:.0%}"))
    limit = trigger
    if state.reentry_drawdown is not None:
        if drawdown < trigger:
            state.reentry_drawdown = None
        else:
            limit = state.reentry_drawdown
    if drawdown >= limit:
        state.derisk_since = str(view.as_of.date())
        state.reentry_drawdown = None
        deeper = (f" (deeper than {limit:.1%} at the re-entry)" if limit > trigger else "")
        message = (f"drawdown {drawdown:.1%} reached the trigger {trigger:.0%}{deeper}: every "
                   f"position cut to {derisk_factor:.0%} for at least {cooldown_days} "
                   "trading days")
        alert = RiskAlert(as_of=str(view.as_of.date()), code="drawdown_trigger", severity=3,
                          value=drawdown, limit=trigger, message=message)
        return DrawdownDecision(True, drawdown, _check(trigger, drawdown, "derisked", message),
                                (alert,))
    status = "warning" if state.reentry_drawdown is not None else "ok"
    return DrawdownDecision(False, drawdown, _check(trigger, drawdown, status))
