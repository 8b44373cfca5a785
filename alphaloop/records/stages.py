"""The records each stage of a cycle produces, and which record each stage stores.

Every stage returns one of these pydantic models; the cycle stores it as soon as it
exists (``.git/alphaloop/runs/cNNNN/<stage>.json``) so a killed cycle resumes after its
last finished stage, and the PM commits them all to the ledger at the end. Field names
are part of the ledger format (``docs/ledger.md``): add fields, never rename them.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.checks.findings import Finding, Severity
from alphaloop.harness.compare import PairedComparison
from alphaloop.policy.search import SearchSteering
from alphaloop.records.deploy import DeployRecord, LiveRecord
from alphaloop.records.metrics import FoldScore, RunMetrics

__all__ = [
    "STAGE_MODELS",
    "STAGE_ORDER",
    "Claim",
    "CycleSummary",
    "EngineerFinding",
    "EngineerReviewRecord",
    "Escalation",
    "FoldScore",
    "Hypothesis",
    "Implementation",
    "MergeRecord",
    "OtherReviewRecord",
    "Outcome",
    "ParamEdit",
    "PerformanceReview",
    "PlanRecord",
    "QADiscardedTest",
    "QAKeptTest",
    "QAMutant",
    "QAReviewRecord",
    "QATestResult",
    "ReportRecord",
    "ReviewRecord",
    "RiskReviewRecord",
    "RunMetrics",
    "Stage",
    "TaskRef",
    "record_model",
    "review_stage",
    "role_title",
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stage(StrEnum):
    PLAN = "plan"
    QUANT_REVIEW = "quant_review"
    HYPOTHESIS = "hypothesis"
    IMPLEMENT = "implement"
    RISK_REVIEW = "risk_review"
    MERGE = "merge"
    DEPLOY = "deploy"
    REPORT = "report"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class Outcome(StrEnum):
    MERGED = "merged"
    ROLLED_BACK = "rolled_back"  # merged, then failed live and was reverted by the SRE
    VETOED = "vetoed"
    AWAITING_HUMAN = "awaiting_human"
    NOT_MERGEABLE = "not_mergeable"  # no veto, no human asked: the gate itself stands in the way
    ESCALATED = "escalated"
    IDLE = "idle"
    NO_HYPOTHESIS = "no_hypothesis"
    FAILED = "failed"
    ABANDONED = "abandoned"  # an interrupted cycle closed by `alphaloop cycle --abandon`


class TaskRef(_Record):
    id: str
    title: str
    priority: str
    goal: str = ""
    search: SearchSteering = Field(default_factory=SearchSteering,
                                   description="how the task steers the Quant's search")


class Escalation(_Record):
    task_id: str
    vetoes: int
    reasons: list[str]
    kind: Literal["vetoes", "budget"] = Field(
        default="vetoes", description="vetoed cycles in a row, or the task's cycle budget "
        "spent without meeting its goal")

    def describe(self) -> str:
        """What sent the task to a human, to follow "escalated after"."""
        if self.kind == "budget":
            return f"its budget of {self.vetoes} cycles was spent"
        return f"{self.vetoes} vetoes in a row"


class PlanRecord(_Record):
    cycle_id: str
    task: TaskRef | None
    reason: str
    escalations: list[Escalation] = Field(default_factory=list)
    open_prs: list[int] = Field(default_factory=list)
    base_branch: str
    base_sha: str
    clock: date


class PerformanceReview(_Record):
    """Quant's review of ``main``: in-sample only, with attribution and a diagnosis."""

    sha: str
    tree_hash: str
    data_hash: str
    metrics: RunMetrics
    folds: list[FoldScore]
    reward: float = Field(description="mean over walk-forward folds of Sharpe - lambda * MDD")
    attribution: dict[str, dict[str, float]] = Field(
        description="contribution to return by asset_class, expert and factor")
    diagnosis: list[str]
    focus: dict[str, float] = Field(
        default_factory=dict, description="tunables the diagnosis points at, weight 0-1")
    cached: bool
    duration_s: float
    live: LiveRecord | None = Field(
        default=None, description="what the running deployment did over its last live "
                                  "period, which the review starts from")


class ParamEdit(_Record):
    name: str
    old: float | int | str
    new: float | int | str

    @property
    def relative_change(self) -> float | None:
        if isinstance(self.old, str) or isinstance(self.new, str):
            return None
        if self.old == 0:
            return float("inf") if self.new != 0 else 0.0
        return abs(float(self.new) - float(self.old)) / abs(float(self.old))


ClaimMetric = Literal["reward", "sharpe", "max_drawdown", "annual_return",
                      "annual_volatility", "turnover", "calmar"]


