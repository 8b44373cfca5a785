"""The seam between the cycle and its roles: what a role receives and what it returns.

The cycle knows three kinds of role, each a small protocol with typed requests and
records (from :mod:`alphaloop.records`):

- a :class:`Planner` (the PM) picks the cycle's task and writes its report;
- a :class:`Proposer` (the Quant) reviews ``main``, states a hypothesis and implements
  it on a branch with a pull request; it sees an :class:`InSample` view, which holds no
  row of the held-out window, so "the proposer never sees held-out data" is a type;
- :class:`Reviewer` s (Risk; QA and the Engineer join the same way) review the branch
  head. Each review is posted on the pull request bound to that commit; the merge gate
  requires the approvals ``policies/merge.toml`` lists;
- a :class:`Deployer` (the SRE) deploys what the gate merged, judges it live and rolls it
  back when it fails.

Every role is built from a :class:`RoleConfig` (its ``type`` names the behaviour) and the
:class:`RoleServices` the cycle shares with all roles; see :mod:`alphaloop.roles.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self, TypeVar, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from alphaloop.data.panel import MarketData
from alphaloop.evaluation import Evaluator
from alphaloop.forge import Forge, PullRequest
from alphaloop.harness.windows import Fold, ResearchWindows, Window
from alphaloop.llm import LLMUsage
from alphaloop.policy import Policies
from alphaloop.records import (
    Claim,
    DeployRecord,
    Hypothesis,
    Implementation,
    LiveRecord,
    PerformanceReview,
    PlanRecord,
    ReviewRecord,
    TaskRef,
)
from alphaloop.repo import GitRepo, Identity

__all__ = [
    "DeployRequest",
    "Deployer",
    "HypothesisSource",
    "InSample",
    "PlanRequest",
    "Planner",
    "ProposalRequest",
    "Proposer",
    "ReportRequest",
    "ReviewRequest",
    "Reviewer",
    "Role",
    "RoleConfig",
    "RoleModel",
    "RoleServices",
    "forge_verdict",
]


class RoleConfig(BaseModel):
    """How to build one role: ``type`` names its behaviour (a built-in such as ``"risk"``
    or ``"package.module:Class"``); any other field is that behaviour's own option,
    checked by its ``Config`` model."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str


@dataclass(frozen=True)
class RoleServices:
    """What the cycle shares with every role it builds."""

    repo: GitRepo
    forge: Forge
    evaluator: Evaluator
    policies: Policies
    identities: Mapping[str, Identity]
    model: RoleModel | None = None
    """The model the roles think with; None (``--llm offline``): deterministic logic only."""


_Answer = TypeVar("_Answer", bound=BaseModel)


class RoleModel(Protocol):
    """A model that answers for a role: each call sends that role's charter prompt
    (:meth:`alphaloop.roles.charter.Charter.messages`) and returns the answer validated
    as ``schema``. Raises :class:`~alphaloop.llm.LLMError` when there is no usable answer."""

    name: str

    def ask(self, role: str, prompt: str, schema: type[_Answer], **values: object) -> _Answer:
        ...

    def usage(self) -> LLMUsage:
        """Tokens and cost so far, per role and in total."""
        ...


class Role(Protocol):
    """Every role: a name (used in reviews, identities and policies) and a constructor
    from its configuration."""

    role: str

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        ...


