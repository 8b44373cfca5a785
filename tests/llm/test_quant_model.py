"""The Quant's hypothesis from a model: checked edits, refusals sent back with why."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest
from support.cycle_repos import PROJECT, make_repo
from support.fake_llm_server import answer
from support.llm_providers import Provider

from alphaloop.evaluation.space import ParamSpace, ParamSpec
from alphaloop.llm import InvalidAnswer
from alphaloop.policy import load_policies
from alphaloop.records import PerformanceReview, RunMetrics, TaskRef
from alphaloop.roles import CharterModel, load_charters
from alphaloop.roles.quant.proposal import propose

ENGINE = "strategy/engine.py"
ANCHOR = "* (1.0 - tunables.CASH_BUFFER)"
SPACE = ParamSpace(specs={"CASH_BUFFER": ParamSpec(name="CASH_BUFFER", kind="float", low=0.0,
                                                   high=0.5, description="cash share")},
                   values={"CASH_BUFFER": 0.10})
WHY = {"statement": "Hold more cash", "rationale": "drawdowns are deep",
       "expected_effect": "smaller drawdown, same Sharpe"}


def _review() -> PerformanceReview:
    metrics = RunMetrics(label="in_sample", start=date(2005, 1, 3), end=date(2022, 5, 23),
                         sharpe=0.9, annual_return=0.08, annual_volatility=0.1,
                         max_drawdown=0.2, calmar=0.4, var_95=0.01, turnover=3.0,
                         reward=-0.1, n_days=4000)
    return PerformanceReview(sha="a" * 40, tree_hash="b" * 40, data_hash="d", metrics=metrics,
                             folds=[], reward=-0.1, attribution={}, diagnosis=["deep drawdown"],
                             cached=True, duration_s=0.1)


def _propose(provider: Provider, repo: Path, *, tried: set[str] | None = None,
             attempts: int = 3):
    sources = {p.relative_to(repo).as_posix(): p.read_text()
               for p in (repo / "strategy").rglob("*.py")}
    return propose(CharterModel(load_charters(PROJECT), provider.open()),
                   policies=load_policies(repo), space=SPACE, review=_review(),
                   task=TaskRef(id="T-001", title="Cut drawdown", priority="high"),
                   trials=[], tried=tried or set(), lam=0.5, sources=sources,
                   base_root=repo, attempts=attempts)


def _feedback(provider: Provider, index: int) -> str:
    body = provider.server.requests[index]
    return str(body["messages"][-1]["content"])


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


def test_parameter_edits_are_checked_and_refusals_sent_back(provider: Provider,
                                                             repo: Path) -> None:
    provider.server.queue(answer({**WHY, "edits": [{"name": "CASH", "new": 0.2}]}),
                          answer({**WHY, "edits": [{"name": "CASH_BUFFER", "new": 0.9}]}),
                          answer({**WHY, "edits": [{"name": "CASH_BUFFER", "new": 0.15}]}))
    hypothesis = _propose(provider, repo)
    assert hypothesis.kind == "parameters" and hypothesis.task_id == "T-001"
    assert [(e.name, e.old, e.new) for e in hypothesis.edits] == [("CASH_BUFFER", 0.10, 0.15)]
    assert "unknown tunable 'CASH'" in _feedback(provider, 1)
    assert "outside its range [0, 0.5]" in _feedback(provider, 2)
    assert "Your previous answer could not be used" not in _feedback(provider, 0)


def test_code_edits_stay_in_the_quants_paths_and_apply_with_git(provider: Provider,
                                                                 repo: Path) -> None:
    provider.server.queue(
        answer({**WHY, "code": [{"path": "policies/risk.toml", "search": "a", "replace": "b"}]}),
        answer({**WHY, "code": [{"path": ENGINE, "search": "not in the file", "replace": "x"}]}),
        answer({**WHY, "code": [{"path": ENGINE, "search": "import numpy as np\n",
                                 "replace": "import os\nimport numpy as np\n"}]}),
        answer({**WHY, "code": [{"path": ENGINE, "search": ANCHOR,
                                 "replace": ANCHOR + " * 0.75"}]}))
    hypothesis = _propose(provider, repo, attempts=4)
    assert "outside the paths the Quant may write" in _feedback(provider, 1)
    assert "is not in the file" in _feedback(provider, 2)
    assert "the strategy policy blocks the change" in _feedback(provider, 3)
    assert "os is not in the strategy import allowlist" in _feedback(provider, 3)
    assert hypothesis.kind == "patch" and hypothesis.patch is not None
    assert hypothesis.patch.startswith(f"--- a/{ENGINE}\n+++ b/{ENGINE}\n")
    subprocess.run(["git", "apply", "-"], cwd=repo, input=hypothesis.patch.encode(),
                   check=True)
    assert ANCHOR + " * 0.75" in (repo / ENGINE).read_text()


def test_a_change_tried_before_is_refused_and_attempts_are_bounded(provider: Provider,
                                                                    repo: Path) -> None:
    edit = {**WHY, "edits": [{"name": "CASH_BUFFER", "new": 0.15}]}
    provider.server.queue(answer(edit))
    first = _propose(provider, repo)
    provider.server.queue(*[answer(edit)] * 3)
    with pytest.raises(InvalidAnswer, match="no usable change in 3 answers") as raised:
        _propose(provider, repo, tried={first.key})
    assert all("tried before" in p for p in raised.value.attempts)
