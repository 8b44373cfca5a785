"""``alphaloop cycle --llm ...``: a mistake in the model options stops the command before
any stage runs, with one message naming the fix; a budget too small for the first call
stops the cycle cleanly, its finished stages kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from support import fake_openai
from support.cycle_repos import OPTIONS, git, make_repo
from support.fake_llm_server import Step
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle.ledger import Ledger, RunStore
from alphaloop.forge import LocalForge
from alphaloop.repo import GitRepo

FLAGS = ["--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
         "--holdout-days", str(OPTIONS.holdout_days), "--folds", str(OPTIONS.n_folds),
         "--warmup-days", str(OPTIONS.warmup_days)]


def _cycle(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["cycle", "--repo", str(repo), *FLAGS, *args])


def _text(result: Result) -> str:
    assert "Traceback" not in result.output
    return " ".join(result.output.replace("│", " ").split())


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return make_repo(tmp_path / "project")


@pytest.mark.parametrize(("args", "phrases"), [
    (["--llm", "openai"], ["needs an API key in the environment variable OPENAI_API_KEY"]),
    (["--llm", "anthropic"], ["ANTHROPIC_API_KEY"]),
    (["--model", "gpt-4o"], ["--llm offline uses no model"]),
    (["--llm", "openai", "--llm-price-in", "1"], ["give both --llm-price-in and "
                                                  "--llm-price-out"]),
    (["--llm", "anthropic", "--llm-replay", "--model", "claude-unknown"],
     ["no price for anthropic model 'claude-unknown'", "--llm-price-in"]),
])
def test_model_option_mistakes_stop_before_any_stage(project: Path, args: list[str],
                                                     phrases: list[str]) -> None:
    refs = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    result = _cycle(project, *args)
    assert result.exit_code == 2, result.output
    text = _text(result)
    for phrase in phrases:
        assert phrase in text, text
    assert git(project, "for-each-ref", "--format=%(refname) %(objectname)") == refs
    assert not (project / ".git" / "alphaloop" / "runs").exists()


ANSWERS = {"ProposedChange": {"statement": "Hold more cash", "rationale": "drawdown",
                              "expected_effect": "a smaller drawdown",
                              "edits": [{"name": "CASH_BUFFER", "new": 0.12}]},
           "RiskOpinion": {"findings": []},
           "Narrative": {"summary": "Tried more cash.", "needs_human": []}}


def test_a_spent_budget_stops_the_cycle_cleanly(project: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    main = git(project, "rev-parse", "main")
    with fake_openai.fake_openai() as server:
        result = _cycle(project, "--llm", "openai", "--llm-base-url",
                        server.base_url + "/v1", "--max-cost-usd", "0")
        assert result.exit_code == 1, result.output
        text = _text(result)
        assert "stopped in hypothesis" in text and "budget of this cycle is spent" in text
        assert "--abandon" in text and "--resume --max-cost-usd MORE" in text
        assert server.requests == []  # no call was made past the budget
        assert git(project, "rev-parse", "main") == main
        assert (project / ".git" / "alphaloop" / "runs").exists()  # plan and review kept
        server.default = lambda body: ANSWERS[fake_openai.requested_schema(body)[0]]
        resumed = _cycle(project, "--llm", "openai", "--llm-base-url",
                         server.base_url + "/v1", "--max-cost-usd", "1", "--resume")
    assert resumed.exit_code == 0, resumed.output
    [entry] = Ledger(project).entries()
    assert entry.records["llm"]["max_cost_usd"] == 1.0
    assert entry.records["llm"]["total"]["calls"] == len(server.requests) == 3


def test_a_refusal_stops_the_stage_with_a_record_and_resume_asks_again(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that refuses stops the cycle in its stage (exit 1, the failure recorded,
    main untouched); the refusal is not replayed from the cache: --resume asks again."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    main = git(project, "rev-parse", "main")
    with fake_openai.fake_openai() as server:
        server.queue(Step("refuse", text="I cannot help with trading strategies."))
        flags = ["--llm", "openai", "--llm-base-url", server.base_url + "/v1"]
        result = _cycle(project, *flags)
        assert result.exit_code == 1, result.output
        text = _text(result)
        assert "stopped in hypothesis" in text and "refused" in text
        assert "I cannot help with trading strategies." in text
        failure = RunStore(project / ".git", "c0001").load("failure")
        assert failure is not None
        assert failure["stage"] == "hypothesis" and failure["error"] == "InvalidAnswer"
        assert git(project, "rev-parse", "main") == main
        server.default = lambda body: ANSWERS[fake_openai.requested_schema(body)[0]]
        resumed = _cycle(project, *flags, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "Hold more cash" in _text(resumed)
    assert not (project / ".git" / "alphaloop" / "runs" / "c0001").exists()  # finished


def test_a_review_of_a_persons_branch_with_a_model(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``alphaloop review BRANCH --llm openai``: the Engineer adds the model's comments as
    notes; its decision is its checks' own."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    repo = make_repo(tmp_path / "project", reviewers=("engineer",))
    git(repo, "checkout", "-q", "-b", "shorter-lookback")
    engine = repo / "strategy" / "engine.py"
    engine.write_text(engine.read_text() + "\n\nSCALE = 1.0  # a named constant\n")
    git(repo, "commit", "-qam", "A named constant")
    git(repo, "checkout", "-q", "main")
    with fake_openai.fake_openai(default=lambda body: {"comments": [
            {"comment": "Say what SCALE scales", "path": "strategy/engine.py"}]}) as server:
        result = CliRunner().invoke(app, [
            "review", "shorter-lookback", "--repo", str(repo), *FLAGS, "--llm", "openai",
            "--llm-base-url", server.base_url + "/v1"])
    assert result.exit_code == 0, result.output
    assert "engineer" in result.output and "approve" in result.output
    assert len(server.requests) == 1
    [pr] = LocalForge(GitRepo.open(repo)).list_prs()
    [review] = LocalForge(GitRepo.open(repo)).reviews(pr.number)
    assert "Say what SCALE scales" in review.summary
    assert any(f.get("rule") == "model-comment" for f in review.findings)
