"""The LLM seam of the experts: a one-method protocol and the parsing of its answers.

The engine never builds an LLM client and never reads credentials: a client object with
``complete(system, user) -> str`` is handed in from outside. In the sandbox (no
network) the harness hands one in when the configuration asks for it (``llm.enabled``):
it answers from the cycle's recorded answers, and raises
:class:`~alphaloop.contract.ModelUnavailable` when it has none, so the expert falls back
to its factor view and its report says why. The answer must be the JSON object the
system prompt describes; it is validated with pydantic, and when it is not valid the
expert asks again, telling the model what was wrong, at most ``max_retries`` times.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alphaloop.contract import ModelUnavailable
from strategy.experts.actions import Action
from strategy.experts.prompts import RETRY_TEMPLATE
from strategy.experts.records import OverallView

__all__ = [
    "LLMAnswerError",
    "LLMClient",
    "LLMExpertAnswer",
    "LLMRecommendation",
    "ask_expert",
    "json_text",
    "parse_answer",
]

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


@runtime_checkable
class LLMClient(Protocol):
    """Anything that answers a system and a user message with text (JSON here)."""

    def complete(self, system: str, user: str) -> str:
        ...


class LLMAnswerError(ValueError):
    """The LLM's answer was not the JSON the prompt asks for, after every retry."""

    def __init__(self, message: str, *, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(message)


class LLMRecommendation(BaseModel):
    """One recommendation as the LLM writes it (unknown extra keys are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    symbol: str = Field(min_length=1)
    action: Action
    confidence: float = Field(ge=0, le=1)
    target_weight: float | None = Field(default=None, ge=0, le=1)
    reasoning: str = ""
    risk_level: Literal["low", "medium", "high"] | None = None

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: Any) -> Any:
        return Action.parse(value) if isinstance(value, str) else value

    @field_validator("risk_level", mode="before")
    @classmethod
    def _risk(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class LLMExpertAnswer(BaseModel):
    """The whole JSON answer of spec 3.2.3."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    overall_view: OverallView
    recommendations: list[LLMRecommendation]
    key_factors: list[str] = Field(default_factory=list)
    market_analysis: str = ""

    @field_validator("overall_view", mode="before")
    @classmethod
    def _view(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


def json_text(text: str) -> str:
    """The JSON object inside ``text``: a fenced block if any, else first ``{`` to last ``}``."""
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer holds no JSON object")
    return text[start:end + 1]


def parse_answer(text: str) -> LLMExpertAnswer:
    """Validate an LLM answer; raises ``ValueError`` (or pydantic's subclass) if invalid."""
    return LLMExpertAnswer.model_validate_json(json_text(text))


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
            for e in error.errors()[:5])
    return str(error)


def ask_expert(llm: LLMClient, system: str, user: str, *, max_retries: int
               ) -> tuple[LLMExpertAnswer, int]:
    """Ask until the answer validates; return it and the number of requests made.

    Raises :class:`LLMAnswerError` after ``1 + max_retries`` invalid answers, or as soon
    as the client raises :class:`~alphaloop.contract.ModelUnavailable` (no model
    answers; its message is the reason). Other errors the client raises (network,
    quota) propagate unchanged.
    """
    prompt = user
    attempts = 0
    while True:
        attempts += 1
        try:
            text = llm.complete(system, prompt)
        except ModelUnavailable as exc:
            raise LLMAnswerError(str(exc), attempts=attempts) from exc
        try:
            return parse_answer(text), attempts
        except ValueError as error:
            problem = _describe(error)
            if attempts > max_retries:
                raise LLMAnswerError(
                    f"the LLM gave no valid JSON answer in {attempts} attempts; last "
                    f"problem: {problem}", attempts=attempts) from error
            prompt = user + RETRY_TEMPLATE.format(error=problem)