class InSample(BaseModel):
    """The data a proposer may see: the in-sample window and its walk-forward folds.

    It holds no row after the in-sample window's end (checked when built), and no
    held-out window at all.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    data: MarketData
    window: Window
    folds: tuple[Fold, ...]

    @model_validator(mode="after")
    def _ends_in_sample(self) -> InSample:
        if self.data.dates[-1] > pd.Timestamp(self.window.end):
            raise ValueError(f"in-sample data must end by {self.window.end}, not "
                             f"{self.data.dates[-1].date()}")
        return self

    @classmethod
    def of(cls, data: MarketData, windows: ResearchWindows) -> InSample:
        """The in-sample part of ``data`` under ``windows``."""
        return cls(data=data.slice(end=windows.in_sample.end), window=windows.in_sample,
                   folds=windows.folds)


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class PlanRequest(_Request):
    """What the planner decides on: the backlog, the ledger and the open pull requests."""

    cycle_id: str
    base_branch: str
    base_sha: str
    clock: date
    task_text: str
    ledger_entries: list[dict[str, Any]]
    open_prs: list[PullRequest]


class ReportRequest(_Request):
    """What the planner reports on: this cycle's records and what the cycle measured."""

    cycle_id: str
    records: dict[str, Any]
    """Stage name (and ``"summary"``) -> the record as JSON."""
    ledger_entries: list[dict[str, Any]]
    task_text: str
    open_prs: list[PullRequest]
    data: MarketData
    windows: ResearchWindows
    created: datetime


class ProposalRequest(_Request):
    """What the proposer works from; it holds no held-out data."""

    cycle_id: str
    base_branch: str
    base_sha: str
    task: TaskRef | None
    in_sample: InSample
    ledger_entries: list[dict[str, Any]]
    live: LiveRecord | None = None
    """What the running deployment did over its last live period, if it traded any."""


class ReviewRequest(_Request):
    """One branch head to review against its base."""

    base_sha: str
    head_sha: str
    worktree: Path
    data: MarketData
    windows: ResearchWindows
    ledger_entries: list[dict[str, Any]]
    claim: Claim | None = None
    """What the change claims to move (its hypothesis's claim); None: the reward, up."""
    hypothesis: Hypothesis | None = None
    pr_number: int | None = None


class DeployRequest(_Request):
    """A merged commit to deploy, and the market around the clock.

    ``research`` is the data the cycle researched on (up to the clock); ``market`` is all
    the data there is, whose bars after the clock the deployment trades live.
    """

    cycle_id: str | None
    base_branch: str
    commit: str
    """The commit to deploy: the tip of the base branch the gate merged into."""
    merge_commit: str | None = None
    """The gate's merge commit, reverted on ``base_branch`` if the deployment fails."""
    clock: date
    research: MarketData
    market: MarketData
    windows: ResearchWindows
    reason: str = ""


@runtime_checkable
class Planner(Protocol):
    role: str

    def plan(self, request: PlanRequest) -> tuple[PlanRecord, str]:
        """The plan, and ``task.md`` as the plan leaves it."""
        ...

    def report(self, request: ReportRequest) -> dict[str, bytes]:
        """The files the cycle commits (path -> content): ``task.md``, the walkthrough,
        plots."""
        ...


@runtime_checkable
class Proposer(Protocol):
    role: str

    def review(self, request: ProposalRequest) -> PerformanceReview:
        """How ``main`` does in-sample, and what to look at."""
        ...

    def hypothesize(self, request: ProposalRequest, review: PerformanceReview) -> Hypothesis:
        """The next change to try; raises :class:`~alphaloop.errors.NothingToDo` when
        nothing untried is left."""
        ...

    def implement(self, request: ProposalRequest, hypothesis: Hypothesis) -> Implementation:
        """The change committed on its branch, with its pull request open."""
        ...


@runtime_checkable
class Reviewer(Protocol):
    role: str
    record_type: ClassVar[type[ReviewRecord]]

    def review_change(self, request: ReviewRequest) -> ReviewRecord:
        ...


@runtime_checkable
class Deployer(Protocol):
    role: str

    def deploy(self, request: DeployRequest) -> DeployRecord:
        """Deploy ``request.commit``, run it live over the bars after the clock, grade it,
        and roll it back if it fails; every step lands in the deployment ledger."""
        ...


HypothesisSource = Callable[..., Hypothesis | None]


def forge_verdict(result: ReviewRecord) -> Literal["approve", "request_changes", "veto"]:
    """The forge's verdict for a review: severity 3 vetoes, 2 requests changes."""
    if result.verdict == "approve":
        return "approve"
    return "veto" if result.severity >= 3 else "request_changes"
