"""QA: the reviewer that writes tests for a change and tries to break it (a ``Reviewer``).

For the change ``base..head`` of a pull request it plans tests (:mod:`.plan`), pins
the regression figures on the head (:mod:`.figures`), runs the generated suite and every
earlier generated test twice in the sandbox, the first time under coverage of the
changed strategy files (:mod:`.suite`), and, when all pass, runs the new tests against
each mutant of the change (:mod:`.mutation`): a test no mutant fails is discarded. The
kept tests are committed to the pull request's branch under ``tests/generated/`` as QA
(:mod:`.commit`). A change its tests fail on is vetoed and nothing is committed (the PR
closes; the failures and their output are in the record). The graded record is
:class:`~alphaloop.records.QAReviewRecord` (:mod:`.verdict`). With a model, the model's
tests join the menu and face the same proof; they never veto (:mod:`.model_tests`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.errors import InfrastructureFailure
from alphaloop.evaluation import Evaluator
from alphaloop.forge import Forge
from alphaloop.policy import Policies, describe_validation_error
from alphaloop.policy.errors import PolicyError
from alphaloop.records import QAReviewRecord, QATestResult
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles.base import ReviewRequest, RoleConfig, RoleModel, RoleServices
from alphaloop.roles.qa.change import ChangeUnderTest, read_change
from alphaloop.roles.qa.checkouts import GENERATED_DIR, make_checkout
from alphaloop.roles.qa.commit import CommitRefused, commit_tests
from alphaloop.roles.qa.figures import compute_figures, pinned_files, repin
from alphaloop.roles.qa.model_tests import model_tests
from alphaloop.roles.qa.mutants import mutants_of
from alphaloop.roles.qa.mutation import kills_by_test, sort_tests
from alphaloop.roles.qa.plan import TestPlan, plan_tests
from alphaloop.roles.qa.render import format_source, render_tests, test_file_name
from alphaloop.roles.qa.suite import SuiteRun, flaky_tests, qa_sandbox, run_suite
from alphaloop.roles.qa.verdict import QAOutcome, qa_record
from alphaloop.sandbox import Sandbox, SandboxError

__all__ = ["QA", "QAOptions"]


class QAOptions(BaseModel):
    """QA's options in a role configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    max_examples: int = Field(default=12, ge=1, le=500,
                              description="random views each property test tries")
    wall_seconds: float = Field(default=900.0, gt=0,
                                description="sandbox wall time of one whole review")


