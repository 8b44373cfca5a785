"""Structured output, retries, repairs, costs, the budget and the cache, for both
providers, through their real SDK clients and fake servers on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field
from support.fake_llm_server import Step, answer
from support.llm_providers import Provider

from alphaloop.llm import (
    BudgetExceeded,
    InvalidAnswer,
    LLMCallFailed,
    LLMConfig,
    LLMConfigError,
    LLMError,
    Message,
    ReplayMiss,
    UsageMeter,
    load_price,
    open_llm,
)


class Verdict(BaseModel):
    """A small answer type."""

    approve: bool
    reasons: list[str] = Field(min_length=1)


ASK = [Message(role="system", content="You review changes."),
       Message(role="user", content="Review this change.")]
GOOD = {"approve": True, "reasons": ["small and tested"]}


def test_the_answer_is_asked_for_as_a_schema_and_validated(provider: Provider) -> None:
    provider.server.queue(answer(GOOD))
    verdict, usage = provider.open().complete(ASK, schema=Verdict, role="risk")
    assert verdict == Verdict(**GOOD)
    body = provider.server.requests[0]
    if provider.name == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "Verdict"
        schema = body["response_format"]["json_schema"]["schema"]
        assert body["messages"][0] == {"role": "system", "content": "You review changes."}
    else:
        assert body["tool_choice"] == {"type": "tool", "name": "Verdict"}
        schema = body["tools"][0]["input_schema"]
        assert body["system"] == "You review changes."
        assert body["messages"] == [{"role": "user", "content": "Review this change."}]
    assert schema == Verdict.model_json_schema()
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    price = load_price(provider.name, usage.model)
    assert usage.cost_usd == pytest.approx(price.cost(usage.input_tokens,
                                                      usage.output_tokens))
    assert usage.cost_usd > 0


def test_a_missing_key_is_named(provider: Provider) -> None:
    variable = "OPENAI_API_KEY" if provider.name == "openai" else "ANTHROPIC_API_KEY"
    with pytest.raises(LLMConfigError, match=variable):
        open_llm(provider.config(), provider.cache, environ={})


def test_offline_opens_no_model() -> None:
    assert open_llm(LLMConfig(), None, environ={}) is None
    with pytest.raises(ValueError, match="offline uses no model"):
        LLMConfig(provider="offline", model="gpt-4o")


def test_an_unpriced_model_is_refused_before_any_call(provider: Provider) -> None:
    with pytest.raises(LLMConfigError, match=r"no price for .* 'no-such-model'"):
        provider.open(model="no-such-model")
    llm = provider.open(model="no-such-model", price_in=1.0, price_out=2.0)
    assert llm.price.cost(1_000_000, 1_000_000) == 3.0
    assert provider.server.requests == []


def test_a_rate_limit_is_retried_after_the_servers_hint(provider: Provider) -> None:
    provider.server.queue(Step("status", status=429, retry_after=7), answer(GOOD))
    verdict, _ = provider.open().complete(ASK, schema=Verdict)
    assert verdict.approve
    assert len(provider.server.requests) == 2
    assert provider.waits == [7.0]
    assert all(h["x-stainless-retry-count"] == "0" for h in provider.server.headers)


def test_server_errors_are_retried_a_bounded_number_of_times(provider: Provider) -> None:
    provider.server.queue(*[Step("status", status=500)] * 3)
    llm = provider.open(max_attempts=3)
    with pytest.raises(LLMCallFailed, match=r"HTTP 500.*after 3 attempts"):
        llm.complete(ASK, schema=Verdict)
    assert len(provider.server.requests) == 3
    assert llm.meter.calls == []


def test_a_client_error_is_not_retried(provider: Provider) -> None:
    provider.server.queue(Step("status", status=400, text="unknown parameter"))
    with pytest.raises(LLMCallFailed, match="refused the request: HTTP 400"):
        provider.open().complete(ASK, schema=Verdict)
    assert len(provider.server.requests) == 1


def test_a_timeout_is_retried(provider: Provider) -> None:
    provider.server.queue(Step("hang", seconds=1.5, answer=GOOD), answer(GOOD))
    verdict, _ = provider.open(timeout_seconds=0.3).complete(ASK, schema=Verdict)
    assert verdict.approve
    assert len(provider.server.requests) == 2


def test_a_body_that_is_not_json_is_retried(provider: Provider) -> None:
    provider.server.queue(Step("malformed"), answer(GOOD))
    verdict, _ = provider.open().complete(ASK, schema=Verdict)
    assert verdict.approve
    assert len(provider.server.requests) == 2


def test_an_invalid_answer_is_sent_back_with_its_error(provider: Provider) -> None:
    provider.server.queue(answer({"approve": "perhaps", "reasons": []}), answer(GOOD))
    llm = provider.open()
    verdict, usage = llm.complete(ASK, schema=Verdict, role="qa")
    assert verdict.approve
    repair = provider.server.requests[1]["messages"]
    assert repair[-2]["role"] == "assistant"
    assert "perhaps" in repair[-2]["content"]
    assert repair[-1]["role"] == "user"
    assert "approve" in repair[-1]["content"] and "reasons" in repair[-1]["content"]
    assert [c.outcome for c in llm.meter.calls] == ["repair", "answered"]
    assert usage.input_tokens == sum(c.input_tokens for c in llm.meter.calls)


def test_repairs_are_bounded(provider: Provider) -> None:
    provider.server.queue(*[Step("text", text="not json at all")] * 3)
    llm = provider.open(max_repairs=2)
    with pytest.raises(InvalidAnswer, match="no valid Verdict in 3 answers") as raised:
        llm.complete(ASK, schema=Verdict)
    assert len(raised.value.attempts) == 3
    assert len(provider.server.requests) == 3


def test_a_refusal_fails_the_call_with_its_reason(provider: Provider) -> None:
    provider.server.queue(Step("refuse", text="I will not review trading code."))
    with pytest.raises(InvalidAnswer, match=r"refused.*I will not review"):
        provider.open().complete(ASK, schema=Verdict)
    assert len(provider.server.requests) == 1


def test_an_answer_cut_at_the_token_limit_fails_the_call(provider: Provider) -> None:
    provider.server.queue(Step("truncate", answer=GOOD))
    with pytest.raises(InvalidAnswer, match="token limit"):
        provider.open().complete(ASK, schema=Verdict)
    assert len(provider.server.requests) == 1


def test_costs_add_up_per_role_and_per_cycle(provider: Provider) -> None:
    provider.server.queue(answer(GOOD), answer(GOOD), answer(GOOD))
    llm = provider.open()
    llm.for_role("risk").complete(ASK, schema=Verdict)
    llm.for_role("pm").complete([*ASK[:1], Message(role="user", content="Report.")],
                                schema=Verdict)
    llm.for_role("pm").complete([*ASK[:1], Message(role="user", content="Again.")],
                                schema=Verdict)
    summary = llm.meter.summary()
    assert summary.by_role["pm"].calls == 2 and summary.by_role["risk"].calls == 1
    assert summary.total.cost_usd == pytest.approx(
        summary.by_role["pm"].cost_usd + summary.by_role["risk"].cost_usd)
    assert summary.total.input_tokens == sum(c.input_tokens for c in summary.calls)


def test_the_budget_stops_calls_once_spent(provider: Provider) -> None:
    provider.server.queue(answer(GOOD), answer(GOOD))
    llm = provider.open(max_cost_usd=1e-9)
    llm.complete(ASK, schema=Verdict)
    with pytest.raises(BudgetExceeded, match="budget of this cycle is spent"):
        llm.complete([*ASK[:1], Message(role="user", content="Another.")], schema=Verdict)
    assert len(provider.server.requests) == 1


def test_a_recorded_answer_is_replayed_without_the_network(provider: Provider) -> None:
    provider.server.queue(answer(GOOD))
    first, usage = provider.open().complete(ASK, schema=Verdict)
    replayed = provider.open(replay=True)
    again, usage_again = replayed.complete(ASK, schema=Verdict)
    assert again == first and usage_again == usage
    assert len(provider.server.requests) == 1
    with pytest.raises(ReplayMiss, match="no recorded answer"):
        replayed.complete([*ASK[:1], Message(role="user", content="New question.")],
                          schema=Verdict)
    assert len(provider.server.requests) == 1


def test_replay_needs_no_key(provider: Provider) -> None:
    provider.server.queue(answer(GOOD))
    provider.open().complete(ASK, schema=Verdict)
    replayed = open_llm(provider.config(replay=True), provider.cache, environ={})
    assert replayed is not None
    assert replayed.complete(ASK, schema=Verdict)[0].approve


def test_a_call_that_failed_is_asked_again_not_replayed(provider: Provider) -> None:
    provider.server.queue(Step("refuse"), answer(GOOD))
    llm = provider.open()
    with pytest.raises(InvalidAnswer):
        llm.complete(ASK, schema=Verdict)
    assert llm.complete(ASK, schema=Verdict)[0].approve
    assert len(provider.server.requests) == 2


def test_a_journaled_meter_counts_the_calls_of_an_earlier_run(provider: Provider,
                                                              tmp_path: Path) -> None:
    journal = tmp_path / "run" / "llm-calls.jsonl"
    journal.parent.mkdir()
    provider.server.queue(answer(GOOD))
    first = provider.open(journal=journal)
    first.complete(ASK, schema=Verdict, role="risk")
    again = UsageMeter(first.meter.provider, first.meter.model, 1e-9, journal=journal)
    assert again.calls == first.meter.calls and again.spent > 0
    with pytest.raises(BudgetExceeded):
        again.check()
    journal.write_text(journal.read_text() + "not json\n")
    with pytest.raises(LLMError, match="line 2 is not a model call record"):
        UsageMeter("openai", "m", journal=journal)
