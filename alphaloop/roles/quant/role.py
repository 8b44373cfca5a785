"""The Quant as the cycle's proposer: review ``main``, hypothesize, implement.

The Quant sees only the in-sample view it is handed (:class:`~alphaloop.roles.base.InSample`).
Its search learns from the trials earlier cycles measured (read from the ledger), reads
the tunables ``main``'s strategy declares, leaves out those the data cannot move, and
proposes the next change; see :func:`~alphaloop.roles.quant.hypothesize.choose_hypothesis`.
With a model (``--llm``), the model proposes the change instead, checked before it
reaches git (see :mod:`.proposal`).
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import NothingToDo
from alphaloop.evaluation import Evaluator
from alphaloop.forge import Forge
from alphaloop.policy import Policies, SearchSteering
from alphaloop.records import (
    Hypothesis,
    Implementation,
    PerformanceReview,
    Trial,
    read_history,
)
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles.base import (
    HypothesisSource,
    ProposalRequest,
    RoleConfig,
    RoleModel,
    RoleServices,
)
from alphaloop.roles.quant.hypothesize import choose_hypothesis
from alphaloop.roles.quant.implement import implement
from alphaloop.roles.quant.proposal import propose
from alphaloop.roles.quant.prune import data_capabilities, inert_tunables
from alphaloop.roles.quant.review import review_main
from alphaloop.roles.quant.steering import check_steering

__all__ = ["Quant", "QuantConfig"]


class QuantConfig(BaseModel):
    """The Quant's options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "quant"
    structural_every: int = Field(default=3, ge=0,
                                  description="every Nth cycle tries a code change (0: never)")
    model_attempts: int = Field(default=3, ge=1, le=10,
                                description="answers the model may give before the stage "
                                            "fails, each refused one sent back with why")


class Quant:
    """Proposes one change a cycle (a :class:`~alphaloop.roles.base.Proposer`)."""

    role = "quant"

    def __init__(self, config: QuantConfig, *, repo: GitRepo, forge: Forge,
                 evaluator: Evaluator, policies: Policies, identity: Identity,
                 model: RoleModel | None = None) -> None:
        self.config = config
        self.repo = repo
        self.forge = forge
        self.evaluator = evaluator
        self.policies = policies
        self.identity = identity
        self.model = model
        self.search: HypothesisSource = choose_hypothesis
        """Picks the next change; replace it to replay hypotheses a person wrote (it is
        called with the keyword arguments of ``choose_hypothesis``)."""

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        return cls(QuantConfig.model_validate(config.model_dump()), repo=services.repo,
                   forge=services.forge, evaluator=services.evaluator,
                   policies=services.policies, identity=services.identities[cls.role],
                   model=services.model)

    def review(self, request: ProposalRequest) -> PerformanceReview:
        risk = self.policies.risk
        return review_main(self.evaluator, request.base_sha, request.in_sample,
                           target_volatility=risk.soft_limits.target_volatility,
                           drawdown_trigger=risk.hard_limits.max_drawdown_trigger,
                           live=request.live)

    def hypothesize(self, request: ProposalRequest, review: PerformanceReview) -> Hypothesis:
        """The search's next change; it carries the full parameter vector it leads to,
        for later searches to learn from. Raises :class:`~alphaloop.errors.NothingToDo`
        when every move near ``main`` has been tried.

        Tunables whose declared requirements the data does not meet (or that act only
        with an LLM, which the sandboxed engine never has) are left out of the search, as
        are those the task or ``policies/search.toml`` excludes or pins (see
        :class:`~alphaloop.policy.SearchSteering`); a pin the strategy cannot take raises
        :class:`~alphaloop.roles.quant.steering.SteeringError`.
        """
        space = self.evaluator.param_space(request.base_sha)
        steering = (request.task.search if request.task else SearchSteering()).under(
            self.policies.search.steering())
        check_steering(steering, space, task=request.task)
        root = self.evaluator.checkout(request.base_sha)
        history = read_history(request.ledger_entries)
        trials = [*history.trials, Trial(key=f"main:{review.tree_hash}", values=space.values,
                                         reward=review.reward)]
        sources = {p.relative_to(root).as_posix(): p.read_text()
                   for p in (root / "strategy").rglob("*.py")}
        capabilities = data_capabilities(request.in_sample.data)
        if self.model is not None and self.search is choose_hypothesis:
            hypothesis = propose(
                self.model, policies=self.policies, space=space, review=review,
                task=request.task, trials=trials, tried=history.tried,
                lam=self.evaluator.settings.reward_lambda, sources=sources, base_root=root,
                pruned=inert_tunables(space, capabilities),
                attempts=self.config.model_attempts)
            values = {**space.values, **{e.name: e.new for e in hypothesis.edits}}
            return hypothesis.model_copy(update={"search": {"values": values,
                                                            "source": "model"}})
        hypothesis = self.search(
            review=review, space=space, trials=trials, tried=history.tried,
            lam=self.evaluator.settings.reward_lambda,
            structural_every=self.config.structural_every,
            cycle_number=int(request.cycle_id[1:]), sources=sources, task=request.task,
            autonomy_limit=self.policies.merge.human_approval.max_parameter_change,
            pruned=inert_tunables(space, capabilities), capabilities=capabilities,
            steering=steering)
        if hypothesis is None:
            raise NothingToDo("every move near main has been tried; widen the search")
        values = {**space.values, **{e.name: e.new for e in hypothesis.edits}}
        # whatever proposed it, the change works on the cycle's task
        task_id = hypothesis.task_id or (request.task.id if request.task else None)
        return hypothesis.model_copy(update={"search": {**hypothesis.search,
                                                        "values": values},
                                             "task_id": task_id})

    def implement(self, request: ProposalRequest, hypothesis: Hypothesis) -> Implementation:
        return implement(self.repo, self.forge, hypothesis, cycle_id=request.cycle_id,
                         base_branch=request.base_branch, base_sha=request.base_sha,
                         identity=self.identity)
