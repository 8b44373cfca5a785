"""The 9-level actions, the blending rules, the LLM seam and the five experts."""

from __future__ import annotations

import json
import socket
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from alphaloop.contract import AssetInfo, ContractError, MarketView, PortfolioState
from strategy.config import load_profile
from strategy.experts import (
    EXPERTS,
    Action,
    BaseExpert,
    BondExpert,
    CryptoExpert,
    ExpertRecommendation,
    ExpertSettings,
    LLMAnswerError,
    StockExpert,
    adjust_action,
    adjust_confidence,
    ask_expert,
    blend_shares,
    determine_overall_view,
    parse_answer,
    shares_from_actions,
)

UNIVERSE = {
    "stocks": ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"),
    "bonds": ("TLT", "IEF", "SHY", "LQD", "HYG", "AGG"),
    "commodities": ("GLD", "SLV", "USO", "DBA", "COPX"),
    "reits": ("VNQ", "IYR", "DLR", "EQIX"),
    "crypto": ("BTC-USD", "ETH-USD"),
}
FIELDS = {
    "stocks": {"book_to_market": (0.4, 0.1), "profitability": (0.15, 0.05),
               "investment": (0.05, 0.03), "market_cap": (500.0, 100.0),
               "earnings_yield": (0.05, 0.01)},
    "bonds": {"yield": (0.04, 0.01), "duration": (7.0, 2.0), "credit_spread": (0.01, 0.003)},
    "commodities": {"roll_yield": (0.0, 0.05), "basis": (0.0, 0.01)},
    "reits": {"nav_discount": (-0.05, 0.05), "sector_outlook": (0.0, 0.3)},
    "crypto": {"active_addresses": (100.0, 10.0), "adoption": (100.0, 10.0)},
}


def market(seed: int = 0, n_days: int = 300, *, winner: str = "MSFT",
           loser: str = "NVDA") -> MarketView:
    """The default universe at random, with ``winner`` trending up and ``loser`` down."""
    rng = np.random.default_rng(seed)
    assets = [AssetInfo(ticker=t, asset_class=c) for c, ts in UNIVERSE.items() for t in ts]
    tickers = [a.ticker for a in assets]
    n = len(assets)
    steps = rng.normal(0, 0.01, size=(n_days, n))
    steps[:, tickers.index(winner)] += 0.004
    steps[:, tickers.index(loser)] -= 0.004
    steps[0] = 0
    prices = 100 * np.exp(np.cumsum(steps, axis=0))
    fundamentals = {}
    for cls, fields in FIELDS.items():
        cols = [i for i, a in enumerate(assets) if a.asset_class == cls]
        for name, (level, spread) in fields.items():
            values = np.full((n_days, n), np.nan)
            base = np.abs(level + rng.normal(0, spread, len(cols))) if level > 0 else (
                level + rng.normal(0, spread, len(cols)))
            drift = np.cumsum(rng.normal(0, spread / 30, (n_days, len(cols))), axis=0)
            values[:, cols] = base + drift
            fundamentals[name] = values
    dates = pd.bdate_range("2021-01-04", periods=n_days)
    macro = {"VIX": np.full(n_days, 18.0), "rate_2y": np.full(n_days, 0.02),
             "rate_10y": np.full(n_days, 0.03), "inflation": np.full(n_days, 0.025)}
    return MarketView(as_of=dates[-1], assets=assets, dates=dates, prices=prices,
                      volumes=rng.uniform(1e5, 1e6, (n_days, n)),
                      fundamentals=fundamentals, macro=macro)


def portfolio(weights: dict[str, float]) -> PortfolioState:
    return PortfolioState(as_of=datetime(2022, 1, 3), weights=weights,
                          cash=1 - sum(weights.values()), value=1e6, peak_value=1e6)


