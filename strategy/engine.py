"""The FinSage engine: one ``decide`` call runs the whole chain of spec section 1.

On each rebalance date :meth:`FinSageStrategy.decide`:

1. **screens** the view's universe (assets without usable data get no weight);
2. **estimates** the shared risk model (Ledoit-Wolf covariance over the lookback);
3. asks the five **experts** for their reports (factor-driven; LLM-blended with a client);
4. runs the **manager coordinator** (portfolio manager, position sizing, hedging;
   discussion rounds; 60/40 integration with the hedge adjustment);
5. passes the result through the **risk controller** (drawdown trigger, soft limits,
   hard limits), whose output can never break a hard limit;
6. keeps the current holdings when no weight would move by more than the
   **rebalance threshold** (:mod:`strategy.risk.rebalance`);
7. returns the target weights and the :class:`~strategy.records.IntegratedDecision` as
   the decision's record, completed with per-class and per-expert contributions, the
   portfolio's factor exposures and every fallback that fired; the weights pass last
   through the active **overlays** (:mod:`strategy.overlays`, none by default), the
   seam where structural changes plug in.

Bad data degrades instead of failing (each case is a recorded fallback): missing or
stale prices exclude the asset, a class without tradable assets hands its weight to the
others, a singular covariance is repaired, an optimiser that does not converge falls
back to a simpler method. Any other exception is re-raised as :class:`EngineError`
naming the date and the component.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from alphaloop.contract import AssetInfo, Decision, MarketView, PortfolioState
from strategy.config import FinSageConfig
from strategy.experts import EXPERTS, BaseExpert, ExpertReport, LLMClient
from strategy.hedging.agent import HedgingAgent
from strategy.managers.context import DecisionContext, trades_between
from strategy.managers.coordinator import ManagerCoordinator
from strategy.managers.portfolio_manager import PortfolioManager
from strategy.managers.position_sizing import PositionSizingAgent
from strategy.managers.regime import volatility_index, volatility_regime
from strategy.managers.settings import EngineSettings
from strategy.managers.views import class_views
from strategy.overlays import apply_overlays
from strategy.records import (
    CASH,
    ClassContribution,
    ExpertContribution,
    Fallback,
    IntegratedDecision,
    Rebalance,
)
from strategy.risk.alerts import AlertHandler
from strategy.risk.controller import RiskController
from strategy.risk.model import estimate_risk_model
from strategy.risk.rebalance import check_rebalance
from strategy.risk.screen import UniverseScreen, screen_universe

__all__ = ["EngineError", "FinSageStrategy", "TimingHook"]

TimingHook = Callable[[str, float], None]
"""Called with (component, seconds) after each step of a decision (for benchmarks)."""


class EngineError(RuntimeError):
    """An unexpected failure inside the engine, naming the date and the component."""

    def __init__(self, as_of: str, component: str, cause: BaseException) -> None:
        self.as_of = as_of
        self.component = component
        super().__init__(f"FinSage failed on {as_of} in {component}: "
                         f"{type(cause).__name__}: {cause}")


class FinSageStrategy:
    """The FinSage portfolio engine behind the :class:`alphaloop.contract.Strategy` protocol."""

    name = "finsage"

    def __init__(
        self,
        config: FinSageConfig | None = None,
        llm: LLMClient | None = None,
        *,
        profile: str = "custom",
        alert_handlers: Sequence[AlertHandler] = (),
        timings: TimingHook | None = None,
    ) -> None:
        self.config = config or FinSageConfig()
        self.profile = profile
        self.settings = EngineSettings.from_config(self.config)
        self.controller = RiskController(self.settings.limits, self.settings.controller,
                                         alert_handlers=alert_handlers)
        self._timings = timings
        self._ask(llm)

    def _ask(self, llm: LLMClient | None) -> None:
        """Build the experts and managers around ``llm`` (None: factor and rules only)."""
        s = self.settings
        self.llm = llm
        self.experts: dict[str, BaseExpert] = {
            c: cls.from_config(self.config, llm=llm) for c, cls in EXPERTS.items()}
        self.manager = PortfolioManager(self.config.assets.allocation_bounds, s.manager, llm=llm)
        self.sizing = PositionSizingAgent(s.sizing, llm=llm)
        self.hedging = HedgingAgent(s.limits, s.hedging, llm=llm)
        self.coordinator = ManagerCoordinator(self.manager, self.sizing, self.hedging,
                                              s.coordinator, timings=self._timings)

    # -- the model ----------------------------------------------------------------------
    @property
    def wants_llm(self) -> bool:
        """The configuration asks for a model (``llm.enabled``) and none was handed in."""
        return self.config.llm.enabled and self.llm is None

    def use_llm(self, llm: LLMClient) -> None:
        """Ask ``llm`` from now on: the experts blend its views with their factors and
        the managers ask it before their rules. A client that raises
        :class:`~alphaloop.contract.ModelUnavailable` leaves each of them on its
        factor view or rule, with the reason in the decision record."""
        if not isinstance(llm, LLMClient):
            raise TypeError(f"llm must have a complete(system, user) -> str method, got "
                            f"{type(llm).__name__}")
        self._ask(llm)

    @property
    def lookback(self) -> int:
        """Days of history a decision needs (about a year)."""
        expert_days = max(e.lookback for e in self.experts.values())
        return max(expert_days, self.settings.window) + 1

    # -- state ------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {"risk_controller": self.controller.get_state()}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.controller.set_state(state.get("risk_controller", {}))

    # -- the decision -------------------------------------------------------------------
    @contextmanager
    def _step(self, as_of: str, component: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except EngineError:
            raise
        except Exception as error:
            raise EngineError(as_of, component, error) from error
        if self._timings is not None:
            self._timings(component, time.perf_counter() - start)

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:
        """Target weights for ``view.as_of`` and the integrated decision record."""
        as_of = str(view.as_of.date())
        s = self.settings
        with self._step(as_of, "screen"):
            screen = screen_universe(view, window=s.window, min_history=s.min_history,
                                     stale_days=s.stale_days)
        with self._step(as_of, "risk_model"):
            model = estimate_risk_model(view, screen.tradable, window=s.window,
                                        shrinkage=s.shrinkage)
            reading = volatility_index(view, model)
        with self._step(as_of, "experts"):
            expert_view = _tradable_view(view, screen)
            reports = [expert.analyse(expert_view, portfolio)
                       for expert in self.experts.values()]
        with self._step(as_of, "context"):
            ctx = DecisionContext(
                view=view, portfolio=portfolio, model=model, screen=screen, vix=reading.level,
                vix_source=reading.source, regime=volatility_regime(reading.level),
                views=class_views(reports), costs=s.costs)
        with self._step(as_of, "coordinator"):
            integrated = self.coordinator.run(ctx)
        with self._step(as_of, "risk_controller"):
            outcome = self.controller.review(integrated.target_allocation, view, portfolio,
                                             model=model, screen=screen)
        with self._step(as_of, "rebalance"):
            rebalance = check_rebalance(outcome.weights, portfolio.weights,
                                        s.rebalance_threshold, model, s.limits)
            chosen = outcome.weights if rebalance.trade else {
                t: float(w) for t, w in portfolio.weights.items() if t != CASH and w > 0}
        with self._step(as_of, "record"):
            final = dict(chosen)
            final[CASH] = max(0.0, 1.0 - sum(final.values()))
            fallbacks = [*_data_fallbacks(screen, model.fallback, reading.source, reports),
                         *integrated.fallbacks, *outcome.report.fallbacks]
            record = integrated.model_copy(update={
                "profile": self.profile,
                "target_allocation": final,
                "class_allocation": _by_class(final, ctx.asset_classes),
                "trades": trades_between(portfolio.weights, final, ctx.asset_classes),
                "risk_metrics": outcome.report.metrics_after,
                "class_contributions": self._class_contributions(integrated, final, ctx),
                "expert_contributions": self._expert_contributions(reports, integrated),
                "factor_exposures": _factor_exposures(final, ctx),
                "excluded_assets": dict(screen.excluded),
                "fallbacks": fallbacks,
                "risk_report": outcome.report,
                "rebalance": Rebalance(traded=rebalance.trade,
                                       largest_move=rebalance.largest_move,
                                       threshold=s.rebalance_threshold,
                                       reason=rebalance.reason),
            })
            payload = record.model_dump(mode="json")
        return Decision(weights=apply_overlays(chosen, view, portfolio), record=payload)

    # -- attribution ----------------------------------------------------------------------
    def _class_contributions(self, integrated: IntegratedDecision, final: Mapping[str, float],
                             ctx: DecisionContext) -> list[ClassContribution]:
        pm = integrated.individual_decisions.portfolio_manager
        final_classes = _by_class(final, ctx.asset_classes)
        out = []
        for asset_class, bounds in self.config.assets.allocation_bounds.items():
            out.append(ClassContribution(
                asset_class=asset_class, default_weight=bounds.default,
                pm_weight=pm.class_allocation.get(asset_class, 0.0),
                integrated_weight=integrated.class_allocation.get(asset_class, 0.0),
                final_weight=final_classes.get(asset_class, 0.0),
                n_assets=len(ctx.tradable_in(asset_class)),
                tool=pm.tools.get(asset_class, "none")))
        return out

    def _expert_contributions(self, reports: Sequence[ExpertReport],
                              integrated: IntegratedDecision) -> list[ExpertContribution]:
        pm = integrated.individual_decisions.portfolio_manager
        bounds = self.config.assets.allocation_bounds
        return [ExpertContribution(
            expert=r.expert_name, asset_class=r.asset_class, overall_view=r.overall_view,
            confidence=r.confidence,
            class_tilt=pm.class_allocation.get(r.asset_class, 0.0)
            - (bounds[r.asset_class].default if r.asset_class in bounds else 0.0),
            top_picks=r.top_picks(3), source=r.mode) for r in reports]


def _tradable_view(view: MarketView, screen: UniverseScreen) -> MarketView:
    """``view`` restricted to the tradable assets (the same object when none is excluded)."""
    if not screen.excluded:
        return view
    cols = [view.column(t) for t in screen.tradable]
    assets: list[AssetInfo] = [view.assets[c] for c in cols]
    return MarketView(
        as_of=view.as_of, assets=assets, dates=view.dates, prices=view.prices[:, cols],
        volumes=view.volumes[:, cols],
        fundamentals={k: view.fundamental(k)[:, cols] for k in view.fundamental_fields},
        macro={k: view.macro(k) for k in view.macro_series})


def _by_class(allocation: Mapping[str, float], classes: Mapping[str, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for ticker, weight in allocation.items():
        key = CASH if ticker == CASH else classes.get(ticker, "unknown")
        out[key] = out.get(key, 0.0) + float(weight)
    return out


def _factor_exposures(final: Mapping[str, float], ctx: DecisionContext) -> dict[str, float]:
    """Weight-averaged factor exposure of the held assets, keyed ``class.factor``."""
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    for ticker, weight in final.items():
        if ticker == CASH or weight <= 0:
            continue
        asset_class = ctx.asset_classes.get(ticker, "")
        view = ctx.views.get(asset_class)
        if view is None:
            continue
        for factor, exposure in view.exposures.get(ticker, {}).items():
            if np.isfinite(exposure):
                key = f"{asset_class}.{factor}"
                sums[key] = sums.get(key, 0.0) + weight * exposure
                weights[key] = weights.get(key, 0.0) + weight
    return {k: sums[k] / weights[k] for k in sorted(sums) if weights[k] > 0}


def _data_fallbacks(screen: UniverseScreen, model_fallback: str | None, vix_source: str,
                    reports: Sequence[ExpertReport]) -> list[Fallback]:
    out = [Fallback(component="screen", reason=f"{ticker}: {reason}",
                    action="asset excluded: target weight 0")
           for ticker, reason in screen.excluded.items()]
    if model_fallback:
        out.append(Fallback(component="risk_model", reason=model_fallback,
                            action="estimates from the prior or the repaired matrix"))
    if vix_source != "VIX":
        out.append(Fallback(component="regime", reason="the data has no usable VIX series",
                            action=f"volatility regime from {vix_source.replace('_', ' ')}"))
    for report in reports:
        if report.llm_error:
            out.append(Fallback(component=f"experts.{report.asset_class}",
                                reason=report.llm_error, action="factor-only view"))
        if report.factors_missing:
            missing = ", ".join(f"{k} ({v})" for k, v in sorted(report.factors_missing.items()))
            out.append(Fallback(component=f"experts.{report.asset_class}",
                                reason=f"factors unavailable: {missing}",
                                action="scored with the remaining (price-based) factors"))
    return out
