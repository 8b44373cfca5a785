"""Hedging: tail-risk figures, the dynamic selector, the toolkit and the agent's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alphaloop.contract import AssetInfo, MarketView, PortfolioState
from strategy.hedging import (
    BASE_HEDGE_RATIOS,
    DynamicHedgeSelector,
    HedgingAgent,
    HedgingSettings,
    apply_hedge,
    assess_tail_risk,
    hedge_ratio,
    max_drawdown,
)
from strategy.hedging.selector import candidate_scores
from strategy.managers import DecisionContext
from strategy.records import HedgeInstrument, TailRiskMetrics
from strategy.risk import RiskLimits, estimate_risk_model, screen_universe

TICKERS = (("SPY", "stocks"), ("QQQ", "stocks"), ("TLT", "bonds"), ("SHY", "bonds"),
           ("GLD", "commodities"), ("USO", "commodities"), ("VNQ", "reits"))


def hedge_view(seed: int = 0, n_days: int = 300, *, vix: float = 18.0,
               spreads: dict[str, float] | None = None,
               volumes: dict[str, float] | None = None) -> MarketView:
    """Stocks move with a market factor; TLT moves against it, GLD partly; USO with it."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0, 0.012, n_days)
    loadings = {"SPY": 1.0, "QQQ": 1.2, "TLT": -0.5, "SHY": -0.05, "GLD": -0.2, "USO": 0.8,
                "VNQ": 0.9}
    idio = {"SPY": 0.003, "QQQ": 0.005, "TLT": 0.004, "SHY": 0.001, "GLD": 0.008,
            "USO": 0.015, "VNQ": 0.008}
    returns = np.column_stack([loadings[t] * market + rng.normal(0, idio[t], n_days)
                               for t, _ in TICKERS])
    prices = 100 * np.cumprod(1 + returns, axis=0)
    vol = np.column_stack([np.full(n_days, (volumes or {}).get(t, 1e7)) for t, _ in TICKERS])
    spread = np.column_stack([np.full(n_days, (spreads or {}).get(t, 2.0)) for t, _ in TICKERS])
    dates = pd.bdate_range("2021-01-01", periods=n_days)
    return MarketView(as_of=dates[-1], dates=dates, prices=prices, volumes=vol,
                      assets=[AssetInfo(ticker=t, asset_class=c)  # type: ignore[arg-type]
                              for t, c in TICKERS],
                      fundamentals={"spread_bps": spread}, macro={"VIX": np.full(n_days, vix)})


def context(view: MarketView) -> DecisionContext:
    screen = screen_universe(view)
    model = estimate_risk_model(view, screen.tradable)
    vix = float(view.macro("VIX")[-1])
    state = PortfolioState(as_of=view.as_of.to_pydatetime(), weights={}, cash=1.0, value=1e6,
                           peak_value=1e6)
    return DecisionContext(view=view, portfolio=state, model=model, screen=screen, vix=vix,
                           vix_source="VIX", regime="high" if vix >= 25 else "normal", views={})


EQUITY_HEAVY = {"SPY": 0.4, "QQQ": 0.3, "VNQ": 0.1, "USO": 0.1, "cash": 0.1}


# -- tail risk ------------------------------------------------------------------------------

def test_tail_risk_matches_direct_computation():
    ctx = context(hedge_view(1))
    w = ctx.vector(EQUITY_HEAVY)
    tail = assess_tail_risk(ctx.model, w, vix=22.0)
    r = ctx.model.returns @ w
    q = np.quantile(r, 0.05)
    assert tail.var_95 == pytest.approx(-q)
    assert tail.var_99 == pytest.approx(-np.quantile(r, 0.01))
    assert tail.cvar_95 == pytest.approx(-r[r <= q].mean())
    assert tail.skewness == pytest.approx(stats.skew(r))
    assert tail.kurtosis == pytest.approx(stats.kurtosis(r, fisher=False))
    assert tail.cvar_95 >= tail.var_95 > 0
    assert tail.vix_level == "moderate"


def test_max_drawdown_of_a_known_path():
    assert max_drawdown(np.array([0.1, -0.5, 0.2, -0.1])) == pytest.approx(0.5)
    assert max_drawdown(np.array([-0.1, -0.1])) == pytest.approx(1 - 0.9 * 0.9)
    assert max_drawdown(np.array([0.01, 0.02])) == 0.0


def test_tail_risk_without_history_is_gaussian_from_the_prior():
    ctx = context(hedge_view(2, n_days=5))
    assert ctx.model.fallback is not None
    tail = assess_tail_risk(ctx.model, ctx.vector(EQUITY_HEAVY), vix=15.0)
    sigma = np.sqrt(ctx.model.variance(ctx.vector(EQUITY_HEAVY)))
    assert tail.var_95 == pytest.approx(stats.norm.ppf(0.95) * sigma)
    assert (tail.skewness, tail.kurtosis) == (0.0, 3.0)


