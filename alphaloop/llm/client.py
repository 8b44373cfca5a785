"""The structured-output client every provider shares: cache, retries, repairs, costs.

One :meth:`StructuredLLM.complete` call:

1. builds the :class:`~alphaloop.llm.wire.ChatRequest` (system prompt, messages, the
   answer's JSON schema) and looks it up in the cache; in replay mode a request that
   is not there fails with :class:`~alphaloop.llm.base.ReplayMiss`;
2. otherwise sends it (when budget is left), retrying with exponential backoff (or the
   server's ``retry-after``) on 429, 5xx, timeouts and dropped connections, at most
   ``max_attempts`` times; any other 4xx fails at once;
3. validates the answer against the pydantic type; an answer that does not validate is
   sent back with the validation error, at most ``max_repairs`` times, before the call
   fails with :class:`~alphaloop.llm.base.InvalidAnswer` naming each attempt's problem.
   A refusal or an answer cut at the token limit fails at once (asking again would cut
   it again). The recorded answers of a call that failed in the end are forgotten, so
   a resumed cycle asks again instead of failing again from the cache.

Every reply, cached or not, is recorded in the :class:`~alphaloop.llm.meter.UsageMeter`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from alphaloop.llm.base import InvalidAnswer, LLMCallFailed, Message, ReplayMiss, Usage
from alphaloop.llm.cache import ResponseCache
from alphaloop.llm.meter import CallRecord, UsageMeter
from alphaloop.llm.prices import Price
from alphaloop.llm.wire import ChatRequest, Reply, Transient, Transport

__all__ = ["RetryPolicy", "RoleLLM", "StructuredLLM"]

T = TypeVar("T", bound=BaseModel)

_REPAIR = ("Your answer does not fit the required schema {schema}:\n{error}\n"
           "Answer again with the complete corrected object only.")


class RetryPolicy(BaseModel):
    """How often and how long to retry a transient failure."""

    max_attempts: int = 4
    initial_wait: float = 1.0
    max_wait: float = 30.0


class StructuredLLM:
    """A model behind a :class:`Transport`, answering in pydantic types."""

    def __init__(self, transport: Transport, *, model: str, price: Price,
                 meter: UsageMeter, cache: ResponseCache | None = None,
                 replay: bool = False, max_repairs: int = 2, max_tokens: int = 4096,
                 temperature: float = 0.0, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        if replay and cache is None:
            raise ValueError("replay needs a cache")
        self.transport = transport
        self.name = transport.name
        self.model = model
        self.price = price
        self.meter = meter
        self.cache = cache
        self.replay = replay
        self.max_repairs = max_repairs
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retry = retry or RetryPolicy()
        self._sleep = sleep

    def for_role(self, role: str) -> RoleLLM:
        """This model, with every call accounted to ``role``."""
        return RoleLLM(self, role)

    def complete(self, messages: Sequence[Message], *, schema: type[T],
                 role: str = "") -> tuple[T, Usage]:
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        turns = [m for m in messages if m.role != "system"]
        if not turns:
            raise ValueError("a call needs at least one user message")
        first = len(self.meter.calls)
        try:
            return self._converse(system, turns, schema, role)
        except InvalidAnswer:
            if self.cache is not None and not self.replay:
                self.cache.forget([c.key for c in self.meter.calls[first:]])
            raise

    def _converse(self, system: str, turns: list[Message], schema: type[T],
                  role: str) -> tuple[T, Usage]:
        name = schema.__name__
        json_schema = schema.model_json_schema()
        problems: list[str] = []
        first = len(self.meter.calls)
        for _attempt in range(self.max_repairs + 1):
            request = ChatRequest(provider=self.name, model=self.model, system=system,
                                  messages=tuple(turns), schema_name=name,
                                  json_schema=json_schema, max_tokens=self.max_tokens,
                                  temperature=self.temperature)
            reply = self._reply(request)
            cost = self.price.cost(reply.input_tokens, reply.output_tokens)

            def record(outcome: str, request: ChatRequest = request, reply: Reply = reply,
                       cost: float = cost) -> None:
                self.meter.add(CallRecord(
                    role=role, schema_name=name, provider=self.name, model=self.model,
                    key=request.key(), input_tokens=reply.input_tokens,
                    output_tokens=reply.output_tokens, cost_usd=cost, outcome=outcome))

            if reply.stop == "refusal":
                record("refused")
                raise InvalidAnswer(f"{self.name} model {self.model} refused to answer "
                                    f"{name}: {reply.refusal or 'no reason given'}",
                                    [*problems, f"refused: {reply.refusal}"])
            if reply.stop == "length":
                record("truncated")
                raise InvalidAnswer(f"{self.name} model {self.model} stopped at the token "
                                    f"limit ({self.max_tokens}) before finishing {name}; "
                                    "raise --llm-max-tokens or shorten the prompt",
                                    [*problems, "truncated at the token limit"])
            try:
                answer = schema.model_validate_json(reply.text or "")
            except ValidationError as exc:
                record("repair")
                error = _describe(exc)
                problems.append(error)
                turns += [Message(role="assistant", content=reply.text or ""),
                          Message(role="user", content=_REPAIR.format(schema=name,
                                                                      error=error))]
                continue
            record("answered")
            calls = self.meter.calls[first:]
            return answer, Usage(provider=self.name, model=self.model,
                                 input_tokens=sum(c.input_tokens for c in calls),
                                 output_tokens=sum(c.output_tokens for c in calls),
                                 cost_usd=sum(c.cost_usd for c in calls))
        raise InvalidAnswer(
            f"{self.name} model {self.model} gave no valid {name} in "
            f"{self.max_repairs + 1} answers; the last problem: {problems[-1]}", problems)

    def _reply(self, request: ChatRequest) -> Reply:
        self.meter.check()  # before the cache too: a replay stops where the original did
        if self.cache is not None:
            cached = self.cache.get(request)
            if cached is not None:
                return cached
        if self.replay:
            raise ReplayMiss(f"replay: no recorded answer for this {request.schema_name} "
                             f"request (key {request.key()[:16]}); run without "
                             "--llm-replay to ask the model and record it")
        reply = self._send(request)
        if self.cache is not None:
            self.cache.put(request, reply)
        return reply

    def _send(self, request: ChatRequest) -> Reply:
        policy = self.retry
        backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            hint = getattr(error, "retry_after", None)
            return min(hint, policy.max_wait) if hint is not None else backoff(state)

        retrying = Retrying(retry=retry_if_exception_type(Transient),
                            stop=stop_after_attempt(policy.max_attempts), wait=wait,
                            reraise=True, **({"sleep": self._sleep} if self._sleep else {}))
        try:
            return retrying(self.transport.send, request)
        except Transient as exc:
            raise LLMCallFailed(f"{exc}, still after {policy.max_attempts} attempts; try "
                                "again later or check the provider's status") from None


class RoleLLM:
    """A :class:`StructuredLLM` whose calls are accounted to one role."""

    def __init__(self, llm: StructuredLLM, role: str) -> None:
        self.llm = llm
        self.role = role
        self.name = llm.name

    def complete(self, messages: Sequence[Message], *, schema: type[T],
                 role: str = "") -> tuple[T, Usage]:
        return self.llm.complete(messages, schema=schema, role=role or self.role)


def _describe(error: ValidationError) -> str:
    """The validation errors, one per line, as ``field: problem``."""
    lines = []
    for item in error.errors(include_url=False)[:10]:
        where = ".".join(str(p) for p in item["loc"]) or "(the whole answer)"
        lines.append(f"- {where}: {item['msg']}")
    return "\n".join(lines)
