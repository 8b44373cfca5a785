"""A sandboxed strategy's questions to a model, and who answers them in the parent.

The sandbox has no network, so a strategy that wants a model (``wants_llm``, see
:class:`~alphaloop.contract.ModelUnavailable`) is handed a client whose
``complete(system, user)`` sends the parent a question frame and waits for the answer.
The parent (:class:`~alphaloop.sandbox.SandboxedStrategy`) hands each question, cleaned
by :mod:`~alphaloop.sandbox.redact`, to its :class:`ModelAnswerer` and sends back the
answer, redacted too, or the refusal, which the client raises as ``ModelUnavailable``
("no model answers inside the sandbox: <reason>"): the strategy decides without the
model and its record says why.

:class:`ModelLimits` bounds the questions of one backtest (their number per decision
and in all, the size of each and their total size); a strategy past a bound fails with
a :class:`~alphaloop.sandbox.StrategyFailed` naming it, so it cannot use the parent as
an oracle or push data out through its prompts. :class:`NoModel`, the default, refuses
every question; the cycle's answerers live with the evaluation service
(:mod:`alphaloop.evaluation.model_answers`), which knows the models.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ModelAnswer", "ModelAnswerer", "ModelLimits", "ModelQuestion", "ModelUsage",
           "NoModel"]


class ModelQuestion(BaseModel):
    """What the strategy asks: a system prompt and a user message (the expert's
    ``complete(system, user)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str
    user: str


class ModelAnswer(BaseModel):
    """The answer's text, or the reason there is none.

    ``settled`` is False for a refusal another run may not repeat (no recorded answer
    yet, a provider that failed this time): a backtest that met one is not cached.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = None
    refusal: str | None = None
    settled: bool = True

    @model_validator(mode="after")
    def _one(self) -> ModelAnswer:
        if (self.text is None) == (self.refusal is None):
            raise ValueError("an answer holds either text or a refusal")
        return self

    @classmethod
    def refuse(cls, reason: str, *, settled: bool = True) -> ModelAnswer:
        return cls(refusal=reason, settled=settled)


class ModelAnswerer(Protocol):
    """Answers a sandboxed strategy's questions in the trusted parent.

    ``mode`` names what answers (``replay openai gpt-4o-mini ...``): backtests run
    under different modes are different results, and the evaluation cache keys them
    apart. ``answer`` returns a :class:`ModelAnswer`; it raises only for what must stop
    the run (the cycle's model budget spent), never for a missing answer.
    """

    @property
    def mode(self) -> str:
        ...

    def answer(self, question: ModelQuestion) -> ModelAnswer:
        ...


class NoModel:
    """No model in this run: every question is refused, the same way each time."""

    mode = "none"

    def answer(self, question: ModelQuestion) -> ModelAnswer:
        return ModelAnswer.refuse("this run has no model (alphaloop runs offline unless "
                                  "--llm names a provider)")


class ModelLimits(BaseModel):
    """Bounds on one backtest's questions; past one the strategy fails, naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_per_decision: int = Field(default=64, ge=0, description=(
        "questions in one call of the strategy (a decision, or building it); FinSage "
        "asks at most 27 (nine askers, each retried twice)"))
    max_questions: int = Field(default=20_000, ge=0, description="questions per backtest")
    max_question_chars: int = Field(default=100_000, ge=1,
                                    description="characters of one question's two texts")
    max_total_chars: int = Field(default=50_000_000, ge=1,
                                 description="characters of all questions of a backtest")
    max_answer_chars: int = Field(default=100_000, ge=1,
                                  description="an answer's text is cut to this length")

    def broken(self, usage: ModelUsage, *, asked: int, size: int) -> str | None:
        """The bound the latest question (``size`` characters, the ``asked``-th of this
        call, counted in ``usage``) broke, in words; None within every bound."""
        if size > self.max_question_chars:
            return f"a question of {size} characters, above {self.max_question_chars}"
        if asked > self.max_per_decision:
            return f"more than {self.max_per_decision} questions in one decision"
        if usage.questions > self.max_questions:
            return f"more than {self.max_questions} questions in one backtest"
        if usage.chars > self.max_total_chars:
            return f"more than {self.max_total_chars} characters of questions in one backtest"
        return None


class ModelUsage(BaseModel):
    """What one backtest asked, and how it was answered."""

    model_config = ConfigDict(extra="forbid")

    questions: int = 0
    answered: int = 0
    refused: int = 0
    unsettled: int = 0
    """refusals another run may not repeat (see :class:`ModelAnswer`)"""
    chars: int = 0