# -- selector ---------------------------------------------------------------------------------

def test_selector_prefers_negatively_correlated_liquid_cheap_assets():
    ctx = context(hedge_view(3))
    w = ctx.vector(EQUITY_HEAVY)
    rec = DynamicHedgeSelector().recommend(w, ctx.model, ctx.view, strategy="safe_haven",
                                           ratio=0.2, tool="min_variance",
                                           portfolio_value=1e6)
    chosen = [i.ticker for i in rec.selected]
    assert chosen and chosen[0] == "TLT"
    assert "USO" not in chosen, "safe havens are bonds and commodities negatively correlated"
    assert sum(i.weight for i in rec.selected) == pytest.approx(0.1)
    scores = {c.ticker: c for c in rec.candidates}
    assert scores["TLT"].correlation < 0
    assert "SPY" not in scores, "stocks are no safe haven"


def test_selector_drops_illiquid_and_penalises_wide_spreads():
    view = hedge_view(3, volumes={"TLT": 10.0}, spreads={"SHY": 200.0})
    ctx = context(view)
    candidates = DynamicHedgeSelector().candidates(ctx.vector(EQUITY_HEAVY), ctx.model, view,
                                                   "diversification", 1e4)
    names = [c.ticker for c in candidates]
    assert "TLT" not in names, "ADV of ~$1k is below the minimum"
    narrow = context(hedge_view(3))
    base = {c.ticker: c.score for c in DynamicHedgeSelector().candidates(
        narrow.vector(EQUITY_HEAVY), narrow.model, narrow.view, "diversification", 1e4)}
    wide = {c.ticker: c.score for c in candidates}
    assert wide["SHY"] == pytest.approx(base["SHY"] - 0.1 * (1.0 - 2.0 / 50.0))


def test_tail_hedge_baskets_use_cvar_and_scale_with_the_ratio():
    ctx = context(hedge_view(4))
    w = ctx.vector(EQUITY_HEAVY)
    selector = DynamicHedgeSelector()
    small = selector.recommend(w, ctx.model, ctx.view, strategy="tail_hedge", ratio=0.1,
                               tool="cvar", portfolio_value=1e6)
    large = selector.recommend(w, ctx.model, ctx.view, strategy="tail_hedge", ratio=0.2,
                               tool="cvar", portfolio_value=1e6)
    assert small.tool == "cvar"
    assert [i.ticker for i in small.selected] == [i.ticker for i in large.selected]
    for a, b in zip(small.selected, large.selected, strict=True):
        assert b.weight == pytest.approx(2 * a.weight)


# -- toolkit --------------------------------------------------------------------------------

def test_apply_hedge_moves_half_to_cash_half_to_instruments():
    classes = {"SPY": "stocks", "QQQ": "stocks", "TLT": "bonds", "GLD": "commodities"}
    allocation = {"SPY": 0.3, "QQQ": 0.2, "TLT": 0.3, "cash": 0.2}
    instruments = [HedgeInstrument(ticker="TLT", asset_class="bonds", weight=0.03,
                                   correlation=-0.4, cost_bps=1, role="h"),
                   HedgeInstrument(ticker="GLD", asset_class="commodities", weight=0.01,
                                   correlation=-0.1, cost_bps=1, role="h")]
    out = apply_hedge(allocation, classes, 0.1, instruments)
    assert sum(out.values()) == pytest.approx(1.0)
    assert out["SPY"] + out["QQQ"] == pytest.approx(0.4)
    assert out["SPY"] / out["QQQ"] == pytest.approx(1.5)
    assert out["cash"] == pytest.approx(0.25)
    assert out["TLT"] == pytest.approx(0.3 + 0.05 * 0.75)
    assert out["GLD"] == pytest.approx(0.05 * 0.25)


def test_apply_hedge_respects_the_stock_floor_and_no_instruments_means_cash():
    out = apply_hedge({"SPY": 0.12, "cash": 0.88}, {"SPY": "stocks"}, 0.3, [])
    assert out == pytest.approx({"SPY": 0.10, "cash": 0.90})


def test_hedge_ratio_scales_with_severity_and_is_capped():
    assert hedge_ratio("none", 5.0, 0.5) == 0.0
    assert hedge_ratio("safe_haven", 1.0, 0.5) == BASE_HEDGE_RATIOS["safe_haven"]
    assert hedge_ratio("safe_haven", 10.0, 0.5) == 2 * BASE_HEDGE_RATIOS["safe_haven"]
    assert hedge_ratio("safe_haven", 10.0, 0.2) == 0.2


# -- the agent ---------------------------------------------------------------------------------

