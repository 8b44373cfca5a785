"""A whole ``alphaloop cycle`` with a model: against each fake provider through its real
client, then replayed from the recorded answers with no server at all.

The cycle's decisions stay the deterministic ones (the same outcome and Risk verdict as
offline); what the model adds is recorded beside them: the PM's narrative and the
cycle's model usage in ``walkthrough.md`` and the ledger, Risk's second opinion among its
findings.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from support import fake_anthropic, fake_openai
from support.cycle_repos import OPTIONS, fixed_hypothesis, make_repo
from support.fake_llm_server import ScriptedServer, Step
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle import CycleOptions
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.llm import LLMConfig
from alphaloop.records import Outcome

ANSWERS: dict[str, dict[str, Any]] = {
    "Narrative": {"summary": "The Quant tried a larger cash buffer; Risk judged it.",
                  "needs_human": []},
    "RiskOpinion": {"findings": [{"severity": 1, "message": "watch the cash drag"}]},
    "CodeComments": {"comments": []},
}
SERVERS = {"openai": fake_openai, "anthropic": fake_anthropic}


def answer_by_schema(module: Any) -> Any:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        name, _schema = module.requested_schema(body)
        return ANSWERS[name]
    return answer


def _options(provider: str, server: ScriptedServer | None, **llm: Any) -> CycleOptions:
    base_url = None if server is None else server.base_url + (
        "/v1" if provider == "openai" else "")
    return OPTIONS.model_copy(update={"llm": LLMConfig(
        provider=provider, base_url=base_url, retry_wait_seconds=0.0, **llm)})


def _decisions(repo: Path) -> dict[str, Any]:
    """What a cycle decided and what its model calls were, without times and commit ids."""
    [entry] = [e.model_dump(mode="json") for e in Ledger(repo).entries()]
    records = entry["records"]
    risk = records["risk_review"]
    return {"outcome": records["summary"]["outcome"],
            "hypothesis": records["hypothesis"]["statement"],
            "risk": (risk["verdict"], risk["severity"],
                     sorted((f["check"], f["severity"], f["message"])
                            for f in risk["findings"])),
            "llm": records.get("llm")}


CHANGE = fixed_hypothesis("CASH_BUFFER", 0.10, 0.12)


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same cycle offline, with the bot key of the tests' session (as conftest sets
    it for each test; Risk's look-ahead test is seeded with it)."""
    repo = make_repo(tmp_path_factory.mktemp("offline") / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
        patch.delenv("ALPHALOOP_REVIEW_KEY", raising=False)
        run_cycles(repo, OPTIONS, hypothesis_source=CHANGE)
    return _decisions(repo)


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_cycle_with_a_model_then_its_exact_replay(
        provider: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        offline: dict[str, Any]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    first = make_repo(tmp_path / "first")
    module = SERVERS[provider]
    with module.__dict__[f"fake_{provider}"](default=answer_by_schema(module)) as server:
        server.queue(Step("status", status=429, retry_after=0), Step("status", status=500))
        [summary] = run_cycles(first, _options(provider, server), hypothesis_source=CHANGE)
        asked = len(server.requests)
    decided = _decisions(first)
    # the same gates and outcome as offline; the model only added its note
    assert summary.outcome == Outcome(offline["outcome"])
    assert decided["risk"][:2] == offline["risk"][:2]
    model_notes = set(decided["risk"][2]) - set(offline["risk"][2])
    assert {(c, s) for c, s, _ in model_notes} == {("risk.model", 1)}
    usage = decided["llm"]
    assert set(usage["by_role"]) == {"risk", "pm"}
    assert usage["total"]["calls"] == 2 == asked - 2  # the 429 and the 500 were retried
    assert usage["total"]["cost_usd"] > 0
    walkthrough = (first / "walkthrough.md").read_text()
    assert ANSWERS["Narrative"]["summary"] in walkthrough
    assert "## Model usage" in walkthrough and "| risk | 1 |" in walkthrough
    # a fresh copy of the project replays the cycle from the recorded answers alone
    second = make_repo(tmp_path / "second")
    shutil.copytree(first / ".git" / "alphaloop" / "llm-cache",
                    second / ".git" / "alphaloop" / "llm-cache")
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    run_cycles(second, _options(provider, None, replay=True), hypothesis_source=CHANGE)
    assert _decisions(second) == decided
    assert (second / "walkthrough.md").read_text().split("## In short")[1].split("##")[0] \
        == walkthrough.split("## In short")[1].split("##")[0]


ANCHOR = "* (1.0 - tunables.CASH_BUFFER)"


@pytest.mark.slow
def test_the_quants_model_writes_a_change_that_merges(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The model proposes a code change (a quarter more cash, a real improvement of the
    fixture's reward); it is checked, applied with git, reviewed by Risk and merged."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    repo = make_repo(tmp_path / "project")
    proposal = {"statement": "Hold a quarter more cash",
                "rationale": "the drawdown dominates the reward's penalty",
                "expected_effect": "a smaller drawdown at the same Sharpe",
                "code": [{"path": "strategy/engine.py", "search": ANCHOR,
                          "replace": ANCHOR + " * 0.75"}]}
    answers = {**ANSWERS, "ProposedChange": proposal,
               "RiskOpinion": {"findings": []}}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        return answers[fake_openai.requested_schema(body)[0]]

    with fake_openai.fake_openai(default=answer) as server:
        [summary] = run_cycles(repo, _options("openai", server))
    assert summary.outcome == Outcome.MERGED, summary.message
    assert ANCHOR + " * 0.75" in (repo / "strategy" / "engine.py").read_text()
    [entry] = [e.model_dump(mode="json") for e in Ledger(repo).entries()]
    hypothesis = entry["records"]["hypothesis"]
    assert hypothesis["kind"] == "patch" and hypothesis["search"]["source"] == "model"
    assert set(entry["records"]["llm"]["by_role"]) == {"quant", "risk", "pm"}
    shown = CliRunner().invoke(app, ["ledger", "show", "c0001", "--repo", str(repo)])
    assert shown.exit_code == 0, shown.output
    assert "Model: openai gpt-4o-mini: 3 calls (pm 1, quant 1, risk 1)" in shown.output
