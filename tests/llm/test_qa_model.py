"""QA with a model: the model's tests join QA's menu and face the same proof (pass on the
head twice, fail on a mutant); one that fails on the head is left out and never vetoes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import PROJECT, make_repo
from support.fake_llm_server import answer
from support.llm_providers import Provider

from alphaloop.data.synthetic import SyntheticConfig, generate
from alphaloop.evaluation import Evaluator
from alphaloop.evaluation.service import EvalSettings
from alphaloop.forge import LocalForge
from alphaloop.harness.windows import research_windows
from alphaloop.policy import load_policies
from alphaloop.records import QAReviewRecord
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles import (
    CharterModel,
    ReviewRequest,
    RoleConfig,
    RoleServices,
    build_role,
    load_charters,
)
from alphaloop.sandbox import open_sandbox

QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.local")
QA = Identity(name="AlphaLoop QA", email="qa@alphaloop.local")
INVESTED = '''def test_model_invests_at_most_eighty_eight_percent() -> None:
    weights = _weights(_view(_prices(3, 300)))
    assert sum(weights.values()) <= 0.88 + TOLERANCE
'''
WRONG = "def test_model_is_wrong() -> None:\n    assert 1 == 2\n"
IMPORTS = "def test_model_imports() -> None:\n    import os\n    assert os\n"


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["openai"], indirect=True)  # one provider: QA is slow
def test_the_models_tests_are_proven_on_mutants_and_never_veto(provider: Provider,
                                                               tmp_path: Path) -> None:
    root = make_repo(tmp_path / "project")
    repo = GitRepo.open(root)
    base = repo.head_sha()
    worktree = repo.create_worktree("alphaloop/more-cash", base)
    tunables = worktree / "strategy" / "tunables.py"
    tunables.write_text(tunables.read_text().replace("CASH_BUFFER = 0.10", "CASH_BUFFER = 0.12"))
    head = repo.commit_all(worktree, "Hold more cash", QUANT)
    forge = LocalForge(repo)
    pr = forge.open_pr(title="Hold more cash", body="", head_branch="alphaloop/more-cash",
                       base_branch="main", author_role="quant")
    provider.server.queue(answer({"tests": [
        {"name": "test_model_invests_at_most_eighty_eight_percent", "source": INVESTED,
         "about": "the larger buffer stays in cash"},
        {"name": "test_model_is_wrong", "source": WRONG},
        {"name": "test_model_imports", "source": IMPORTS}]}))
    evaluator = Evaluator(repo, open_sandbox(), EvalSettings(reward_lambda=5.0),
                          cache_dir=tmp_path / "cache")
    services = RoleServices(repo=repo, forge=forge, evaluator=evaluator,
                            policies=load_policies(root), identities={"qa": QA},
                            model=CharterModel(load_charters(PROJECT), provider.open()))
    data = generate(SyntheticConfig(years=2))[0]
    try:
        record: QAReviewRecord = build_role(RoleConfig(type="qa", max_examples=4),
                                            services).review_change(ReviewRequest(
            base_sha=base, head_sha=head, worktree=worktree, data=data,
            windows=research_windows(data, holdout_days=60, n_folds=0),
            ledger_entries=[], pr_number=pr.number))
    finally:
        evaluator.close()
    assert record.verdict == "approve" and record.failures == []
    kept = {k.test.split("::")[-1] for k in record.kept}
    assert "test_model_invests_at_most_eighty_eight_percent" in kept
    notes = [f["message"] for f in record.findings if f["check"] == "qa.model_test"]
    assert any("test_model_is_wrong failed on the head" in n for n in notes)
    assert any("test_model_imports" in n and "import nothing" in n for n in notes)
    committed = repo.read_file(repo.branch_sha("alphaloop/more-cash") or "",
                               record.tests_path or "").decode()
    assert "def test_model_invests_at_most_eighty_eight_percent" in committed
    assert "test_model_is_wrong" not in committed and "import os" not in committed
