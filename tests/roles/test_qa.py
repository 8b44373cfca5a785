"""QA writes tests for a change, proves them on mutants, runs them in the sandbox and
commits the ones that test something to the pull request's branch.

Everything runs on real temporary git repositories laid out like a project (the real
``policies/`` and ``roles/``, the quick test strategy of ``tests/cycle/fixture``) and in
the real sandbox. The good change goes through one whole cycle with QA plugged in by one
line of ``policies/merge.toml`` (shared by two tests: QA's review takes a dozen
sandboxed pytest runs, and the cycle reviews the head again after QA's commit); the
other changes are reviewed by the role directly.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from support.cycle_repos import (
    OPTIONS,
    accept_any_significant_gain,
    fixed_hypothesis,
    git,
    make_repo,
    require_approval,
)

from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.data.synthetic import SyntheticConfig, generate
from alphaloop.evaluation import Evaluator
from alphaloop.evaluation.service import EvalSettings
from alphaloop.forge import LocalForge
from alphaloop.harness.windows import research_windows
from alphaloop.policy import load_policies
from alphaloop.records import Outcome, QAReviewRecord, record_model
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles import ReviewRequest, RoleConfig, RoleServices, build_role, forge_verdict
from alphaloop.roles.qa.suite import SuiteRun, TestOutcome, flaky_tests
from alphaloop.sandbox import open_sandbox

QA_IDENTITY = Identity(name="AlphaLoop QA", email="qa@alphaloop.local")
QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.local")
BRANCH = "alphaloop/more-cash"
TESTS = "tests/generated/test_pr1_more_cash.py"


def review_change(root: Path, path: str, old: str, new: str) -> tuple[QAReviewRecord, str]:
    """QA's review (the built-in role, built from its configuration) of the change
    ``old`` -> ``new`` in ``path``, proposed on a pull request; and the change's head."""
    repo = GitRepo.open(root)
    base = repo.head_sha()
    worktree = repo.create_worktree(BRANCH, base)
    target = worktree / path
    assert old in target.read_text()
    target.write_text(target.read_text().replace(old, new))
    head = repo.commit_all(worktree, "A change", QUANT)
    forge = LocalForge(repo)
    pr = forge.open_pr(title="A change", body="", head_branch=BRANCH,
                       base_branch="main", author_role="quant")
    evaluator = Evaluator(repo, open_sandbox(), EvalSettings(reward_lambda=5.0),
                          cache_dir=root.parent / "cache")
    services = RoleServices(repo=repo, forge=forge, evaluator=evaluator,
                            policies=load_policies(root), identities={"qa": QA_IDENTITY})
    qa = build_role(RoleConfig(type="qa", max_examples=4), services)
    data = generate(SyntheticConfig(years=2))[0]
    try:
        record = qa.review_change(ReviewRequest(
            base_sha=base, head_sha=head, worktree=worktree, data=data,
            windows=research_windows(data, holdout_days=60, n_folds=0),
            ledger_entries=[], pr_number=pr.number))
    finally:
        evaluator.close()
    return record, head


class Merged:
    """A whole cycle with QA plugged in by one line of ``policies/merge.toml``: the
    Quant's good parameter change, CASH_BUFFER 0.10 -> 0.12, in a project whose strategy
    refuses to be built with a negative cash buffer."""

    def __init__(self, root: Path) -> None:
        self.root = make_repo(root)
        engine = self.root / "strategy" / "engine.py"
        engine.write_text(engine.read_text().replace(
            "    return TiltedInverseVol()\n",
            "    if tunables.CASH_BUFFER < 0:\n"
            "        raise ValueError(f\"CASH_BUFFER {tunables.CASH_BUFFER} is negative\")\n"
            "    return TiltedInverseVol()\n"))
        git(self.root, "commit", "-qam", "The strategy refuses a negative cash buffer")
        accept_any_significant_gain(self.root)
        require_approval(self.root, "qa")
        [self.summary] = run_cycles(self.root, OPTIONS, hypothesis_source=fixed_hypothesis(
            "CASH_BUFFER", 0.10, 0.12, slug="more-cash"))
        [entry] = Ledger(self.root).entries()
        self.record = QAReviewRecord.model_validate(entry.records["qa_review"])
        self.forge = LocalForge(GitRepo.open(self.root))
        self.pr = self.forge.get_pr(self.summary.pr_number)


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Merged]:
    yield Merged(tmp_path_factory.mktemp("qa") / "project")