class Claim(_Record):
    """The metric a change means to move and which way; Risk tests exactly this.

    ``direction="none"`` claims no effect on decisions (a refactor, docs, comments): Risk
    then requires the branch to decide exactly as ``main`` does on every window.
    """

    metric: ClaimMetric | None = "reward"
    direction: Literal["increase", "decrease", "none"] = "increase"
    source: str = Field(default="default: the calibration reward",
                        description="where the claim comes from (a task's goal, ...)")

    @property
    def no_effect(self) -> bool:
        return self.direction == "none"

    def text(self) -> str:
        if self.no_effect:
            return "no effect on decisions"
        return f"{self.metric} {'up' if self.direction == 'increase' else 'down'}"


class Hypothesis(_Record):
    """What the Quant proposes: a statement and the change that tests it."""

    key: str = Field(description="identity of the change, used to never repeat a trial")
    kind: Literal["parameters", "patch"]
    slug: str
    statement: str
    rationale: str
    expected_effect: str
    title: str = Field(default="", description="one line for PR titles, commit subjects "
                                               "and tables (default: the statement)")
    edits: list[ParamEdit] = Field(default_factory=list)
    patch_name: str | None = None
    patch: str | None = Field(default=None, description="unified diff for a code change")
    search: dict[str, Any] = Field(default_factory=dict)
    task_id: str | None = None
    claim: Claim = Field(default_factory=Claim,
                         description="what the change claims to move (default: reward up)")

    @property
    def headline(self) -> str:
        """The hypothesis in one line: its title, or the statement when it has none."""
        return self.title or self.statement

    @property
    def description(self) -> str:
        """Statement and rationale, for the body of a commit message."""
        lead = "" if self.statement == self.headline else self.statement + "\n\n"
        return lead + self.rationale


class Implementation(_Record):
    branch: str
    base_sha: str
    head_sha: str
    pr_number: int
    changed_files: list[str]


class ReviewRecord(_Record):
    """What every reviewer of a branch head returns; a reviewer's own record adds to it.

    Severity 0 passes, 1 warns, 2 requests changes, 3 blocks; ``verdict`` is ``veto``
    from severity 2 up. Each finding is a dict with at least ``severity`` and ``message``.
    """

    verdict: Literal["approve", "veto"]
    severity: int = Field(ge=0, le=3)
    summary: str
    findings: list[dict[str, Any]]
    head_sha: str


class OtherReviewRecord(ReviewRecord):
    """A review record read back from the ledger whose reviewer this version does not
    know: the common fields are checked, the reviewer's own fields kept as they are."""

    model_config = ConfigDict(extra="allow")


class RiskReviewRecord(ReviewRecord):
    branch_metrics: dict[str, RunMetrics] = Field(default_factory=dict)
    main_metrics: dict[str, RunMetrics] = Field(default_factory=dict)
    stress: dict[str, RunMetrics] = Field(default_factory=dict)
    deflated_sharpe: float | None = None
    pbo: float | None = None
    n_trials: int = 0
    holdout_reads: int = 0
    isolation: str = ""
    policy_digest: str = ""
    duration_s: float = 0.0
    claim: Claim | None = Field(default=None, description="the claim Risk tested")
    identical_to_main: bool = Field(
        default=False, description="the branch's target weights equal main's on every "
                                   "window Risk ran (its returns are main's)")
    walk_forward_test: PairedComparison | None = Field(
        default=None, description="paired bootstrap over the walk-forward test folds")
    holdout_test: PairedComparison | None = Field(
        default=None, description="paired non-inferiority test on the held-out window")
    distinct_trials: int = Field(default=0, description="distinct trials against this main "
                                                        "the confidence was deflated by")
    pbo_trials: int = Field(default=0, description="distinct configurations in the PBO")
    base_tree: str = Field(default="", description="strategy tree of main")
    head_tree: str = Field(default="", description="strategy tree of the branch")
    exposures: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="branch and main: gross risky exposure and "
                                          "peak class weights over in-sample and held-out")


class EngineerFinding(Finding):
    """One finding of the Engineer's review: where (``path``, ``line``), which ``rule``
    (a ruff code such as ``F401`` or ``C901``, ``format``, ``missing-docstring``, ...),
    how serious, what to do (``message``) and the ``evidence`` (the offending line, the
    formatter's hunk, the measured figure)."""

    rule: str = Field(min_length=1)
    needs_human: bool = Field(default=False,
                              description="a human must decide (a dependency change)")

    def markdown(self) -> str:
        """``path:line — rule — message`` (``path`` alone, or ``-``, without a line)."""
        return f"`{self.location()}` — {self.rule} — {self.message}"


