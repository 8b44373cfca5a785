"""The managers: class allocation, the portfolio manager, position sizing, the coordinator
and the decision records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo, MarketView, PortfolioState
from strategy.config import load_profile
from strategy.hedging import HedgingAgent
from strategy.managers import (
    AllocationSettings,
    ClassView,
    DecisionContext,
    ManagerSettings,
    PortfolioManager,
    PositionSizingAgent,
    SizingSettings,
    allocate_classes,
)
from strategy.managers.coordinator import (
    CoordinatorSettings,
    ManagerCoordinator,
    check_consensus,
    integrate,
)
from strategy.records import (
    HedgingDecision,
    IntegratedDecision,
    PortfolioDecision,
    PositionSizingDecision,
)
from strategy.risk import RiskLimits, estimate_risk_model, screen_universe

BOUNDS = load_profile("default").assets.allocation_bounds
SETTINGS = AllocationSettings()
FULL = {"stocks": 8, "bonds": 6, "commodities": 5, "reits": 4, "crypto": 2}
UNIVERSE = {"stocks": ["SPY", "QQQ", "IWM", "AAPL"], "bonds": ["TLT", "IEF", "SHY"],
            "commodities": ["GLD", "USO"], "reits": ["VNQ", "IYR"], "crypto": ["BTC-USD"]}
VOL = {"stocks": 0.2, "bonds": 0.06, "commodities": 0.22, "reits": 0.22, "crypto": 0.7}


def view_of(c: str, view: str, confidence: float, **extra: object) -> ClassView:
    return ClassView(asset_class=c, expert=f"{c} expert", view=view,  # type: ignore[arg-type]
                     confidence=confidence, **extra)  # type: ignore[arg-type]


def market(seed: int = 0, n_days: int = 300, universe: dict[str, list[str]] | None = None,
           vix: float = 18.0) -> MarketView:
    universe = universe or UNIVERSE
    rng = np.random.default_rng(seed)
    assets = [AssetInfo(ticker=t, asset_class=c)  # type: ignore[arg-type]
              for c, tickers in universe.items() for t in tickers]
    sigma = np.array([VOL[a.asset_class] for a in assets]) / np.sqrt(252)
    factor = rng.normal(size=(n_days, 1))
    shocks = (0.5 * factor + rng.normal(size=(n_days, len(assets)))) * sigma / 1.12
    prices = 100 * np.cumprod(1 + shocks + 0.0002, axis=0)
    dates = pd.bdate_range("2022-01-03", periods=n_days)
    return MarketView(as_of=dates[-1], assets=assets, dates=dates, prices=prices,
                      volumes=np.full(prices.shape, 1e6), macro={"VIX": np.full(n_days, vix)})


def context(view: MarketView, views: dict[str, ClassView] | None = None,
            weights: dict[str, float] | None = None) -> DecisionContext:
    screen = screen_universe(view)
    model = estimate_risk_model(view, screen.tradable)
    vix = float(view.macro("VIX")[-1])
    state = PortfolioState(as_of=view.as_of.to_pydatetime(), weights=weights or {},
                           cash=1.0, value=1e6, peak_value=1e6)
    return DecisionContext(view=view, portfolio=state, model=model, screen=screen, vix=vix,
                           vix_source="VIX", regime="high" if vix >= 25 else "normal",
                           views=views or {})


# -- class allocation ---------------------------------------------------------------------

def test_neutral_views_give_the_default_allocation():
    allocation, reasons, fallbacks = allocate_classes(BOUNDS, {}, "normal", FULL, SETTINGS)
    assert allocation == pytest.approx({c: b.default for c, b in BOUNDS.items()})
    assert reasons == [] and fallbacks == []


def test_bullish_moves_toward_max_and_bearish_toward_min():
    views = {"stocks": view_of("stocks", "bullish", 1.0),
             "bonds": view_of("bonds", "bearish", 1.0)}
    allocation, reasons, _ = allocate_classes(BOUNDS, views, "normal", FULL,
                                              AllocationSettings(tilt_strength=0.5))
    # targets 0.45 and 0.20 move the others by the projection's common shift
    assert allocation["stocks"] > BOUNDS["stocks"].default
    assert allocation["bonds"] < BOUNDS["bonds"].default
    assert sum(allocation.values()) == pytest.approx(1.0)
    for c, b in BOUNDS.items():
        assert b.min - 1e-12 <= allocation[c] <= b.max + 1e-12
    assert any("stocks bullish" in r for r in reasons)


def test_high_volatility_raises_bonds_and_cash():
    normal, _, _ = allocate_classes(BOUNDS, {}, "normal", FULL, SETTINGS)
    high, reasons, _ = allocate_classes(BOUNDS, {}, "high", FULL, SETTINGS)
    assert high["bonds"] > normal["bonds"] and high["cash"] > normal["cash"]
    assert high["stocks"] < normal["stocks"] and high["crypto"] < normal["crypto"]
    assert sum(high.values()) == pytest.approx(1.0)
    assert any("high-volatility" in r for r in reasons)


def test_a_class_without_tradable_assets_gets_nothing_and_says_so():
    counts = {**FULL, "crypto": 0}
    allocation, _, fallbacks = allocate_classes(BOUNDS, {}, "normal", counts, SETTINGS)
    assert allocation["crypto"] == 0.0
    assert sum(allocation.values()) == pytest.approx(1.0)
    assert any("no tradable crypto" in f.reason for f in fallbacks)


def test_capacity_under_the_single_asset_limit_spills_into_cash():
    counts = {"stocks": 1, "bonds": 1, "commodities": 1, "reits": 1, "crypto": 0}
    allocation, _, fallbacks = allocate_classes(BOUNDS, {}, "normal", counts, SETTINGS)
    for c in ("stocks", "bonds", "commodities", "reits"):
        assert allocation[c] <= 0.15 + 1e-12
    assert allocation["cash"] == pytest.approx(1 - sum(v for k, v in allocation.items()
                                                       if k != "cash"))
    assert allocation["cash"] > BOUNDS["cash"].max
    assert any("cash's maximum raised" in f.action for f in fallbacks)


# -- portfolio manager -------------------------------------------------------------------------

def test_portfolio_manager_respects_bounds_and_single_asset_cap():
    ctx = context(market(1))
    decision = PortfolioManager(BOUNDS).decide(ctx)
    weights = {k: v for k, v in decision.target_allocation.items() if k != "cash"}
    assert sum(decision.target_allocation.values()) == pytest.approx(1.0)
    assert max(weights.values()) <= 0.15 + 1e-9
    assert decision.class_allocation["crypto"] <= 0.15 + 1e-12  # one asset, capped
    assert set(decision.tools) == set(UNIVERSE)
    assert decision.tools["crypto"] == "equal_weight"
    assert decision.tools["stocks"] == "risk_parity"
    assert decision.risk_metrics["annual_volatility"] > 0
    assert decision.trades and all(t.side == "buy" for t in decision.trades)


def test_regime_and_conviction_choose_the_tool():
    views = {"stocks": view_of("stocks", "bullish", 0.8)}
    assert PortfolioManager(BOUNDS).decide(context(market(2), views)).tools["stocks"] == \
        "black_litterman"
    calm_but_unsure = {"stocks": view_of("stocks", "bullish", 0.3)}
    assert PortfolioManager(BOUNDS).decide(context(market(2), calm_but_unsure)).tools[
        "stocks"] == "risk_parity"
    assert PortfolioManager(BOUNDS).decide(context(market(2, vix=35.0), views)).tools[
        "stocks"] == "min_variance"


def test_expert_actions_tilt_weights_inside_a_class():
    neutral = PortfolioManager(BOUNDS).decide(context(market(3))).target_allocation
    tilted_view = view_of("stocks", "neutral", 0.5,
                          strengths={"SPY": 1.0, "QQQ": -1.0},
                          confidences={"SPY": 0.5, "QQQ": 1.0})
    tilted = PortfolioManager(BOUNDS).decide(
        context(market(3), {"stocks": tilted_view})).target_allocation
    assert "QQQ" not in tilted or tilted["QQQ"] == pytest.approx(0.0)
    assert tilted["SPY"] > neutral["SPY"]
    stocks = sum(v for k, v in tilted.items() if k in UNIVERSE["stocks"])
    assert stocks == pytest.approx(sum(v for k, v in neutral.items()
                                       if k in UNIVERSE["stocks"]))


class ScriptedLLM:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls = 0

    def complete(self, system: str, user: str) -> str:
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


def test_llm_allocation_is_projected_into_the_bounds_and_bad_tools_fall_back():
    llm = ScriptedLLM(
        '{"allocation": {"stocks": 0.9, "bonds": 0.05, "cash": 0.05}, "reasoning": "all in"}',
        '{"tools": {"stocks": "hrp", "bonds": "magic"}}')
    decision = PortfolioManager(BOUNDS, llm=llm).decide(context(market(4)))
    assert decision.allocation_source == "llm" and decision.tool_source == "llm"
    assert decision.class_allocation["stocks"] <= BOUNDS["stocks"].max + 1e-9
    assert decision.class_allocation["bonds"] >= BOUNDS["bonds"].min - 1e-9
    assert decision.tools["stocks"] == "hrp"
    assert decision.tools["bonds"] == "risk_parity"
    assert any("magic" in f.reason for f in decision.fallbacks)


# -- position sizing --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def managed() -> tuple[DecisionContext, PortfolioDecision]:
    views = {c: view_of(c, "neutral", 0.5,
                        strengths={t: 0.5 for t in UNIVERSE[c]}) for c in UNIVERSE}
    ctx = context(market(5), views)
    return ctx, PortfolioManager(BOUNDS).decide(ctx)


@pytest.mark.parametrize("method", ["equal_weight", "risk_parity", "kelly", "max_sharpe",
                                    "volatility_target"])
def test_every_sizing_method_keeps_class_budgets_and_caps(managed, method):
    ctx, pm = managed
    sizes, _ = PositionSizingAgent(SizingSettings(target_volatility=0.05)).size(method, pm, ctx)
    assert sum(sizes.values()) == pytest.approx(1.0)
    assert all(v <= 0.15 + 1e-9 for k, v in sizes.items() if k != "cash")
    for c, tickers in UNIVERSE.items():
        sized = sum(sizes.get(t, 0.0) for t in tickers)
        assert sized <= pm.class_allocation[c] + 1e-9


def test_equal_and_risk_parity_sizing_follow_their_formulas(managed):
    ctx, pm = managed
    agent = PositionSizingAgent()
    equal, _ = agent.size("equal_weight", pm, ctx)
    bonds = UNIVERSE["bonds"]
    assert [equal[t] for t in bonds] == pytest.approx([pm.class_allocation["bonds"] / 3] * 3)
    parity, _ = agent.size("risk_parity", pm, ctx)
    vols = ctx.model.daily_volatility[[ctx.model.position[t] for t in bonds]]
    ratio = np.array([parity[t] for t in bonds]) * vols
    assert ratio == pytest.approx(np.full(3, ratio[0]))


def test_volatility_target_scales_to_the_target(managed):
    ctx, pm = managed
    sizes, _ = PositionSizingAgent(SizingSettings(target_volatility=0.04)).size(
        "volatility_target", pm, ctx)
    assert ctx.model.volatility(ctx.vector(sizes)) == pytest.approx(0.04, rel=1e-6)
    smaller, _ = PositionSizingAgent(SizingSettings(target_volatility=0.04)).size(
        "volatility_target", pm, ctx, hedge_ratio=0.25)
    assert ctx.model.volatility(ctx.vector(smaller)) == pytest.approx(0.03, rel=1e-6)


def test_sizing_method_selection_rule(managed):
    ctx, pm = managed
    vol = ctx.model.volatility(ctx.vector(pm.target_allocation))
    low_target = PositionSizingAgent(SizingSettings(target_volatility=vol / 2))
    assert low_target.select_method(pm, ctx, 0.0)[0] == "volatility_target"
    agent = PositionSizingAgent(SizingSettings(target_volatility=1.0, kelly_confidence=0.4,
                                               default_method="equal_weight"))
    assert agent.select_method(pm, ctx, 0.0)[0] == "kelly"  # confidence 0.5
    agent = PositionSizingAgent(SizingSettings(target_volatility=1.0, sharpe_confidence=0.45))
    assert agent.select_method(pm, ctx, 0.0)[0] == "max_sharpe"
    agent = PositionSizingAgent(SizingSettings(target_volatility=1.0, equal_weight_confidence=0.6))
    assert agent.select_method(pm, ctx, 0.0)[0] == "equal_weight"
    agent = PositionSizingAgent(SizingSettings(target_volatility=1.0, default_method="kelly",
                                               sharpe_confidence=0.9, kelly_confidence=0.95))
    assert agent.select_method(pm, ctx, 0.0)[0] == "kelly"


# -- coordinator ----------------------------------------------------------------------------

def sizing_record(sizes: dict[str, float]) -> PositionSizingDecision:
    return PositionSizingDecision(timestamp="2024-01-02", position_sizes=sizes,
                                  sizing_method="equal_weight")


def hedging_record(ratio: float, managed_ctx: DecisionContext) -> HedgingDecision:
    decision = HedgingAgent(RiskLimits()).decide({"cash": 1.0}, managed_ctx)
    return decision.model_copy(update={"hedge_ratio": ratio})


def test_consensus_check_uses_the_spec_tolerances(managed):
    ctx, _ = managed
    a = sizing_record({"SPY": 0.30, "TLT": 0.70})
    b = sizing_record({"SPY": 0.32, "TLT": 0.68})
    c = sizing_record({"SPY": 0.33, "TLT": 0.67})
    assert check_consensus(a, b, hedging_record(0.10, ctx), hedging_record(0.11, ctx))
    assert not check_consensus(a, c, hedging_record(0.10, ctx), hedging_record(0.11, ctx))
    assert not check_consensus(a, b, hedging_record(0.10, ctx), hedging_record(0.125, ctx))


def test_integration_blends_60_40_then_hedges(managed):
    ctx, pm = managed
    sizing, _ = PositionSizingAgent().size("equal_weight", pm, ctx)
    no_hedge = hedging_record(0.0, ctx)
    blended = integrate(pm, sizing_record(sizing), no_hedge, ctx)
    for ticker in ("SPY", "TLT", "cash"):
        expected = 0.6 * pm.target_allocation.get(ticker, 0) + 0.4 * sizing.get(ticker, 0)
        assert blended.get(ticker, 0) == pytest.approx(expected)
    hedged = integrate(pm, sizing_record(sizing), hedging_record(0.1, ctx), ctx)
    stocks = UNIVERSE["stocks"]
    assert sum(hedged.get(t, 0) for t in stocks) == pytest.approx(
        sum(blended.get(t, 0) for t in stocks) - 0.1)
    assert hedged["cash"] == pytest.approx(blended["cash"] + 0.1)  # no instruments: all cash
    assert sum(hedged.values()) == pytest.approx(1.0)


def test_coordinator_runs_rounds_until_consensus_and_records_them(managed):
    ctx, _ = managed
    limits = RiskLimits()
    coordinator = ManagerCoordinator(PortfolioManager(BOUNDS), PositionSizingAgent(),
                                     HedgingAgent(limits), CoordinatorSettings(max_rounds=2))
    decision = coordinator.run(ctx)
    assert 1 <= decision.discussion_rounds <= 2
    assert decision.consensus_reached == decision.individual_decisions.rounds[-1].consensus
    assert sum(decision.target_allocation.values()) == pytest.approx(1.0)
    none = ManagerCoordinator(PortfolioManager(BOUNDS), PositionSizingAgent(),
                              HedgingAgent(limits), CoordinatorSettings(max_rounds=0)).run(ctx)
    assert none.discussion_rounds == 0 and not none.consensus_reached


def test_records_round_trip_through_json(managed):
    ctx, _ = managed
    decision = ManagerCoordinator(PortfolioManager(BOUNDS), PositionSizingAgent(),
                                  HedgingAgent(RiskLimits())).run(ctx)
    text = json.dumps(decision.model_dump(mode="json"))
    again = IntegratedDecision.model_validate(json.loads(text))
    assert again == decision
    pm = decision.individual_decisions.portfolio_manager
    assert PortfolioDecision.model_validate_json(pm.model_dump_json()) == pm
    hedging = decision.individual_decisions.hedging
    assert HedgingDecision.model_validate(json.loads(hedging.model_dump_json())) == hedging


def test_manager_settings_reject_unknown_fields():
    with pytest.raises(ValueError, match="extra"):
        ManagerSettings(unknown=1)  # type: ignore[call-arg]
