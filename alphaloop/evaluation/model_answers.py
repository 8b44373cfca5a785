"""Who answers a sandboxed strategy's questions to a model during a cycle.

A strategy that wants a model (FinSage with ``llm.enabled``) asks its questions from
inside the sandbox, where there is no network; :class:`~alphaloop.sandbox.SandboxedStrategy`
hands each one, redacted, to an answerer here (see
:mod:`alphaloop.sandbox.model_questions`). Which one, :func:`strategy_answerer` decides
from the cycle's model (``--llm``) and ``policies/strategy-llm.toml``:

* ``--llm offline``: none. Every question is refused; the strategy decides without the
  model and its records say so.
* otherwise, by default, :class:`ReplayAnswerer`: the answer recorded in the cycle's
  response cache (``.git/alphaloop/llm-cache``) for that exact request, else a refusal.
  The request is built by the roles' own client
  (:class:`~alphaloop.llm.StructuredLLM`, in replay mode, asked for a
  :class:`StrategyReply`), so the key is the one a live answer was recorded under.
  Nothing leaves the machine, and nothing is counted in the cycle's model costs.
* ``live = true`` in the policy (off by default), and a cycle not in ``--llm-replay``:
  :class:`LiveAnswerer`, the cycle's own client, asked live and recorded in the cache,
  counted in the cycle's costs under the role ``strategy`` and stopped by its budget. The
  strategy's prompts then leave the machine: a hostile strategy could put what it saw
  in them (market data; the sandbox holds no secret). The policy's ``[limits]`` bound
  how much it may ask per backtest; a person decides to turn this on, since the bot
  never merges a change to ``policies/``.

A strategy's request differs from every role's (its schema is :class:`StrategyReply`),
so the cache cannot hand a strategy what a role was told. Results of backtests that
asked differ with the answerer, so the evaluation cache keys them by its ``mode``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.llm import (
    InvalidAnswer,
    LLMCallFailed,
    Message,
    ReplayMiss,
    ResponseCache,
    StructuredLLM,
    UsageMeter,
)
from alphaloop.llm.prices import Price
from alphaloop.llm.wire import ChatRequest, Reply
from alphaloop.policy.loader import load_optional
from alphaloop.sandbox import ModelAnswer, ModelAnswerer, ModelLimits, ModelQuestion

__all__ = ["STRATEGY_LLM_POLICY", "LiveAnswerer", "ModelSetting", "ReplayAnswerer",
           "StrategyLLMPolicy", "StrategyReply", "read_strategy_llm_policy",
           "strategy_answerer"]

#: Where a repository keeps the policy, relative to its root (optional).
STRATEGY_LLM_POLICY = "policies/strategy-llm.toml"
#: The role a strategy's questions are counted under in the cycle's model costs.
STRATEGY_ROLE = "strategy"


class StrategyReply(BaseModel):
    """The schema a strategy's question is asked in: any JSON object (the strategy's
    prompt says which; the strategy validates it)."""

    model_config = ConfigDict(extra="allow")


class StrategyLLMPolicy(BaseModel):
    """``policies/strategy-llm.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    live: bool = Field(default=False, description=(
        "answer a strategy's questions with the cycle's live model (its prompts leave "
        "the machine); off: recorded answers only"))
    limits: ModelLimits = Field(default_factory=ModelLimits)


def read_strategy_llm_policy(repo_root: Path) -> StrategyLLMPolicy:
    """The policy of the repository at ``repo_root`` (defaults without the file);
    :class:`PolicyError` naming the key when the file is wrong."""
    return load_optional(repo_root, STRATEGY_LLM_POLICY, StrategyLLMPolicy)


class ModelSetting(BaseModel):
    """Everything of the cycle's model that goes into a request's cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    model: str
    max_tokens: int = Field(gt=0)
    temperature: float = Field(ge=0)
    max_repairs: int = Field(ge=0)

    @classmethod
    def of(cls, llm: StructuredLLM) -> ModelSetting:
        return cls(provider=llm.name, model=llm.model, max_tokens=llm.max_tokens,
                   temperature=llm.temperature, max_repairs=llm.max_repairs)

    def describe(self) -> str:
        return (f"{self.provider} {self.model} (max_tokens {self.max_tokens}, temperature "
                f"{self.temperature:g}, repairs {self.max_repairs})")


class _NoNetwork:
    """The transport of a replay: never reached, since replay answers from the cache."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, request: ChatRequest) -> Reply:
        raise ReplayMiss("replay only: no model is asked")


def _ask(llm: StructuredLLM, question: ModelQuestion, *, live: bool) -> ModelAnswer:
    messages = [Message(role="system", content=question.system),
                Message(role="user", content=question.user)]
    try:
        answer, _ = llm.complete(messages, schema=StrategyReply, role=STRATEGY_ROLE)
    except ReplayMiss:
        return ModelAnswer.refuse("no answer is recorded for this question (the cycle "
                                  "answers strategies from recorded answers only)",
                                  settled=False)
    except InvalidAnswer as exc:  # a live failure is forgotten, so asked again next time
        return ModelAnswer.refuse(f"the model gave no usable answer: {exc}", settled=not live)
    except LLMCallFailed as exc:
        return ModelAnswer.refuse(f"the model could not be reached: {exc}", settled=False)
    return ModelAnswer(text=answer.model_dump_json())


class ReplayAnswerer:
    """The answers recorded in ``cache_dir`` for the model ``setting`` describes, and
    nothing else (see the module notes). Picklable: backtests fanned out to other
    processes answer alike."""

    def __init__(self, setting: ModelSetting, cache_dir: Path) -> None:
        self.setting = setting
        self.cache_dir = Path(cache_dir)
        self._llm = StructuredLLM(
            _NoNetwork(setting.provider), model=setting.model,
            price=Price(input_per_mtok=0, output_per_mtok=0),
            meter=UsageMeter(setting.provider, setting.model),
            cache=ResponseCache(self.cache_dir), replay=True,
            max_repairs=setting.max_repairs, max_tokens=setting.max_tokens,
            temperature=setting.temperature)

    @property
    def mode(self) -> str:
        return f"replay {self.setting.describe()}"

    def answer(self, question: ModelQuestion) -> ModelAnswer:
        self._llm.meter.calls.clear()  # nothing to account: only the count would grow
        return _ask(self._llm, question, live=False)


class LiveAnswerer:
    """The cycle's own client: recorded answers first, then the live model (recording
    its answers), within the cycle's budget. It stays in the cycle's process: its
    costs and budget are the cycle's, so it cannot be sent to another one."""

    def __init__(self, llm: StructuredLLM) -> None:
        self.llm = llm
        self.setting = ModelSetting.of(llm)

    @property
    def mode(self) -> str:
        return f"live {self.setting.describe()}"

    def answer(self, question: ModelQuestion) -> ModelAnswer:
        return _ask(self.llm, question, live=True)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a live model answers strategies from the cycle's own process only")


def strategy_answerer(llm: StructuredLLM | None, policy: StrategyLLMPolicy
                      ) -> ModelAnswerer | None:
    """Who answers strategies in a cycle whose roles think with ``llm`` (None when
    offline: every question is refused)."""
    if llm is None or llm.cache is None:
        return None
    if policy.live and not llm.replay:
        return LiveAnswerer(llm)
    return ReplayAnswerer(ModelSetting.of(llm), llm.cache.folder)