EngineerDecision = Literal["approve", "request_changes", "needs_human"]


class EngineerReviewRecord(ReviewRecord):
    """The Engineer's review of a change's code: the checks it ran over the diff and the
    findings, each an :class:`EngineerFinding` (as JSON in ``findings``).

    ``decision`` is what the review asks for: ``approve``; ``request_changes`` (verdict
    ``veto`` at severity 2, which the forge shows as "request changes": the change goes
    back to its author, the idea is not judged); or ``needs_human`` (the change declares
    dependencies: the Engineer approves the code, severity 1, and says a human decides).
    """

    decision: EngineerDecision = "approve"
    base_sha: str = ""
    author_role: str | None = Field(default=None, description="who proposed the change "
                                                              "(the pull request's author)")
    changed_files: list[str] = Field(default_factory=list)
    lines_added: int = Field(default=0, ge=0)
    lines_deleted: int = Field(default=0, ge=0)
    checks_run: list[str] = Field(default_factory=list)
    limits: dict[str, int] = Field(default_factory=dict,
                                   description="the thresholds applied (engineering policy)")
    human_reasons: list[str] = Field(default_factory=list)
    policy_digest: str = ""
    duration_s: float = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> EngineerReviewRecord:
        for item in self.findings:
            EngineerFinding.model_validate(item)
        expected = {"approve": ("approve", (0, 1)), "needs_human": ("approve", (1,)),
                    "request_changes": ("veto", (2,))}[self.decision]
        if (self.verdict, self.severity in expected[1]) != (expected[0], True):
            raise ValueError(f"decision {self.decision!r} takes verdict {expected[0]!r} at "
                             f"severity {' or '.join(map(str, expected[1]))}, not "
                             f"{self.verdict!r} at {self.severity}")
        if (self.decision == "needs_human") != bool(self.human_reasons):
            raise ValueError("human_reasons are given exactly when the decision is needs_human")
        return self

    @property
    def issues(self) -> list[EngineerFinding]:
        """The findings as models, most severe first, then by file and line."""
        found = [EngineerFinding.model_validate(item) for item in self.findings]
        return sorted(found, key=lambda f: (-f.severity, f.path or "", f.line or 0, f.rule))

    def markdown(self, *, limit: int = 20) -> str:
        """The review as a person reads it: the summary's first line, then one line per
        finding of severity 1 or more (``path:line — rule — message``)."""
        shown = [f for f in self.issues if f.severity >= Severity.WARN]
        lines = [self.summary.splitlines()[0] if self.summary else self.decision]
        if shown:
            lines.append("")
            lines += [f"- {f.markdown()}" for f in shown[:limit]]
            if len(shown) > limit:
                lines.append(f"- … and {len(shown) - limit} more (all in the findings)")
        return "\n".join(lines)


class QAMutant(_Record):
    """One mutant of a change QA's tests were run against: the change made wrong on
    purpose (its value reverted to main's, pushed out of its declared range, its sign
    flipped) in a scratch copy of the branch."""

    id: str
    kind: Literal["reverted", "out_of_range", "sign_flipped"]
    description: str
    path: str
    refused: str = Field(default="", description="why the strategy would not even be built "
                         "with the mutant (it checks its own values): no test is judged by "
                         "such a mutant")


class QATestResult(_Record):
    """One test's outcome on the head commit; ``output`` is pytest's report of a failure."""

    test: str
    outcome: Literal["passed", "failed", "error", "skipped"]
    output: str = ""


class QAKeptTest(_Record):
    """A generated test committed because it fails on at least one mutant (``kills``)."""

    test: str
    kills: list[str]


class QADiscardedTest(_Record):
    """A generated test left out: it passed on every mutant (``survived``)."""

    test: str
    survived: list[str]


