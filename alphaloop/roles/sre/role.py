"""The SRE: deploys what the gate merged, watches it live, rolls it back on its own.

After a merge the SRE packages the merged commit (:func:`~alphaloop.deploy.prepare_target`),
runs it as the paper-trading service on the next ``live_days`` bars after the clock,
grades it with the canary (:func:`~alphaloop.deploy.judge`) and records the deployment in
the deployment ledger, whose last live bar becomes the clock of the next cycle. A failed
deployment is rolled back at once: every change to ``strategy/`` since the last good
deployment is reverted on the base branch through the forge (a ``rollback`` pull request
that says why), the last good commit is deployed again and checked, and the incident is
recorded. A rollback that cannot be done (no earlier code ran, or the good commit fails
its check) halts deployments and leaves the rest to a person.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from alphaloop.data.panel import MarketData
from alphaloop.deploy import (
    DeployError,
    DeploymentLedger,
    DeployTarget,
    RollbackFailed,
    halt,
    judge,
    live_window,
    prepare_target,
    read_halt,
    run_service,
)
from alphaloop.deploy.ledger import fold
from alphaloop.errors import Failure
from alphaloop.harness import BacktestResult, Window
from alphaloop.records import CanaryCheck, CanaryVerdict, DeploymentEvent, DeployRecord
from alphaloop.repo import GitError, Identity
from alphaloop.roles.base import DeployRequest, RoleConfig, RoleServices

__all__ = ["SRE", "SREConfig"]

#: Bars before the clock a redeployed commit is checked on.
_HEALTH_BARS = 5


class SREConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "sre"


class SRE:
    """The :class:`~alphaloop.roles.base.Deployer` of the team."""

    role = "sre"

    def __init__(self, services: RoleServices) -> None:
        self.repo = services.repo
        self.forge = services.forge
        self.evaluator = services.evaluator
        self.policies = services.policies
        self.identity: Identity = services.identities.get(
            "sre", Identity(name="AlphaLoop SRE", email="sre@alphaloop.local"))

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        SREConfig.model_validate(config.model_dump())
        return cls(services)

    def ledger(self, branch: str) -> DeploymentLedger:
        return DeploymentLedger(self.repo, branch)

    # -- deploy -------------------------------------------------------------------------
    def deploy(self, request: DeployRequest) -> DeployRecord:
        ledger = self.ledger(request.base_branch)
        events = ledger.events()
        done = _recorded(events, request)
        if done is not None:  # a resumed cycle: this deployment is already in the ledger
            record, event = done
            if (record.grade == "failed" and not record.rolled_back and not record.halted
                    and self.policies.deploy.rollback.automatic):
                # killed between the failed deployment and its rollback: finish it (a
                # revert that already landed is found by its trailer, not made twice)
                return self._roll_back_failed(ledger, event, request, record)
            return record
        state = fold(events)
        if state.halted:
            return DeployRecord(deployed=False, commit=request.commit, halted=True,
                                message=f"not deployed: deployments are halted "
                                        f"({state.halt.reason if state.halt else ''})")
        try:
            target = prepare_target(self.evaluator, request.commit, request.cycle_id)
        except (DeployError, Failure) as error:
            return DeployRecord(deployed=False, commit=request.commit,
                                message=f"{error} {request.base_branch} is unchanged; what "
                                        "ran before keeps running.")
        window = live_window(request.market, request.clock,
                             self.policies.deploy.deploy.live_days)
        if window is None:
            return self._pending(ledger, request, target)
        with tempfile.TemporaryDirectory(prefix="alphaloop-service-") as scratch:
            run = run_service(target.sandbox, target.checkout, Path(scratch), request.market,
                              window, self.evaluator.settings,
                              max_gap=self.policies.deploy.canary.max_heartbeat_gap_seconds,
                              halted=lambda: read_halt(self.repo.alphaloop_dir))
        # the trusted reference only for a service that ran through: a hung or crashed
        # strategy fails the canary on its errors, and would only hang or crash again
        reference = None if run.errors else self._backtest(request.commit, request.market,
                                                          window)
        live, verdict = judge(
            run, data=request.market, reference=reference,
            promise=self._promise(request), risk=self.policies.risk,
            policy=self.policies.deploy.canary,
            reward_lambda=self.evaluator.settings.reward_lambda, backend=target.backend)
        event = ledger.append(
            self.identity, _subject(request, f"canary {verdict.grade}"),
            kind="deploy", decided_by="sre", reason=request.reason, commit=request.commit,
            image=target.image, backend=target.backend, cycle_id=request.cycle_id,
            clock_before=request.clock, clock_after=window.end, live=live, canary=verdict)
        record = DeployRecord(
            deployed=True, commit=request.commit, events=[event.id], grade=verdict.grade,
            clock_before=request.clock, clock_after=window.end, live=live, canary=verdict,
            message=_summary(event, target))
        if verdict.grade == "failed" and self.policies.deploy.rollback.automatic:
            return self._roll_back_failed(ledger, event, request, record)
        return record

    def _pending(self, ledger: DeploymentLedger, request: DeployRequest,
                 target: DeployTarget) -> DeployRecord:
        verdict = CanaryVerdict(grade="pending", checks=[CanaryCheck(
            name="bars", status="inconclusive",
            message=f"no bar after the clock ({request.clock}) yet: the canary judges this "
                    "deployment when the next bars arrive")])
        event = ledger.append(
            self.identity, _subject(request, "waiting for live bars"),
            kind="deploy", decided_by="sre", reason=request.reason, commit=request.commit,
            image=target.image, backend=target.backend, cycle_id=request.cycle_id,
            clock_before=request.clock, canary=verdict)
        return DeployRecord(deployed=True, commit=request.commit, events=[event.id],
                            grade="pending", clock_before=request.clock,
                            clock_after=request.clock, canary=verdict,
                            message=_summary(event, target))

    def _backtest(self, commit: str, data: MarketData, window: Window) -> BacktestResult | None:
        """The trusted backtest of ``commit`` over ``window``; None if it cannot run (the
        service's own errors then speak for it)."""
        try:
            return self.evaluator.backtest(commit, data, window)
        except Failure:
            return None

    def _promise(self, request: DeployRequest) -> np.ndarray | None:
        """The in-sample returns the merged commit was judged on."""
        result = self._backtest(request.commit, request.research, request.windows.in_sample)
        return None if result is None else np.asarray(result.returns)

    # -- rollback -----------------------------------------------------------------------
    def _roll_back_failed(self, ledger: DeploymentLedger, failed: DeploymentEvent,
                          request: DeployRequest, record: DeployRecord) -> DeployRecord:
        reasons = "; ".join(failed.canary.reasons) if failed.canary else "canary failed"
        try:
            event = self.rollback(request.base_branch, request.market,
                                  reason=f"canary failed: {reasons}", decided_by="sre",
                                  failed=failed)
        except RollbackFailed as error:
            halt = self.halt(request.base_branch, reason=str(error), decided_by="sre",
                             cycle_id=request.cycle_id)
            return record.model_copy(update={
                "halted": True, "events": [*record.events, halt.id],
                "message": f"{record.message}; the rollback failed and deployments are "
                           f"halted for a human: {error}"})
        undone = ", ".join(c[:10] for c in event.reverted) or "nothing"
        return record.model_copy(update={
            "rolled_back": True, "events": [*record.events, event.id],
            "message": f"{record.message}; rolled back to {(event.commit or '?')[:10]} "
                       f"(reverted {undone})"})

    def rollback(self, base_branch: str, market: MarketData, *, reason: str, decided_by: str,
                 to: str | None = None, failed: DeploymentEvent | None = None,
                 identity: Identity | None = None) -> DeploymentEvent:
        """Revert every code change since the good commit, deploy the good commit again
        and record it. The good commit is ``to``, else the last good deployment, else the
        parent of the failed one. The redeployed commit is checked on the last bars of
        ``market`` before the clock. :class:`RollbackFailed` when any step fails."""
        ledger = self.ledger(base_branch)
        events = ledger.events()
        state = fold(events)
        current = failed or state.current
        if current is None or current.commit is None:
            raise DeployError("nothing is deployed, so there is nothing to roll back; "
                              "`alphaloop status` shows the deployment history")
        tip = self.repo.branch_sha(base_branch)
        if tip is None:
            raise DeployError(f"there is no branch {base_branch!r}")
        try:
            good = self._good_commit(events, current, to)
            # the good commit must run before main is touched: a failed rollback leaves
            # main as it was
            target = prepare_target(self.evaluator, good, None)
            self._health_check(target, market, state.clock or current.clock_before)
            reverted, revert_commit = self._revert_since(base_branch, good, current.commit,
                                                         reason)
        except (GitError, Failure) as error:
            if isinstance(error, RollbackFailed):
                raise
            raise RollbackFailed(f"the rollback of {current.commit[:10]} failed: {error}. "
                                 f"Check `git log {base_branch}` and `alphaloop status`"
                                 ) from None
        return ledger.append(
            identity or self.identity, f"roll back to {good[:10]}: {reason}"[:300],
            kind="rollback", decided_by=decided_by, reason=reason, commit=good,
            image=target.image, backend=target.backend, cycle_id=current.cycle_id,
            clock_before=state.clock, reverted=reverted, revert_commit=revert_commit)

    def _good_commit(self, events: list[DeploymentEvent], current: DeploymentEvent,
                     to: str | None) -> str:
        """``to``; else the newest deployment the canary did not fail or question whose
        strategy differs from the failing one (the same code is no refuge, whatever its
        grade was before the bad bars came); else, when the failing commit itself changed
        ``strategy/``, its parent. Otherwise the code that failed is the code that has
        been running, and there is nothing to return to: :class:`RollbackFailed`."""
        assert current.commit is not None
        bad_tree = self._strategy(current.commit)
        if to is not None:
            good = self.repo.rev_parse(to)
        else:
            good = next((e.commit for e in reversed(events)
                         if e.kind in ("deploy", "rollback") and e.commit
                         and (e.canary is None or e.canary.grade in ("successful", "pending"))
                         and self._strategy(e.commit) != bad_tree), None)
            if good is None:
                parents = self.repo.git("rev-list", "--parents", "-n", "1",
                                        current.commit).text.split()[1:]
                parent = parents[0] if parents else None
                if parent is None or self._strategy(parent) == bad_tree:
                    raise RollbackFailed(
                        f"strategy/ of {current.commit[:10]} is what has been running; no "
                        "earlier deployment ran other code, so there is nothing to roll "
                        "back to (the market, not a change, moved). A person decides")
                good = parent
        if not self.repo.is_ancestor(good, current.commit):
            raise RollbackFailed(f"{good[:10]} is not an ancestor of the deployed "
                                 f"{current.commit[:10]}; roll back to a commit before it")
        if self._strategy(good) == bad_tree:
            raise RollbackFailed(f"{good[:10]} runs the same strategy/ as the failing "
                                 f"{current.commit[:10]}; rolling back to it changes nothing")
        return good

    def _strategy(self, commit: str) -> str:
        return self.repo.tree_hash(commit, "strategy")

    def _revert_since(self, branch: str, good: str, bad: str,
                      reason: str) -> tuple[list[str], str | None]:
        """Revert, newest first, each first-parent commit after ``good`` up to ``bad``
        that changed ``strategy/`` (the deployed code; nothing else is touched); return
        them and the last revert commit."""
        commits = self.repo.git("rev-list", "--first-parent", f"{good}..{bad}", "--",
                                "strategy").lines()
        last: str | None = None
        for commit in commits:
            subject = self.repo.git("log", "-1", "--format=%s", commit).text
            message = (f"Revert \"{subject}\"\n\nRolled back by the SRE: {reason}\n\n"
                       f"This reverts commit {commit}.")
            last = self.forge.revert(commit, base_branch=branch, message=message,
                                     identity=self.identity)
        return commits, last

    def _health_check(self, target: DeployTarget, data: MarketData,
                      clock: date | None) -> None:
        """The redeployed commit must start and answer on the last bars before the clock."""
        last = len(data.dates) - 1
        if clock is not None:
            last = int(data.dates.searchsorted(pd.Timestamp(clock), side="right")) - 1
        first = max(0, last - _HEALTH_BARS + 1)
        window = Window(start=data.dates[first].date(), end=data.dates[last].date(),
                        label="health check")
        with tempfile.TemporaryDirectory(prefix="alphaloop-service-") as scratch:
            run = run_service(target.sandbox, target.checkout, Path(scratch), data, window,
                              self.evaluator.settings,
                              max_gap=self.policies.deploy.canary.max_heartbeat_gap_seconds)
        if run.errors:
            raise RollbackFailed(f"the redeployed {target.describe()} failed its health "
                                 f"check: {'; '.join(run.errors)}")

    # -- halt -------------------------------------------------------------------------
    def halt(self, base_branch: str, *, reason: str, decided_by: str,
             cycle_id: str | None = None) -> DeploymentEvent:
        """Stop the running service and refuse every cycle and deploy until a person
        resumes (:func:`alphaloop.deploy.halt`)."""
        return halt(self.repo, base_branch, reason=reason, decided_by=decided_by,
                    identity=self.identity, cycle_id=cycle_id)


def _recorded(events: list[DeploymentEvent], request: DeployRequest
              ) -> tuple[DeployRecord, DeploymentEvent] | None:
    """The deploy stage's record rebuilt from the ledger, and the deploy event, if this
    cycle already deployed."""
    if request.cycle_id is None:
        return None
    mine = [e for e in events if e.cycle_id == request.cycle_id]
    deploy = next((e for e in mine if e.kind == "deploy" and e.commit == request.commit), None)
    if deploy is None:
        return None
    rolled = any(e.kind == "rollback" for e in mine)
    halted = any(e.kind == "halt" for e in mine)
    grade = deploy.canary.grade if deploy.canary else None
    return DeployRecord(deployed=True, commit=deploy.commit, events=[e.id for e in mine],
                        grade=grade, rolled_back=rolled, halted=halted,
                        clock_before=deploy.clock_before,
                        clock_after=deploy.clock_after or deploy.clock_before,
                        live=deploy.live, canary=deploy.canary,
                        message=f"deployed {request.commit[:10]} ({deploy.id}), canary "
                                f"{grade}" + ("; rolled back" if rolled else "")
                                + ("; deployments halted" if halted else "")), deploy


def _subject(request: DeployRequest, what: str) -> str:
    """The deployment commit's message: a cycle's deploy is named by its cycle (the same
    whichever run made it), a deploy by hand by its commit."""
    who = f"{request.cycle_id}: deploy" if request.cycle_id else \
        f"deploy {request.commit[:10]}"
    return f"{who}: {what}\n\nDeployed commit: {request.commit}"


def _summary(event: DeploymentEvent, target: DeployTarget) -> str:
    grade = event.canary.grade if event.canary else "pending"
    text = f"deployed {target.describe()} as {event.id}, canary {grade}"
    if event.canary is not None and event.canary.reasons and grade != "successful":
        text += ": " + "; ".join(event.canary.reasons)
    return text