def tail(**changes: float) -> TailRiskMetrics:
    base = {"vix": 15.0, "vix_level": "moderate", "var_95": 0.01, "var_99": 0.02,
            "cvar_95": 0.015, "cvar_99": 0.025, "skewness": 0.0, "kurtosis": 3.0,
            "max_drawdown": 0.02, "annual_volatility": 0.1, "n_obs": 252}
    return TailRiskMetrics.model_validate({**base, **changes})


@pytest.mark.parametrize(("changes", "cluster", "expected"), [
    ({"vix": 30.0}, 0.0, "safe_haven"),
    ({"skewness": -1.0, "kurtosis": 8.0}, 0.0, "tail_hedge"),
    ({"var_95": 0.03}, 0.0, "put_protection"),
    ({"var_95": 0.03, "vix": 22.0}, 0.0, "collar"),
    ({"max_drawdown": 0.09}, 0.0, "dynamic_hedge"),
    ({}, 0.7, "diversification"),
    ({}, 0.1, "none"),
])
def test_strategy_rules(changes, cluster, expected):
    agent = HedgingAgent(RiskLimits())
    assert agent.rule_strategy(tail(**changes), cluster)[0] == expected


def test_agent_hedges_a_risky_book_in_a_high_vix_market():
    ctx = context(hedge_view(5, vix=32.0))
    decision = HedgingAgent(RiskLimits()).decide(EQUITY_HEAVY, ctx)
    assert decision.hedging_strategy == "safe_haven"
    assert 0 < decision.hedge_ratio <= HedgingSettings().max_ratio
    assert decision.hedge_instruments
    assert decision.expected_protection > 0, "the hedge lowers CVaR"
    assert 0 < decision.expected_cost <= HedgingSettings().max_hedge_cost + 1e-12


def test_agent_does_nothing_when_risk_is_low():
    ctx = context(hedge_view(6, vix=12.0))
    calm = {"SHY": 0.1, "cash": 0.9}
    decision = HedgingAgent(RiskLimits()).decide(calm, ctx)
    assert decision.hedging_strategy == "none"
    assert decision.hedge_ratio == 0 and decision.hedge_instruments == []


class ScriptedLLM:
    """An LLM client that answers from a list (the last answer repeats)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[tuple[str, str]] = []

    def complete(self, system: str, user: str) -> str:
        self.prompts.append((system, user))
        return self.answers[min(len(self.prompts), len(self.answers)) - 1]


def test_agent_follows_a_valid_llm_choice():
    llm = ScriptedLLM('```json\n{"strategy": "collar", "reasoning": "cheap cover"}\n```')
    ctx = context(hedge_view(5, vix=32.0))
    decision = HedgingAgent(RiskLimits(), llm=llm).decide(EQUITY_HEAVY, ctx)
    assert decision.hedging_strategy == "collar" and decision.source == "llm"
    assert "VIX: 32.0" in llm.prompts[0][1]


def test_agent_falls_back_to_its_rule_after_invalid_llm_answers():
    llm = ScriptedLLM("no idea", '{"strategy": "buy_lottery_tickets"}')
    ctx = context(hedge_view(5, vix=32.0))
    decision = HedgingAgent(RiskLimits(), HedgingSettings(llm_retries=1),
                            llm=llm).decide(EQUITY_HEAVY, ctx)
    assert decision.hedging_strategy == "safe_haven" and decision.source == "rules"
    assert len(llm.prompts) == 2
    assert any(f.component == "hedging.llm" for f in decision.fallbacks)


def _loop_score(correlation: float, tail: float, vol: float, adv: float, spread: float,
                min_adv: float) -> float:
    """The hedge score of one asset, written out term by term (the module's formula)."""
    effect = float(np.clip(tail / vol, -1, 1)) if vol > 0 else 0.0
    liquidity = (0.5 if not np.isfinite(adv) else
                 float(np.clip(np.log10(max(adv, 1.0) / max(min_adv, 1.0)) / 3.0, 0.0, 1.0)))
    cost = float(min(1.0, spread / 50.0))
    return 0.5 * -correlation + 0.3 * effect + 0.1 * liquidity - 0.1 * cost


@pytest.mark.parametrize("seed", range(20))
def test_candidate_scores_match_the_per_asset_formula(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    correlation = rng.uniform(-1, 1, n)
    tail = rng.normal(0, 0.02, n)
    vol = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.001, 0.05, n))
    adv = np.where(rng.random(n) < 0.2, np.nan, 10 ** rng.uniform(-1, 10, n))
    spread = rng.uniform(0, 120, n)
    min_adv = float(rng.choice([0.0, 0.5, 1e6]))
    scores = candidate_scores(correlation, tail, vol, adv, spread, min_adv)
    expected = [_loop_score(float(c), float(t), float(v), float(a), float(s), min_adv)
                for c, t, v, a, s in zip(correlation, tail, vol, adv, spread, strict=True)]
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-15)