def _name(test: str) -> str:
    return test.split("::")[-1]


def test_a_good_parameter_change_is_approved_and_its_tests_committed_as_qa(
        merged: Merged) -> None:
    assert merged.summary.outcome == Outcome.MERGED, merged.summary.message
    record, root = merged.record, merged.root
    assert (record.verdict, record.severity) == ("approve", 0), record.summary
    assert forge_verdict(record) == "approve"
    assert record.counts["failed"] == record.counts["errors"] == 0
    assert record.counts["passed"] == record.counts["collected"] == len(record.generated)
    # The tests are one commit on the PR's branch, by QA, touching tests/generated only,
    # and QA's approval (like Risk's) is bound to that commit, the head that merged.
    branch = merged.pr.head_branch
    tip = git(root, "rev-parse", branch)
    quant_head = git(root, "rev-parse", f"{branch}~1")
    assert record.tests_commit == tip and record.tests_path == TESTS
    assert git(root, "log", "-1", "--format=%an <%ae>", tip) == str(QA_IDENTITY)
    assert git(root, "diff", "--name-only", quant_head, tip) == TESTS
    assert {(r.reviewer, r.verdict) for r in merged.forge.reviews(merged.pr.number)
            if r.commit_sha == tip} == {("risk", "approve"), ("qa", "approve")}
    # QA's one review holds for the commit it made; only Risk reviewed that head again.
    assert [r.commit_sha for r in merged.forge.reviews(merged.pr.number)
            if r.reviewer == "qa"] == [tip]
    assert [r.commit_sha for r in merged.forge.reviews(merged.pr.number)
            if r.reviewer == "risk"] == [quant_head, tip]
    source = git(root, "show", f"main:{TESTS}")
    assert source == git(root, "show", f"{tip}:{TESTS}")
    kept = {_name(k.test) for k in record.kept}
    assert kept and all(f"def {name}(" in source for name in kept)
    # The range of the tunable it moved and the figures it pins are among the kept tests.
    assert {"test_cash_buffer_stays_inside_its_declared_range",
            "test_pinned_invested_share_on_the_fixed_window"} <= kept
    assert "CASH_BUFFER 0.1 -> 0.12" in source
    pinned = re.search(r'"invested_share": ([0-9.e-]+)', source)
    assert pinned is not None and float(pinned.group(1)) == pytest.approx(0.88, rel=1e-12)
    # What it imports: the contract, the strategy and test libraries, nothing else.
    imports = {line.split()[1] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"numpy", "pandas", "pytest", "hypothesis", "alphaloop.contract",
                       "strategy"}, imports
    # The changed line ran under the suite, measured by coverage in the sandbox.
    lines = git(root, "show", f"{tip}:strategy/tunables.py").splitlines()
    cash_line = next(i for i, line in enumerate(lines, 1) if line.startswith("CASH_BUFFER"))
    assert record.changed_lines == {"strategy/tunables.py": [cash_line]}
    assert record.uncovered_lines == {} and "1 of 1 changed line" in record.coverage_note
    # The file reads like the project's code: lint-clean and laid out as the repository's
    # own ruff configuration says (what Risk's and the Engineer's checks run).
    for check in (["check"], ["format", "--check"]):
        lint = subprocess.run([sys.executable, "-m", "ruff", *check, "--no-cache",
                               "--stdin-filename", TESTS, "-"], cwd=root,
                              input=source + "\n", capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    # The record is the stage's model, and its markdown names each kept test.
    assert record_model("qa_review") is QAReviewRecord
    assert all(f"kept: `{k.test}` kills" in record.markdown() for k in record.kept)


def test_a_test_no_mutant_fails_is_discarded_and_reported(merged: Merged) -> None:
    record = merged.record
    mutants = {m.id: m.kind for m in record.mutants}
    assert mutants == {"cash_buffer-reverted": "reverted",
                       "cash_buffer-out-of-range": "out_of_range",
                       "cash_buffer-sign-flipped": "sign_flipped"}
    # The strategy will not be built with the flipped sign: that mutant judges no test.
    refused = {m.id: m.refused for m in record.mutants if m.refused}
    assert list(refused) == ["cash_buffer-sign-flipped"]
    assert "CASH_BUFFER -0.12 is negative" in refused["cash_buffer-sign-flipped"]
    judged = ["cash_buffer-reverted", "cash_buffer-out-of-range"]
    discarded = {_name(d.test): d.survived for d in record.discarded}
    # Looking into the future is impossible through the contract, and no value of
    # CASH_BUFFER makes the strategy random: no mutant can fail these two.
    assert discarded["test_decision_ignores_data_after_its_date"] == judged
    assert discarded["test_same_view_gives_the_same_weights"] == judged
    source = git(merged.root, "show", f"main:{TESTS}")
    for name in discarded:
        assert f"def {name}(" not in source
    # Every kept test kills something, and the pinned share kills main's value back.
    kills = {_name(k.test): k.kills for k in record.kept}
    assert all(kills.values()) and not set(kills) & set(discarded)
    assert kills["test_pinned_invested_share_on_the_fixed_window"] == judged
    assert kills["test_cash_buffer_stays_inside_its_declared_range"] == [
        "cash_buffer-out-of-range"]
    assert all("cash_buffer-sign-flipped" not in k for k in kills.values())
    assert set(kills) | set(discarded) == {_name(t) for t in record.generated}
    reported = [f for f in record.findings if f["check"] == "qa.discarded"]
    assert {f["evidence"]["test"] for f in reported} == {d.test for d in record.discarded}
    assert "passed every mutant" in record.markdown()
    assert "refused by the strategy itself" in record.markdown()


def _run(**outcomes: Literal["passed", "failed", "error", "skipped"]) -> SuiteRun:
    return SuiteRun(exit_code=0, tests={t: TestOutcome(outcome=o) for t, o in outcomes.items()})


def test_a_test_with_two_outcomes_on_one_commit_is_flaky() -> None:
    first = _run(steady="passed", wobbly="passed", broken="failed", late="passed")
    second = _run(steady="passed", wobbly="failed", broken="failed")
    assert flaky_tests(first, second) == ["wobbly"]
    assert flaky_tests(second, first) == ["wobbly"]


def test_changed_lines_no_test_runs_send_the_change_back(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "project")
    record, head = review_change(
        root, "strategy/engine.py", "        prices = view.prices\n",
        "        prices = view.prices\n"
        "        if view.n_days > 100_000:  # longer than any market's history\n"
        "            prices = prices[-100_000:]\n")
    engine = git(root, "show", f"{head}:strategy/engine.py").splitlines()
    guard = engine.index("        if view.n_days > 100_000:  # longer than any market's history")
    # The guard runs on every decision; the line under it never does.
    assert record.changed_lines == {"strategy/engine.py": [guard + 1, guard + 2]}
    assert record.uncovered_lines == {"strategy/engine.py": [guard + 2]}
    assert (record.verdict, record.severity) == ("veto", 2)
    assert forge_verdict(record) == "request_changes" and record.failures == []
    assert record.summary.startswith("changes requested: 1 changed line(s) no test runs")
    [gap] = [f for f in record.findings if f["check"] == "qa.coverage"]
    assert (gap["path"], gap["line"]) == ("strategy/engine.py", guard + 2)
    # Reverting the code changes no decision: no generated test can be kept.
    assert [m.id for m in record.mutants] == ["code-reverted"] and record.kept == []


def test_a_change_that_makes_weights_negative_is_vetoed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "project")
    record, head = review_change(root, "strategy/engine.py",
                                 "weights = np.clip(raw, 0.0, None)",
                                 "weights = np.clip(raw, 0.0, None) - 0.5 * raw.mean()")
    assert (record.verdict, record.severity) == ("veto", 3)
    assert forge_verdict(record) == "veto" and record.head_sha == head
    assert record.summary.startswith("vetoed: ") and "fail on the head commit" in record.summary
    failed = {_name(f.test) for f in record.failures}
    assert "test_weights_are_never_negative" in failed
    assert "test_weights_are_finite" not in failed  # negative, but still numbers
    never_negative = next(f for f in record.failures
                          if _name(f.test) == "test_weights_are_never_negative")
    assert "Falsifying example" in never_negative.output and "assert" in never_negative.output
    assert any(f["check"] == "qa.failure" and f["severity"] == 3
               and "test_weights_are_never_negative" in f["message"] for f in record.findings)
    # Nothing was mutated (the head already fails) or committed: the branch is as it was.
    assert record.mutants == [] and record.kept == [] and record.tests_commit is None
    assert git(root, "rev-parse", BRANCH) == head
