"""Who answers a sandboxed strategy's questions in a cycle, and how the evaluation cache
keeps results that depended on the answers apart.

A small strategy asks one question per decision and puts the answer in its weights, so
a result shows which answer it got. Answers are written into the response cache through
its own API, under the request the roles' client builds for a strategy's question.
"""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import pytest
from support.asking_strategy import asking_strategy

from alphaloop.data.panel import MarketData
from alphaloop.data.synthetic import SyntheticConfig, generate
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.evaluation.model_answers import (
    LiveAnswerer,
    ModelSetting,
    ReplayAnswerer,
    StrategyLLMPolicy,
    StrategyReply,
    read_strategy_llm_policy,
    strategy_answerer,
)
from alphaloop.harness import Window
from alphaloop.llm import ChatRequest, LLMConfig, Message, Reply, ResponseCache, open_llm
from alphaloop.policy.errors import PolicyError
from alphaloop.repo import GitRepo, Identity
from alphaloop.sandbox import ModelLimits, ModelQuestion, open_sandbox

SETTING = ModelSetting(provider="openai", model="gpt-4o-mini", max_tokens=4096,
                       temperature=0.0, max_repairs=2)
SYSTEM = "You size the SPY position."
ASKING = asking_strategy(f"""
    try:
        weight = json.loads(self.llm.complete({SYSTEM!r}, "SPY weight?"))["spy"]
    except ModelUnavailable as exc:
        return Decision(weights={{"SPY": 0.1}}, record={{"why": str(exc)}})
    return Decision(weights={{"SPY": weight}}, record={{"why": "answered"}})
""")


def _record(cache: Path, weight: float) -> None:
    """Record the answer to the strategy's question as the roles' client would."""
    request = ChatRequest(
        provider=SETTING.provider, model=SETTING.model, system=SYSTEM,
        messages=(Message(role="user", content="SPY weight?"),),
        schema_name="StrategyReply", json_schema=StrategyReply.model_json_schema(),
        max_tokens=SETTING.max_tokens, temperature=SETTING.temperature)
    ResponseCache(cache).put(request, Reply(text=json.dumps({"spy": weight}),
                                            model=SETTING.model, input_tokens=9,
                                            output_tokens=3))


@pytest.fixture(scope="module")
def panel() -> MarketData:
    return generate(SyntheticConfig(seed=3, years=0.5,
                                    universe={"stocks": ("SPY",), "bonds": ("TLT",)}))[0]


def _repo(tmp_path: Path) -> tuple[GitRepo, str]:
    repo = GitRepo.init(tmp_path / "repo")
    package = tmp_path / "repo" / "strategy" / "__init__.py"
    package.parent.mkdir()
    package.write_text(ASKING)
    sha = repo.commit_all(tmp_path / "repo", "strategy",
                          Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid"))
    return repo, sha


def _spy_weights(result) -> set[float]:  # type: ignore[no-untyped-def]
    return {float(d.target[0]) for d in result.decisions}


def test_the_evaluation_cache_keeps_each_answerer_apart_and_skips_unsettled_runs(
        tmp_path: Path, panel: MarketData) -> None:
    repo, sha = _repo(tmp_path)
    window = Window(start=panel.dates[10].date(), end=panel.dates[-1].date())
    settings = EvalSettings(frequency="monthly", reward_lambda=0.5)
    llm_cache = tmp_path / "llm-cache"

    def evaluator(answerer: ReplayAnswerer | None) -> Evaluator:
        return Evaluator(repo, open_sandbox(), settings, answerer=answerer)

    offline, replay = evaluator(None), evaluator(ReplayAnswerer(SETTING, llm_cache))
    try:
        # offline: refused, the same way every time, so the result is kept
        first = offline.backtest(sha, panel, window)
        assert _spy_weights(first) == {0.1}
        assert first.decisions[0].record["why"].startswith(
            "no model answers inside the sandbox: this run has no model")
        assert offline.is_cached(sha, panel, window)
        # replay with nothing recorded: refused too, but a later run may find an answer
        assert not replay.is_cached(sha, panel, window)  # not the offline result
        missed = replay.backtest(sha, panel, window)
        assert _spy_weights(missed) == {0.1}
        assert "no answer is recorded" in missed.decisions[0].record["why"]
        assert not replay.is_cached(sha, panel, window)
        _record(llm_cache, 0.4)
        answered = replay.backtest(sha, panel, window)
        assert _spy_weights(answered) == {0.4}
        assert replay.is_cached(sha, panel, window)
        assert replay.backtest(sha, panel, window) == answered and replay.hits == 1
        assert offline.backtest(sha, panel, window) == first and offline.hits == 1
        # another model is another answerer: its results are not the first model's
        other = evaluator(ReplayAnswerer(SETTING.model_copy(update={"model": "gpt-4o"}),
                                         llm_cache))
        assert not other.is_cached(sha, panel, window)
        other.close()
    finally:
        offline.close()
        replay.close()


def test_a_replay_answerer_travels_to_other_processes_and_a_live_one_does_not(
        tmp_path: Path) -> None:
    _record(tmp_path, 0.25)
    replay = ReplayAnswerer(SETTING, tmp_path)
    question = ModelQuestion(system=SYSTEM, user="SPY weight?")
    copy = pickle.loads(pickle.dumps(replay))
    assert copy.mode == replay.mode
    assert copy.answer(question) == replay.answer(question)
    assert json.loads(replay.answer(question).text or "") == {"spy": 0.25}
    llm = open_llm(LLMConfig(provider="openai", base_url="http://127.0.0.1:9/v1"),
                   tmp_path, environ={"OPENAI_API_KEY": "sk-test"})
    assert llm is not None
    with pytest.raises(TypeError, match="cycle's own process"):
        pickle.dumps(LiveAnswerer(llm))


def test_the_cycle_answers_live_only_when_the_policy_says_so(tmp_path: Path) -> None:
    environ = {"OPENAI_API_KEY": "sk-test"}
    live_config = LLMConfig(provider="openai", base_url="http://127.0.0.1:9/v1")
    llm = open_llm(live_config, tmp_path / "cache", environ=environ)
    replaying = open_llm(live_config.model_copy(update={"replay": True}), tmp_path / "cache",
                         environ=environ)
    off, on = StrategyLLMPolicy(), StrategyLLMPolicy(live=True)
    assert strategy_answerer(None, on) is None
    assert isinstance(strategy_answerer(llm, off), ReplayAnswerer)
    assert isinstance(strategy_answerer(llm, on), LiveAnswerer)
    assert isinstance(strategy_answerer(replaying, on), ReplayAnswerer)
    answerer = strategy_answerer(llm, on)
    assert answerer is not None and answerer.mode.startswith("live openai gpt-4o-mini")


def test_the_policy_file_is_optional_and_checked(tmp_path: Path) -> None:
    assert read_strategy_llm_policy(tmp_path) == StrategyLLMPolicy()
    assert not StrategyLLMPolicy().live
    policy = tmp_path / "policies" / "strategy-llm.toml"
    policy.parent.mkdir()
    policy.write_text(textwrap.dedent("""
        live = true
        [limits]
        max_per_decision = 8
    """))
    read = read_strategy_llm_policy(tmp_path)
    assert read.live and read.limits == ModelLimits(max_per_decision=8)
    policy.write_text("live = true\n[limits]\nmax_questions_per_day = 3\n")
    with pytest.raises(PolicyError, match="max_questions_per_day"):
        read_strategy_llm_policy(tmp_path)
    project = Path(__file__).resolve().parents[2]
    assert read_strategy_llm_policy(project) == StrategyLLMPolicy()  # as shipped: off