class FixedLLM:
    """A test double of the LLMClient protocol: plays back fixed answers, records prompts."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str]] = []

    def complete(self, system: str, user: str) -> str:
        self.calls.append((system, user))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def answer(recs: list[dict[str, object]], view: str = "bullish") -> str:
    return json.dumps({"overall_view": view, "recommendations": recs,
                       "key_factors": ["rates falling"], "market_analysis": "fine"})


# -- actions ------------------------------------------------------------------------------------

def test_nine_actions_with_their_weight_adjustments() -> None:
    assert [a.weight_adjustment for a in Action] == [
        -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]
    assert Action.BUY_75.strength == 1.5 and Action.SELL_100.strength == -2.0
    assert Action.BUY_25.is_buy and Action.SELL_25.is_sell
    assert not (Action.HOLD.is_buy or Action.HOLD.is_sell)
    assert Action.BUY_50.value == "BUY_50%"


@pytest.mark.parametrize(("text", "action"), [
    ("BUY_25%", Action.BUY_25), ("buy 25", Action.BUY_25), ("SELL-100%", Action.SELL_100),
    (" hold ", Action.HOLD), ("Sell_75", Action.SELL_75),
])
def test_actions_parse_the_spellings_models_use(text: str, action: Action) -> None:
    assert Action.parse(text) is action


def test_unknown_actions_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="BUY_25%"):
        Action.parse("BUY_30%")


@given(st.floats(-3, 3, allow_nan=False))
def test_from_adjustment_picks_the_nearest_level(adjustment: float) -> None:
    action = Action.from_adjustment(adjustment)
    clipped = max(-1.0, min(1.0, adjustment))
    assert abs(action.weight_adjustment - clipped) <= 0.125 + 1e-12
    assert Action.from_strength(2 * adjustment) is action


def test_every_level_maps_back_to_itself() -> None:
    for action in Action:
        assert Action.from_adjustment(action.weight_adjustment) is action
    assert Action.from_adjustment(0.125) is Action.BUY_25  # ties leave HOLD
    assert Action.from_adjustment(-0.124) is Action.HOLD


# -- blending (spec 5.3 and 3.2.4) ----------------------------------------------------------

def test_confidence_blend_rewards_agreement_and_penalises_conflict() -> None:
    assert adjust_confidence(0.8, Action.BUY_50, 0.6, "BUY", 0.4) == pytest.approx(0.792)
    assert adjust_confidence(0.8, Action.BUY_50, 0.6, "SELL", 0.4) == pytest.approx(0.648)
    assert adjust_confidence(1.0, Action.BUY_100, 1.0, "STRONG_BUY", 0.4) == 1.0
    assert adjust_confidence(0.05, Action.BUY_25, 0.0, "SELL", 0.4) == 0.1
    # HOLD and SELL are both "not bullish": they agree
    assert adjust_confidence(0.5, Action.HOLD, 0.5, "SELL", 0.4) == pytest.approx(0.55)


@pytest.mark.parametrize(("llm", "signal", "expected"), [
    (Action.BUY_100, "STRONG_BUY", Action.BUY_75),  # 2.0: a blend never goes all in
    (Action.BUY_75, "BUY", Action.BUY_50),  # 0.9 + 0.4 = 1.3
    (Action.BUY_50, "SELL", Action.HOLD),  # 0.6 - 0.4 = 0.2
    (Action.HOLD, "STRONG_BUY", Action.BUY_25),  # 0.8
    (Action.SELL_25, "SELL", Action.SELL_25),  # -0.6 - 0.4... = -0.7
    (Action.SELL_100, "STRONG_SELL", Action.SELL_75),
    (Action.SELL_50, "SELL", Action.SELL_50),  # -0.6 - 0.4 = -1.0 -> SELL_50
])
def test_action_blend_follows_the_spec_table(llm: Action, signal: str, expected: Action) -> None:
    assert adjust_action(llm, signal, 0.4) is expected  # type: ignore[arg-type]


def test_action_blend_thresholds_are_inclusive_as_in_the_spec() -> None:
    # combined strength exactly 0.5 is BUY_25, exactly -0.5 is SELL_25
    assert adjust_action(Action.HOLD, "BUY", 0.5) is Action.BUY_25
    assert adjust_action(Action.HOLD, "SELL", 0.5) is Action.SELL_25
    assert adjust_action(Action.BUY_50, "HOLD", 0.0) is Action.BUY_50


def _rec(symbol: str, action: Action, confidence: float) -> ExpertRecommendation:
    return ExpertRecommendation(asset_class="stocks", symbol=symbol, action=action,
                                confidence=confidence, target_weight=0.5)


def test_overall_view_needs_a_one_and_a_half_times_majority() -> None:
    assert determine_overall_view([]) == "neutral"
    assert determine_overall_view([_rec("A", Action.HOLD, 0.9)]) == "neutral"
    buy, sell = _rec("A", Action.BUY_25, 0.6), _rec("B", Action.SELL_50, 0.4)
    assert determine_overall_view([buy, sell]) == "neutral"  # 0.6 = 1.5 * 0.4, not above
    assert determine_overall_view([_rec("A", Action.BUY_25, 0.61), sell]) == "bullish"
    assert determine_overall_view([_rec("A", Action.SELL_25, 0.7),
                                   _rec("B", Action.BUY_100, 0.4)]) == "bearish"


def test_shares_follow_the_actions_and_blend_with_llm_targets() -> None:
    shares = shares_from_actions({"A": Action.BUY_100, "B": Action.HOLD, "C": Action.SELL_100})
    assert shares == pytest.approx({"A": 2 / 3, "B": 1 / 3, "C": 0.0})
    assert shares_from_actions({"A": Action.SELL_100, "B": Action.SELL_100}) == {
        "A": 0.5, "B": 0.5}
    mixed = blend_shares({"A": 1.0, "B": 0.0, "C": None}, {"A": 0.25, "B": 0.25, "C": 0.5}, 0.4)
    # the LLM covers A and B (factor share 0.5 between them): A 0.6 * 0.5 + 0.4 * 0.25
    assert mixed == pytest.approx({"A": 0.4, "B": 0.1, "C": 0.5})
    assert sum(blend_shares({}, {"A": 0.3, "B": 0.7}, 0.4).values()) == pytest.approx(1.0)


# -- the LLM seam ---------------------------------------------------------------------------

def test_answers_are_parsed_from_fenced_or_chatty_json() -> None:
    text = "Here you go:\n```json\n" + answer([
        {"symbol": "SPY", "action": "buy 50", "confidence": "0.7", "target_weight": 0.2,
         "risk_level": "Medium", "extra": 1}]) + "\n```\nThanks"
    parsed = parse_answer(text)
    rec = parsed.recommendations[0]
    assert (rec.action, rec.confidence, rec.risk_level) == (Action.BUY_50, 0.7, "medium")
    assert parsed.overall_view == "bullish" and parsed.key_factors == ["rates falling"]


@pytest.mark.parametrize("text", [
    "no json here", answer([{"symbol": "SPY", "action": "BUY_30%", "confidence": 0.5}]),
    answer([{"symbol": "SPY", "action": "HOLD", "confidence": 1.5}]),
    '{"overall_view": "sideways", "recommendations": []}',
])
def test_invalid_answers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_answer(text)


def test_ask_expert_retries_with_the_problem_and_gives_up_after_the_budget() -> None:
    good = answer([{"symbol": "SPY", "action": "HOLD", "confidence": 0.5}])
    llm = FixedLLM("{not json", good)
    parsed, attempts = ask_expert(llm, "sys", "user", max_retries=2)
    assert attempts == 2 and parsed.recommendations[0].symbol == "SPY"
    assert llm.calls[1][1].startswith("user") and "could not be used" in llm.calls[1][1]
    stubborn = FixedLLM('{"overall_view": "up"}')
    with pytest.raises(LLMAnswerError, match="3 attempts") as info:
        ask_expert(stubborn, "sys", "user", max_retries=2)
    assert info.value.attempts == 3 and len(stubborn.calls) == 3


def test_client_errors_propagate() -> None:
    class Broken:
        def complete(self, system: str, user: str) -> str:
            raise TimeoutError("provider timed out")

    with pytest.raises(TimeoutError):
        ask_expert(Broken(), "s", "u", max_retries=3)


# -- experts, factor-only ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def view() -> MarketView:
    return market(seed=21)


@pytest.mark.parametrize("asset_class", list(EXPERTS))
def test_each_expert_reports_on_its_whole_class(asset_class: str, view: MarketView) -> None:
    expert = EXPERTS[asset_class]()
    report = expert.analyse(view, portfolio({}))
    assert report.asset_class == asset_class and report.mode == "factor"
    assert report.timestamp == str(view.as_of.date())
    assert [r.symbol for r in report.recommendations] == list(UNIVERSE[asset_class])
    assert sum(report.sector_allocation.values()) == pytest.approx(1.0)
    assert report.overall_view == determine_overall_view(report.recommendations)
    for rec in report.recommendations:
        score = rec.factor_score
        assert score is not None and rec.confidence == score.confidence
        assert rec.factor_alpha == score.expected_alpha
        if score.signal == "HOLD":
            assert rec.action is Action.HOLD
        else:
            assert rec.action.is_buy == score.signal.endswith("BUY")
    assert report.factors_missing == {} or asset_class == "reits"
    assert report.key_factors and report.llm_attempts == 0
    assert json.loads(json.dumps(report.summary()))["view"] == report.overall_view
    assert type(report).model_validate_json(report.model_dump_json()) == report
    assert expert.lookback >= expert.settings.factors.momentum_lookback_days


def test_a_strong_trend_becomes_a_buy_and_a_larger_share(view: MarketView) -> None:
    report = StockExpert().analyse(view)
    msft, nvda = report.recommendation("MSFT"), report.recommendation("NVDA")
    assert msft.action.is_buy and nvda.action.is_sell
    assert msft.target_weight > 1 / 8 > nvda.target_weight
    assert report.top_picks(1) == ["MSFT"] or msft.target_weight == max(
        report.sector_allocation.values())


def test_current_weights_come_from_the_portfolio(view: MarketView) -> None:
    report = BondExpert().analyse(view, portfolio({"TLT": 0.1, "SPY": 0.3}))
    assert report.recommendation("TLT").current_weight == 0.1
    assert report.recommendation("IEF").current_weight == 0.0


def test_factor_only_experts_make_no_network_connection(view: MarketView,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an expert tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for expert_class in EXPERTS.values():
        assert expert_class().analyse(view).mode == "factor"


def test_analysis_is_deterministic(view: MarketView) -> None:
    assert CryptoExpert().analyse(view) == CryptoExpert().analyse(view)


def test_from_config_uses_the_universe_and_params(view: MarketView) -> None:
    config = load_profile(params={"FACTOR_WEIGHT": 0.3, "MOMENTUM_LOOKBACK_DAYS": 126})
    expert = StockExpert.from_config(config)
    assert expert.symbols == UNIVERSE["stocks"]
    assert expert.settings.factor_weight == 0.3
    assert expert.settings.factors.momentum_lookback_days == 126
    assert ExpertSettings.default().factor_weight == 0.4


def test_missing_symbols_are_reported_and_wrong_classes_refused(view: MarketView) -> None:
    report = StockExpert(["SPY", "TSLA", "AAPL"]).analyse(view)
    assert [r.symbol for r in report.recommendations] == ["SPY", "AAPL"]
    assert report.symbols_missing == ("TSLA",)
    with pytest.raises(ContractError, match="lists under 'bonds'"):
        StockExpert(["SPY", "TLT"]).analyse(view)
    empty = CryptoExpert(["DOGE-USD"]).analyse(view)
    assert empty.recommendations == [] and empty.overall_view == "neutral"


def test_the_base_class_and_bad_clients_are_refused() -> None:
    with pytest.raises(TypeError, match="base class"):
        BaseExpert()
    with pytest.raises(TypeError, match="complete"):
        StockExpert(llm=object())  # type: ignore[arg-type]


# -- experts with an LLM --------------------------------------------------------------------

def test_llm_and_factor_views_are_blended_by_the_spec_rules(view: MarketView) -> None:
    factor_only = StockExpert().analyse(view)
    llm = FixedLLM(answer([
        {"symbol": "MSFT", "action": "BUY_100%", "confidence": 0.9, "target_weight": 0.4,
         "reasoning": "cloud growth", "risk_level": "low"},
        {"symbol": "nvda", "action": "BUY_50%", "confidence": 0.6, "target_weight": 0.2},
        {"symbol": "ZZZ", "action": "SELL_100%", "confidence": 1.0},
    ], view="bullish"))
    report = StockExpert(llm=llm).analyse(view, portfolio({}))
    assert report.mode == "llm+factor" and report.llm_attempts == 1
    assert report.llm_overall_view == "bullish" and report.key_factors[0] == "rates falling"
    for symbol, llm_action, llm_conf in (("MSFT", Action.BUY_100, 0.9),
                                         ("NVDA", Action.BUY_50, 0.6)):
        before, after = factor_only.recommendation(symbol), report.recommendation(symbol)
        score = before.factor_score
        assert score is not None
        assert after.action is adjust_action(llm_action, score.signal, 0.4)
        assert after.confidence == adjust_confidence(llm_conf, llm_action, score.confidence,
                                                     score.signal, 0.4)
        assert after.market_view["llm_action"] == llm_action.value
    assert report.recommendation("MSFT").reasoning == "cloud growth"
    untouched = ("action", "confidence", "reasoning", "market_view", "factor_score")
    assert {k: getattr(report.recommendation("SPY"), k) for k in untouched} == {
        k: getattr(factor_only.recommendation("SPY"), k) for k in untouched}
    assert "ZZZ" not in report.sector_allocation
    assert sum(report.sector_allocation.values()) == pytest.approx(1.0)
    system, user = llm.calls[0]
    assert "stock investment expert" in system and "Fama-French" in system
    assert all(symbol in user for symbol in UNIVERSE["stocks"])
    assert "factor score" in user and "VIX: 18.0" in user and "profitability" in user


def test_an_llm_that_never_answers_in_json_falls_back_to_factors(view: MarketView) -> None:
    llm = FixedLLM("I think stocks will go up.")
    settings_ = ExpertSettings.from_params({"LLM_MAX_RETRIES": 1})
    report = StockExpert(llm=llm, settings=settings_).analyse(view)
    assert report.mode == "factor (llm fallback)" and report.llm_attempts == 2
    assert "no valid JSON" in (report.llm_error or "")
    factor_only = StockExpert().analyse(view)
    assert report.recommendations == factor_only.recommendations
    assert report.summary()["llm_error"] == report.llm_error


def test_llm_answers_are_validated_not_trusted(view: MarketView) -> None:
    bad_then_good = FixedLLM(
        answer([{"symbol": "BTC-USD", "action": "BUY_100%", "confidence": 7}]),
        answer([{"symbol": "BTC-USD", "action": "SELL_100%", "confidence": 0.8}], "bearish"))
    report = CryptoExpert(llm=bad_then_good).analyse(view)
    assert report.llm_attempts == 2 and report.mode == "llm+factor"
    assert "confidence" in bad_then_good.calls[1][1]
    assert report.recommendation("BTC-USD").action.is_sell or (
        report.recommendation("BTC-USD").action is Action.HOLD)


def test_records_validate_their_fields() -> None:
    with pytest.raises(ValidationError):
        ExpertRecommendation(asset_class="stocks", symbol="SPY", action=Action.HOLD,
                             confidence=1.2, target_weight=0.1)
