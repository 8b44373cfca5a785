"""A sandboxed strategy asks the parent's model: replayed answers, refusals and bounds.

FinSage configured for LLM experts (``llm={"enabled": True}``) runs in the real process
sandbox: with no recorded answer it decides factor-only and its records say why; with
answers recorded by a live run against the fake OpenAI server it replays them, and
decides exactly as the same engine in this process asking a client that answers the
same texts. A strategy that floods the parent with questions fails, naming the limit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.asking_strategy import asking_strategy
from support.fake_openai import fake_openai

from alphaloop.contract import ModelUnavailable, PortfolioState
from alphaloop.data.panel import MarketData
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from alphaloop.evaluation.model_answers import LiveAnswerer, ModelSetting, ReplayAnswerer
from alphaloop.harness import BacktestResult, Costs, Window, simulate
from alphaloop.llm import LLMConfig, ResponseCache, open_llm
from alphaloop.sandbox import (
    ModelAnswer,
    ModelAnswerer,
    ModelQuestion,
    ModelUsage,
    SandboxedStrategy,
    StrategyFailed,
    open_sandbox,
)
from strategy import create_strategy

PROJECT = Path(__file__).resolve().parents[2]
ENABLED = {"profile": "default", "llm": {"enabled": True}}
SETTING = ModelSetting(provider="openai", model="gpt-4o-mini", max_tokens=4096,
                       temperature=0.0, max_repairs=2)
_SYMBOL = re.compile(r"^- ([A-Z][A-Z0-9\-]*): price", re.MULTILINE)
_ACTIONS = ("BUY_100%", "SELL_50%", "BUY_25%", "HOLD")


@pytest.fixture(scope="module")
def panel() -> MarketData:
    return SyntheticSource(SyntheticConfig(years=2)).load()


@pytest.fixture(scope="module")
def window(panel: MarketData) -> Window:
    return Window(start=panel.dates[300].date(), end=panel.dates[400].date(), label="in")


class Counting:
    """Refuses every question, counting them."""

    mode = "counting"

    def __init__(self) -> None:
        self.questions: list[ModelQuestion] = []

    def answer(self, question: ModelQuestion) -> ModelAnswer:
        self.questions.append(question)
        return ModelAnswer.refuse("counted, not answered")


class InProcessClient:
    """The experts' client in this process, answering what ``answerer`` answers."""

    def __init__(self, answerer: ModelAnswerer) -> None:
        self.answerer = answerer

    def complete(self, system: str, user: str) -> str:
        answer = self.answerer.answer(ModelQuestion(system=system, user=user))
        if answer.text is None:
            raise ModelUnavailable(answer.refusal)
        return answer.text


def _sandboxed(panel: MarketData, window: Window, scratch: Path, *,
               answerer: ModelAnswerer | None, kwargs: dict[str, Any] = ENABLED
               ) -> tuple[BacktestResult, ModelUsage]:
    with SandboxedStrategy(open_sandbox(), checkout=PROJECT, scratch=scratch,
                           kwargs=kwargs, answerer=answerer) as strategy:
        result = simulate(strategy, panel, window, frequency="monthly", costs=Costs(),
                          lookback=strategy.lookback)
        return result, strategy.model_usage


def _sources(result: BacktestResult) -> set[str]:
    return {c["source"] for d in result.decisions for c in d.record["expert_contributions"]}


def _expert_fallbacks(result: BacktestResult) -> list[str]:
    return [f["reason"] for d in result.decisions for f in d.record["fallbacks"]
            if f["component"].startswith("experts.")]


@pytest.fixture(scope="module")
def factor_only(panel: MarketData, window: Window,
                tmp_path_factory: pytest.TempPathFactory) -> BacktestResult:
    """The default configuration: no model asked, whoever could answer."""
    counting = Counting()
    result, usage = _sandboxed(panel, window, tmp_path_factory.mktemp("factor"),
                               answerer=counting, kwargs={"profile": "default"})
    assert counting.questions == [] and usage == ModelUsage()
    assert _sources(result) == {"factor"}
    return result


def test_with_no_recorded_answer_the_experts_decide_factor_only_and_say_why(
        panel: MarketData, window: Window, factor_only: BacktestResult,
        tmp_path: Path) -> None:
    empty = ReplayAnswerer(SETTING, tmp_path / "llm-cache")
    result, usage = _sandboxed(panel, window, tmp_path / "scratch", answerer=empty)
    assert _sources(result) == {"factor (llm fallback)"}
    reasons = _expert_fallbacks(result)
    assert len(reasons) == 5 * len(result.decisions)
    assert all(r.startswith("no model answers inside the sandbox: no answer is recorded")
               for r in reasons)
    # every question was refused, and none of the refusals is final: not to be cached
    assert usage.questions == usage.refused == usage.unsettled > 0 and usage.answered == 0
    np.testing.assert_array_equal(result.weights, factor_only.weights)


