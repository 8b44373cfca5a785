"""The hedging toolkit: hedge sizes, hedge baskets and the hedge adjustment (spec 6).

The universe of a view holds ETFs, futures proxies and coins, not options, so every
strategy of the hedging agent is carried out with assets of the view:

==================  ==========================================  ==================
strategy            how it is carried out                       basket optimiser
==================  ==========================================  ==================
put_protection      cut equity, buy the best negative-beta       the toolkit's tool
                    assets (a synthetic protective put)
collar              a smaller cut: cheaper, gives up less        the toolkit's tool
                    upside (a synthetic collar)
tail_hedge          cut equity, buy the assets that gained       ``cvar``
                    on the portfolio's worst days
dynamic_hedge       cut in proportion to the recent drawdown     the toolkit's tool
diversification     small cut, buy the least correlated assets   the toolkit's tool
safe_haven          cut equity, buy bonds / gold-like assets     the toolkit's tool
none                nothing                                      -
==================  ==========================================  ==================

Baskets are weighted with the same optimiser library as the portfolio manager
(:func:`strategy.optimizers.optimize`). The toolkit's ``min_variance`` is hedge-aware:
it minimises the variance of *portfolio plus basket*, a QP solved as mean-variance with
``mu = -2 Sigma w_p`` and risk aversion 2 (``w_p`` the portfolio). The spec's names
(``cvar_optimization``, ``robust_optimization``, ``hierarchical_risk_parity``) are
accepted as the library's aliases.

:func:`apply_hedge` is the hedge adjustment of the integration step (spec 4.2.3): the
stock classes give up ``hedge_ratio`` (never below ``stock_floor``), half of what they
give up goes to cash and half to the basket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from strategy.optimizers import OptimizationResult, canonical_method, method_options, optimize
from strategy.records import CASH, HedgeInstrument, HedgeStrategy
from strategy.risk.model import RiskModel

__all__ = [
    "BASE_HEDGE_RATIOS",
    "HEDGED_CLASSES",
    "apply_hedge",
    "basket_weights",
    "canonical_tool",
    "hedge_ratio",
    "tool_for",
]

BASE_HEDGE_RATIOS: Mapping[str, float] = {
    "put_protection": 0.10,
    "collar": 0.06,
    "tail_hedge": 0.12,
    "dynamic_hedge": 0.10,
    "diversification": 0.05,
    "safe_haven": 0.15,
    "none": 0.0,
}
"""Share of the portfolio each strategy moves at a severity of 1."""

HEDGED_CLASSES: tuple[str, ...] = ("stocks",)
"""Classes whose exposure the hedge reduces (the spec reduces stocks)."""

_NEEDS_RETURNS = {"mean_variance", "max_sharpe", "black_litterman", "robust"}


def canonical_tool(name: str) -> str:
    """The library's name for a tool (accepts the spec's names, e.g. ``cvar_optimization``)."""
    return canonical_method(name)


def tool_for(strategy: HedgeStrategy, default_tool: str) -> str:
    """The basket optimiser of a strategy: CVaR for tail hedges, else ``default_tool``."""
    return "cvar" if strategy == "tail_hedge" else canonical_tool(default_tool)


def hedge_ratio(strategy: HedgeStrategy, severity: float, max_ratio: float) -> float:
    """Hedge size: the strategy's base ratio times ``severity`` (clipped to [0.5, 2])."""
    base = BASE_HEDGE_RATIOS[strategy]
    if base == 0.0:
        return 0.0
    return float(min(max_ratio, base * float(np.clip(severity, 0.5, 2.0))))


def basket_weights(
    tool: str,
    model: RiskModel,
    columns: Sequence[int],
    portfolio: np.ndarray,
    budget: float,
    *,
    risk_aversion: float = 2.5,
) -> OptimizationResult:
    """Weights of the hedge assets ``columns`` (model order) summing to ``budget``.

    ``portfolio`` is the unhedged portfolio in model order, used by the hedge-aware
    ``min_variance``.
    """
    cols = np.asarray(columns, dtype=int)
    tool = canonical_tool(tool)
    covariance = model.covariance[np.ix_(cols, cols)]
    options: dict[str, object] = {}
    expected = None
    if tool == "min_variance":
        cross = (model.covariance @ portfolio)[cols]
        return optimize("mean_variance", covariance=covariance, expected_returns=-2.0 * cross,
                        budget=budget, risk_aversion=2.0)
    if tool in _NEEDS_RETURNS:
        expected = model.mean_returns[cols]
    if "risk_aversion" in method_options(tool):
        options["risk_aversion"] = risk_aversion
    returns = model.returns[:, cols] if tool == "cvar" and model.n_obs >= 2 else None
    if tool == "cvar" and returns is None:
        tool = "inverse_volatility"
    return optimize(tool, covariance=covariance, expected_returns=expected, returns=returns,
                    budget=budget, **options)


def apply_hedge(
    allocation: Mapping[str, float],
    classes: Mapping[str, str],
    ratio: float,
    instruments: Sequence[HedgeInstrument],
    *,
    stock_floor: float = 0.10,
) -> dict[str, float]:
    """The integration step's hedge adjustment of a ticker allocation (incl. ``"cash"``).

    The hedged classes' total is cut by ``ratio`` but not below ``stock_floor`` (or left
    alone when already below it), pro rata across their assets. Half of the cut goes to
    cash and half to ``instruments`` in proportion to their weights (all to cash when
    there are none). The result still sums to the input's total.
    """
    out = {k: float(v) for k, v in allocation.items()}
    out.setdefault(CASH, 0.0)
    hedged = [t for t in out if t != CASH and classes.get(t) in HEDGED_CLASSES]
    total = sum(out[t] for t in hedged)
    cut = min(ratio, max(0.0, total - stock_floor)) if ratio > 0 else 0.0
    if cut <= 0.0 or total <= 0.0:
        return out
    for t in hedged:
        out[t] -= cut * out[t] / total
    basket = sum(i.weight for i in instruments)
    to_basket = 0.5 * cut if basket > 0 else 0.0
    out[CASH] += cut - to_basket
    for instrument in instruments:
        share = to_basket * instrument.weight / basket
        out[instrument.ticker] = out.get(instrument.ticker, 0.0) + share
    return out