class QAReviewRecord(ReviewRecord):
    """QA's review: the tests it generated for the change, how the suite did on the head
    commit in the sandbox, which mutants each kept test kills, and the changed strategy
    lines the suite ran (``head_sha`` is the commit reviewed; ``tests_commit`` the commit
    QA added on the branch with its tests, which changes only ``tests/generated/``)."""

    base_sha: str = ""
    tests_path: str | None = Field(default=None, description="the generated test file")
    tests_commit: str | None = Field(default=None, description="QA's commit of its tests")
    generated: list[str] = Field(default_factory=list, description="every test written")
    kept: list[QAKeptTest] = Field(default_factory=list)
    discarded: list[QADiscardedTest] = Field(default_factory=list)
    mutants: list[QAMutant] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict, description="collected, passed, "
                                   "failed, errors, skipped on the head commit")
    failures: list[QATestResult] = Field(default_factory=list)
    flaky: list[str] = Field(default_factory=list, description="different outcomes when "
                                                               "run twice")
    repinned: dict[str, dict[str, list[float]]] = Field(
        default_factory=dict, description="earlier generated file -> figure -> [old, new] "
                                          "for pinned figures this change moved")
    changed_lines: dict[str, list[int]] = Field(default_factory=dict)
    uncovered_lines: dict[str, list[int]] = Field(default_factory=dict)
    coverage_note: str = Field(default="", description="how coverage was measured, or why "
                                                       "it was not")
    isolation: str = ""
    duration_s: float = 0.0

    def markdown(self) -> str:
        """The review as a person reads it on the pull request."""
        c = self.counts
        lines = [self.summary, "",
                 f"Suite on `{self.head_sha[:10]}`: {c.get('passed', 0)} passed, "
                 f"{c.get('failed', 0)} failed, {c.get('errors', 0)} errors, "
                 f"{c.get('skipped', 0)} skipped."]
        if self.tests_path:
            lines.append(f"Tests written to `{self.tests_path}`"
                         + (f" (commit `{self.tests_commit[:10]}`)." if self.tests_commit
                            else " (not committed)."))
        lines += [f"- failed: `{f.test}`" for f in self.failures]
        lines += [f"- kept: `{k.test}` kills {', '.join(k.kills)}" for k in self.kept]
        lines += [f"- discarded: `{d.test}` passed every mutant ({', '.join(d.survived)})"
                  for d in self.discarded]
        lines += [f"- mutant `{m.id}` refused by the strategy itself: {m.refused}"
                  for m in self.mutants if m.refused]
        lines += [f"- flaky: `{name}`" for name in self.flaky]
        for path, missed in self.uncovered_lines.items():
            lines.append(f"- not covered: `{path}` lines {', '.join(map(str, missed))}")
        lines += [f"- re-pinned: `{path}` {name} {old:.6g} -> {new:.6g}"
                  for path, figures in self.repinned.items()
                  for name, (old, new) in figures.items()]
        if self.coverage_note:
            lines.append(f"Coverage: {self.coverage_note}")
        return "\n".join(lines)


class MergeRecord(_Record):
    merged: bool
    merge_sha: str | None = None
    needs_human: bool = False
    reasons: list[str] = Field(default_factory=list)
    superseded: list[int] = Field(default_factory=list,
                                  description="the bot's open PRs for the same task closed "
                                              "as superseded by this merge")


class ReportRecord(_Record):
    commit: str
    walkthrough: str
    plots: list[str]


class CycleSummary(_Record):
    """The final line of a cycle, for the CLI and the history table."""

    cycle_id: str
    outcome: Outcome
    task_id: str | None
    hypothesis: str | None
    pr_number: int | None
    message: str
    timings: dict[str, float]


#: The record each stage stores (the run store's ``<stage>.json`` and the ledger entry's
#: ``records.<stage>``). ``summary`` is the cycle's summary, stored with the report.
STAGE_MODELS: dict[str, type[BaseModel]] = {
    Stage.PLAN.value: PlanRecord,
    Stage.QUANT_REVIEW.value: PerformanceReview,
    Stage.HYPOTHESIS.value: Hypothesis,
    Stage.IMPLEMENT.value: Implementation,
    Stage.RISK_REVIEW.value: RiskReviewRecord,
    "engineer_review": EngineerReviewRecord,
    "qa_review": QAReviewRecord,
    Stage.MERGE.value: MergeRecord,
    Stage.DEPLOY.value: DeployRecord,
    Stage.REPORT.value: ReportRecord,
    "summary": CycleSummary,
}


_ACRONYMS = {"qa": "QA", "pm": "PM", "sre": "SRE"}


def role_title(role: str) -> str:
    """A role as people write it: ``"qa"`` -> ``"QA"``, ``"risk"`` -> ``"Risk"``; a
    reviewer of one's own (``package.module:Class``) by its class name."""
    name = role.rsplit(":", 1)[-1]
    return _ACRONYMS.get(name, name[:1].upper() + name[1:])


def review_stage(role: str) -> str:
    """The stage (and ledger key) of ``role``'s review of the branch head."""
    return f"{role}_review"


def record_model(stage: str) -> type[BaseModel]:
    """The model a stored record of ``stage`` is read with.

    A reviewer's stage (``<role>_review``) this version has no model for is read as an
    :class:`OtherReviewRecord`, so a ledger written with more reviewers stays readable.
    """
    model = STAGE_MODELS.get(stage)
    if model is None and stage.endswith("_review") and stage != Stage.QUANT_REVIEW.value:
        return OtherReviewRecord
    if model is None:
        raise KeyError(f"no record is stored under {stage!r}")
    return model