class QA:
    """Writes, runs and mutation-checks tests for one branch head against its base."""

    role = "qa"
    record_type = QAReviewRecord

    def __init__(self, repo: GitRepo, forge: Forge, evaluator: Evaluator, policies: Policies,
                 identity: Identity, options: QAOptions,
                 model: RoleModel | None = None) -> None:
        self.repo = repo
        self.model = model
        self.forge = forge
        self.evaluator = evaluator
        self.policies = policies
        self.identity = identity
        self.options = options
        self._sandbox: Sandbox | None = None

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        try:
            options = QAOptions.model_validate(config.model_dump())
        except ValidationError as exc:
            raise PolicyError(describe_validation_error("the qa role's options", exc)) from None
        return cls(services.repo, services.forge, services.evaluator, services.policies,
                   services.identities["qa"], options, model=services.model)

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = qa_sandbox(self.evaluator.sandbox)
        return self._sandbox

    # -- the review -------------------------------------------------------------------
    def review_change(self, request: ReviewRequest) -> QAReviewRecord:
        started = time.monotonic()
        change = read_change(self.repo, self.evaluator, request.base_sha, request.head_sha)
        pr = self.forge.get_pr(request.pr_number) if request.pr_number is not None else None
        title = (f"PR #{pr.number}: {pr.title}" if pr is not None else
                 request.hypothesis.headline if request.hypothesis else request.head_sha[:10])
        slug = (request.hypothesis.slug if request.hypothesis else
                pr.head_branch.rsplit("/", 1)[-1] if pr is not None else request.head_sha[:10])
        plan = plan_tests(change, request.data, self.policies, title=title,
                          profile=self.evaluator.settings.profile,
                          max_examples=self.options.max_examples)
        path = test_file_name(slug, request.pr_number)
        notes: list[str] = []
        if self.model is not None and plan.tests:
            written, notes = model_tests(self.model, self.repo, change, plan, title if
                                         request.hypothesis is None else
                                         f"{request.hypothesis.statement}\n\n"
                                         f"{request.hypothesis.rationale}")
            plan = plan.model_copy(update={"tests": [*plan.tests, *written]})
        with tempfile.TemporaryDirectory(prefix="alphaloop-qa-") as tmp, \
                self.sandbox.budget(self.options.wall_seconds):
            try:
                outcome, files = self._test(change, plan, path, Path(tmp))
            except InfrastructureFailure:
                raise  # the machine failed, not the change: the cycle stops, resumable
            except SandboxError as exc:  # the strategy or the suite broke in the sandbox
                outcome, files = QAOutcome(
                    base_sha=change.base_sha, head_sha=change.head_sha, tests_path=path,
                    generated=[f"{path}::{name}" for name in plan.names],
                    failures=[QATestResult(test=f"{path} (sandbox)", outcome="error",
                                           output=str(exc))],
                    changed_lines=change.added_lines,
                    coverage_note="not measured: the suite did not run"), {}
        outcome = outcome.model_copy(update={
            "isolation": self.sandbox.isolation.describe(),
            "model_notes": [*notes, *outcome.model_notes]})
        if files and pr is not None:
            outcome = self._commit(outcome, title, pr.head_branch, files, request)
        elif files:
            outcome = outcome.model_copy(update={
                "commit_note": "no pull request was named, so the tests were not committed"})
        return qa_record(outcome.model_copy(
            update={"duration_s": time.monotonic() - started}))

    def _test(self, change: ChangeUnderTest, plan: TestPlan, path: str,
              tmp: Path) -> tuple[QAOutcome, dict[str, str]]:
        """Pin, run twice, mutate: the outcome and the files to commit."""
        sandbox = self.sandbox
        head = make_checkout(self.repo, change.head_sha, tmp / "head")
        if not plan.tests:  # no strategy change: only the earlier generated tests run
            plan, files, repinned = plan, {}, {}
        else:
            plan, files, repinned = self._write_tests(plan, path, head, tmp)
        first = run_suite(sandbox, head, tmp / "run-1", coverage=list(change.added_lines))
        second = run_suite(sandbox, head, tmp / "run-2")
        flaky = flaky_tests(first, second)
        modelled = {f"{path}::{t.name}" for t in plan.of_kind("model")}
        failures = [QATestResult(test=t, outcome=r.outcome, output=r.output)
                    for t, r in first.failed().items() if t not in flaky and t not in modelled]
        left_out = [f"{t.split('::')[-1]} {r.outcome} on the head (not kept, never a veto)"
                    for t, r in first.failed().items() if t in modelled]
        ours = {f"{path}::{name}": name for name in plan.names
                if f"{path}::{name}" not in first.failed()
                or f"{path}::{name}" not in modelled}
        uncovered, note = _uncovered(change, first)
        outcome = QAOutcome(
            base_sha=change.base_sha, head_sha=change.head_sha,
            tests_path=path if ours else None, generated=list(ours),
            counts=first.counts(), failures=failures, flaky=flaky,
            repinned=repinned, changed_lines=change.added_lines,
            uncovered_lines=uncovered, coverage_note=note, model_notes=left_out)
        if failures or not plan.tests:  # vetoed, or nothing written: nothing to prove
            return outcome, {}
        mutations = mutants_of(self.repo, change)
        candidates = [t for t in ours if t not in flaky]
        kills, mutants = kills_by_test(sandbox, head, tmp / "mutants", path, mutations,
                                       candidates, profile=plan.profile)
        kept, discarded = sort_tests(kills, mutants)
        outcome = outcome.model_copy(update={"kept": kept, "discarded": discarded,
                                             "mutants": mutants})
        if kept:
            files[path] = self._format(render_tests(plan, [ours[k.test] for k in kept]), path)
        return outcome, files

    def _format(self, source: str, path: str) -> str:
        """``source`` laid out as the repository's ruff configuration says."""
        return format_source(source, root=self.repo.work_tree, path=path)

    def _write_tests(self, plan: TestPlan, path: str, head: Path, tmp: Path
                     ) -> tuple[TestPlan, dict[str, str], dict[str, dict[str, list[float]]]]:
        """Write the planned tests into the checkout ``head`` with their figures pinned on
        it, and re-pin the earlier files whose figures the change moves: the plan as
        pinned, the earlier files' new text, and what moved."""
        earlier = [p for p in pinned_files(head, GENERATED_DIR) if p != path]
        (head / path).write_text(render_tests(plan))
        figures = compute_figures(self.sandbox, head, tmp / "figures", [path, *earlier])
        plan = plan.model_copy(update={"pinned": figures.pop(path)})
        texts, repinned = repin(head, figures, plan.pinned_tolerance)
        files = {p: self._format(t, p) for p, t in texts.items()}
        for p, text in {path: self._format(render_tests(plan), path), **files}.items():
            (head / p).write_text(text)
        return plan, files, repinned

    def _commit(self, outcome: QAOutcome, title: str, branch: str, files: dict[str, str],
                request: ReviewRequest) -> QAOutcome:
        tests = [f"- {k.test.split('::')[-1]} kills {', '.join(k.kills)}"
                 for k in outcome.kept]
        moved = [f"- {path}: {name} {old:.6g} -> {new:.6g}"
                 for path, figures in outcome.repinned.items()
                 for name, (old, new) in figures.items()]
        message = (f"QA: tests for {title}"[:120]
                   + "\n\nEach test fails on at least one mutant of the change:\n\n"
                   + "\n".join(tests)
                   + ("\n\nFigures pinned by earlier tests that this change moves:\n\n"
                      + "\n".join(moved) if moved else "")
                   + f"\n\nAlphaLoop-Reviewed-Head: {outcome.head_sha}\n")
        try:
            sha = commit_tests(self.repo, branch=branch, reviewed=outcome.head_sha,
                               files=files, message=message, identity=self.identity,
                               policies=self.policies, worktree=request.worktree)
        except CommitRefused as refused:
            return outcome.model_copy(update={"commit_note": f"tests not committed: {refused}"})
        # None: the reviewed head is QA's own commit of these very tests
        return outcome.model_copy(update={"tests_commit": sha or outcome.head_sha})


def _uncovered(change: ChangeUnderTest, run: SuiteRun) -> tuple[dict[str, list[int]], str]:
    """Changed statements no test ran, per file, and how that was measured."""
    if not change.added_lines:
        return {}, "the change adds no strategy line"
    missed: dict[str, list[int]] = {}
    for path, added in change.added_lines.items():
        lines = run.lines.get(path)
        if lines is None:
            return {}, f"not measured: coverage has no data for {path}"
        gap = sorted(set(added) & set(lines.missing))
        if gap:
            missed[path] = gap
    total = sum(len(v) for v in change.added_lines.values())
    return missed, (f"coverage.py over the suite's first run: "
                    f"{total - sum(len(v) for v in missed.values())} of {total} changed "
                    "line(s) ran or are not statements")