def _model_says(body: dict[str, Any]) -> dict[str, Any]:
    """The fake model: a view on each candidate for the experts; for the managers'
    questions an object outside their schema, so they keep their rules."""
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "investment expert" not in system:
        return {"note": "no opinion"}
    symbols = _SYMBOL.findall(user)
    return {"overall_view": "bullish", "key_factors": ["scripted view"],
            "recommendations": [
                {"symbol": s, "action": _ACTIONS[i % len(_ACTIONS)], "confidence": 0.9,
                 "target_weight": round(1.0 / (i + 2), 3), "reasoning": "scripted",
                 "risk_level": "medium"} for i, s in enumerate(symbols)]}


def test_recorded_answers_are_replayed_in_the_sandbox_as_the_engine_uses_them_here(
        panel: MarketData, window: Window, factor_only: BacktestResult,
        tmp_path: Path) -> None:
    cache = tmp_path / "llm-cache"
    with fake_openai(default=_model_says) as server:
        llm = open_llm(LLMConfig(provider="openai", base_url=server.base_url + "/v1",
                                 retry_wait_seconds=0.0, timeout_seconds=5.0),
                       cache, environ={"OPENAI_API_KEY": "sk-test"})
        assert llm is not None
        recorded, usage = _sandboxed(panel, window, tmp_path / "live",
                                     answerer=LiveAnswerer(llm))
        asked = len(server.requests)  # each distinct question once: the rest were recorded
        assert 0 < asked == len(ResponseCache(cache)) <= usage.questions == usage.answered
        assert llm.meter.usage("strategy").input_tokens > 0

        replay = ReplayAnswerer(ModelSetting.of(llm), cache)
        replayed, usage = _sandboxed(panel, window, tmp_path / "replay", answerer=replay)
        assert len(server.requests) == asked  # nothing was asked again
    assert usage.answered == usage.questions and usage.unsettled == 0
    assert _sources(replayed) == {"llm+factor"}
    assert _expert_fallbacks(replayed) == []
    np.testing.assert_array_equal(replayed.weights, recorded.weights)
    assert not np.array_equal(replayed.weights, factor_only.weights)  # the answers count

    engine = create_strategy(**ENABLED)
    assert engine.wants_llm
    engine.use_llm(InProcessClient(replay))
    here = simulate(engine, panel, window, frequency="monthly", costs=Costs(),
                    lookback=engine.lookback)
    # equal up to the last bits the sandbox's numeric libraries already differ in for
    # the factor-only engine (threading of the linear algebra)
    np.testing.assert_allclose(here.weights, replayed.weights, rtol=0, atol=1e-12)
    assert _views(here) == _views(replayed)


def _views(result: BacktestResult) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(c["expert"], c["source"], c["overall_view"], tuple(c["top_picks"]))
            for d in result.decisions for c in d.record["expert_contributions"]]


def _checkout(root: Path, decide_body: str) -> Path:
    package = root / "strategy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(asking_strategy(decide_body))
    return root


def _decide_once(checkout: Path, scratch: Path, panel: MarketData,
                 answerer: ModelAnswerer) -> tuple[dict[str, Any], ModelUsage]:
    with SandboxedStrategy(open_sandbox(), checkout=checkout, scratch=scratch,
                           answerer=answerer) as strategy:
        view = panel.view(300, 5)
        decision = strategy.decide(view, PortfolioState(
            as_of=view.as_of, weights={}, cash=1.0, value=1.0, peak_value=1.0))
        return decision.record, strategy.model_usage


def test_a_strategy_flooding_the_parent_with_questions_fails_naming_the_limit(
        panel: MarketData, tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "co", """
        for i in range(10_000):
            try:
                self.llm.complete("system", f"question {i}")
            except ModelUnavailable:
                pass
        return {}
    """)
    counting = Counting()
    with pytest.raises(StrategyFailed, match="model questions limit") as info:
        _decide_once(checkout, tmp_path / "s", panel, counting)
    assert info.value.limit == "model questions"
    assert "more than 64 questions in one decision" in str(info.value)
    assert len(counting.questions) == 64  # the parent answered no question past the bound


def test_answers_reach_the_sandbox_redacted(panel: MarketData, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "n0t-a-real-but-long-parent-value-7781"
    monkeypatch.setenv("PARENT_SECRET_TOKEN", secret)

    class Leaky:
        mode = "leaky"

        def answer(self, question: ModelQuestion) -> ModelAnswer:
            return ModelAnswer(text=f'{{"echo": "{question.user}", "value": "{secret}"}}')

    checkout = _checkout(tmp_path / "co", """
        text = self.llm.complete("system", "what do you know?")
        return Decision(weights={}, record={"has_value": "long-parent-value" in text,
                                            "redacted": "[redacted]" in text})
    """)
    record, usage = _decide_once(checkout, tmp_path / "s", panel, Leaky())
    assert record == {"has_value": False, "redacted": True}
    assert usage.answered == usage.questions == 1
