"""The Risk review: deterministic gates first, then sandboxed backtests; Risk can veto.

Order, as in DESIGN.md: path ownership, ruff, bandit and the AST policy over the change
(any block stops the review before strategy code runs); the declared parameter space;
then the branch's strategy in the sandbox: in-sample, held-out and the stress scenarios,
each against ``main``. The hard limits are checked on every decision of every one of
those windows; the Risk-MAS portfolio checks grade the holdings; the paired improvement
test asks whether the change does what its hypothesis claims without harming the reward
(:mod:`.improvement`); PBO over distinct configurations guards against selection noise
(:mod:`.overfit`). Severity 3 vetoes, 2 requests changes, 0-1 approve. Only Risk reads
the held-out window, and every read is counted. With a model, its second opinion
(:mod:`.opinion`) is asked last and may only add findings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np

from alphaloop.checks import check_change
from alphaloop.checks.findings import Finding, Severity, max_severity
from alphaloop.contract import ContractError
from alphaloop.data.panel import MarketData
from alphaloop.data.stress import Scenario, skipped_crises, stress_scenarios
from alphaloop.errors import InfrastructureFailure
from alphaloop.evaluation import Evaluator, fold_scores
from alphaloop.evaluation.holdout import reads_outside_cycles
from alphaloop.evaluation.tunables import TUNABLES_PATH
from alphaloop.harness import BacktestResult, Window
from alphaloop.harness.errors import HarnessError
from alphaloop.harness.metrics import sharpe_ratio
from alphaloop.harness.windows import ResearchWindows
from alphaloop.keys import bot_key
from alphaloop.policy import Policies, policies_digest
from alphaloop.records import Claim, FoldScore, Hypothesis, RiskReviewRecord, RunMetrics
from alphaloop.records.history import TrialHistory, read_history
from alphaloop.repo import Identity
from alphaloop.roles.base import ReviewRequest, RoleConfig, RoleModel, RoleServices
from alphaloop.roles.risk.improvement import improvement_findings
from alphaloop.roles.risk.limits import (
    decisions_identical,
    drawdown_finding,
    exposure_profile,
    hard_limit_findings,
)
from alphaloop.roles.risk.lookahead import lookahead_findings, lookahead_seed, probe_runs
from alphaloop.roles.risk.opinion import model_findings
from alphaloop.roles.risk.overfit import overfitting_findings
from alphaloop.roles.risk.portfolio import one_liquidity_warning, portfolio_findings
from alphaloop.roles.risk.trials import distinct_trials
from alphaloop.sandbox import SandboxError

__all__ = ["HOLDOUT_READS_WARNING", "RiskOfficer", "TrialHistory"]

#: After this many reads the held-out window is reported as worn out.
HOLDOUT_READS_WARNING = 20


class RiskOfficer:
    """Runs the Risk review of one branch head against its base (a ``Reviewer``)."""

    role = "risk"
    record_type = RiskReviewRecord

    def __init__(self, policies: Policies, evaluator: Evaluator,
                 identities: Mapping[str, Identity] | None = None,
                 model: RoleModel | None = None) -> None:
        self.policies = policies
        self.evaluator = evaluator
        self.model = model
        self.roles_by_email = {i.email.lower(): role for role, i in (identities or {}).items()}
        """Each role's commit address -> the role: a path is checked against the paths of
        the role whose commit changed it (QA's tests against QA's)."""

    @classmethod
    def from_config(cls, config: RoleConfig, services: RoleServices) -> Self:
        extra = sorted(set(config.model_dump()) - {"type"})
        if extra:
            raise ValueError(f"Risk takes no options (got {', '.join(extra)}); its limits "
                             "are policies/risk.toml")
        return cls(services.policies, services.evaluator, services.identities,
                   model=services.model)

    def review_change(self, request: ReviewRequest) -> RiskReviewRecord:
        history = read_history(request.ledger_entries).risk
        # reads of the held-out window made outside cycles (alphaloop backtest) count too
        outside = reads_outside_cycles(
            self.evaluator.repo.alphaloop_dir, request.ledger_entries,
            data_source=request.data.source, start=request.windows.holdout.start,
            end=request.windows.holdout.end)
        history = history.model_copy(update={"holdout_reads": history.holdout_reads + outside})
        return self.review(base_sha=request.base_sha, head_sha=request.head_sha,
                           worktree=request.worktree, data=request.data,
                           windows=request.windows, history=history,
                           claim=request.claim or Claim(), entries=request.ledger_entries,
                           hypothesis=request.hypothesis)

    def review(self, *, base_sha: str, head_sha: str, worktree: Path, data: MarketData,
               windows: ResearchWindows, history: TrialHistory, claim: Claim | None = None,
               entries: list[dict[str, Any]] | None = None,
               hypothesis: Hypothesis | None = None) -> RiskReviewRecord:
        started = time.monotonic()
        report = check_change(worktree, base_sha, head_sha, "quant", self.policies,
                              roles_by_email=self.roles_by_email)
        findings: list[Finding] = list(report.findings)
        record = RiskReviewRecord(
            verdict="approve", severity=0, summary="", findings=[], head_sha=head_sha,
            isolation=self.evaluator.sandbox.isolation.describe(),
            policy_digest=policies_digest(self.policies))
        if max_severity(findings) >= Severity.BLOCK:
            return self._close(record, findings, started,
                               note="deterministic gates blocked the change; its code was "
                                    "not run")
        try:
            with self.evaluator.sandbox.budget(self.policies.risk.process.review_wall_seconds):
                findings += self._param_space(head_sha)
                metrics = self._backtests(record, base_sha, head_sha, data, windows, history,
                                          findings, claim=claim or Claim(),
                                          entries=entries or [])
                findings += lookahead_findings(
                    self.evaluator, head_sha, data.slice(end=windows.in_sample.end),
                    windows.in_sample, self.policies.risk.lookahead,
                    seed=self._lookahead_seed(head_sha, data))
        except InfrastructureFailure:
            raise  # the machine failed, not the change: the cycle stops, resumable
        except (SandboxError, HarnessError, ContractError) as exc:
            findings.append(Finding(check="sandbox.strategy", severity=Severity.BLOCK,
                                    message=f"{type(exc).__name__}: {exc}"))
            return self._close(record, findings, started, note="the strategy failed")
        if self.model is not None:  # it may add findings, never remove one
            findings += model_findings(self.model, repo=self.evaluator.repo,
                                       base_sha=base_sha, head_sha=head_sha,
                                       hypothesis=hypothesis, findings=findings,
                                       record=metrics, policies=self.policies)
        return self._close(metrics, findings, started, note="")

    def _lookahead_seed(self, head_sha: str, data: MarketData) -> int:
        return lookahead_seed(bot_key(), self.evaluator.strategy_tree(head_sha),
                              data.content_hash())

    # -- stages -----------------------------------------------------------------------------
    def _param_space(self, head_sha: str) -> list[Finding]:
        space = self.evaluator.param_space(head_sha)
        findings = []
        for name, value in space.values.items():
            spec = space.specs[name]
            outside = (value not in spec.choices if spec.kind == "choice" else
                       not (spec.low is not None and spec.high is not None
                            and spec.low <= float(value) <= spec.high))
            if outside:
                findings.append(Finding(
                    check="params.range", severity=Severity.BLOCK, path=TUNABLES_PATH,
                    message=f"tunable {name} = {value!r} is outside its declared space "
                            f"({spec.choices or (spec.low, spec.high)})"))
        return findings

    def _backtests(self, record: RiskReviewRecord, base_sha: str, head_sha: str,
                   data: MarketData, windows: ResearchWindows, history: TrialHistory,
                   findings: list[Finding], *, claim: Claim,
                   entries: list[dict[str, Any]]) -> RiskReviewRecord:
        ev, policy = self.evaluator, self.policies.risk
        in_sample_data = data.slice(end=windows.in_sample.end)
        panels = {"in_sample": (in_sample_data, windows.in_sample),
                  "holdout": (data, windows.holdout)}
        scenarios = stress_scenarios(in_sample_data)
        probes = probe_runs(in_sample_data, windows.in_sample, policy.lookahead,
                            frequency=ev.settings.frequency,
                            seed=self._lookahead_seed(head_sha, data))
        # the backtests below and the look-ahead probes are independent: run them in
        # parallel into the cache first
        ev.prefetch([(sha, panel, window) for sha in (head_sha, base_sha)
                     for panel, window in [*panels.values(),
                                           *((s.panel, _stress_window(s)) for s in scenarios)]],
                    fresh=[(head_sha, panel, window) for _, panel, window in probes])
        runs: dict[str, dict[str, BacktestResult]] = {"branch": {}, "main": {}}
        for who, sha in (("branch", head_sha), ("main", base_sha)):
            for label, (panel, window) in panels.items():
                runs[who][label] = ev.backtest(sha, panel, window)
        branch = {k: ev.metrics(r, k) for k, r in runs["branch"].items()}
        main = {k: ev.metrics(r, k) for k, r in runs["main"].items()}
        lam = ev.settings.reward_lambda
        branch_folds = fold_scores(runs["branch"]["in_sample"], windows.folds, lam)
        main_folds = fold_scores(runs["main"]["in_sample"], windows.folds, lam)
        checked: list[Finding] = []
        for label, (panel, _) in panels.items():
            checked += portfolio_findings(runs["branch"][label], panel, policy,
                                          label=label.replace("_", "-"))
        findings += one_liquidity_warning(checked)
        identical = {label.replace("_", "-"): decisions_identical(runs["branch"][label],
                                                                  runs["main"][label])
                     for label in panels}
        stress = self._stress(base_sha, head_sha, in_sample_data, scenarios, findings,
                              identical)
        exposures = {who: exposure_profile([(runs[who][k], panels[k][0]) for k in panels])
                     for who in ("branch", "main")}
        findings.append(Finding(
            check="risk.exposures", severity=Severity.PASS,
            message=f"peak decided gross risky exposure {exposures['branch']['gross']:.4g} "
                    f"(main {exposures['main']['gross']:.4g}) over in-sample and held-out; "
                    "evidence holds each asset class's peak weight",
            evidence=exposures))
        findings.append(drawdown_finding(branch, main, policy.hard_limits.max_drawdown_trigger))
        base_tree, head_tree = ev.strategy_tree(base_sha), ev.strategy_tree(head_sha)
        n_distinct = distinct_trials(entries, base_tree=base_tree, head_tree=head_tree)
        improvement = improvement_findings(
            claim=claim, identical=identical, branch=runs["branch"], main=runs["main"],
            folds=windows.folds, reward_lambda=lam, tests=policy.improvement,
            n_trials=n_distinct)
        findings += improvement.findings
        branch_returns = np.asarray(runs["branch"]["in_sample"].returns)
        trial_returns = [np.asarray(runs["main"]["in_sample"].returns), branch_returns]
        for sha in history.trial_shas:
            if sha not in (base_sha, head_sha) and ev.is_cached(sha, in_sample_data,
                                                                windows.in_sample):
                trial_returns.append(ev.returns_of(sha, in_sample_data, windows.in_sample))
        trial_returns = [r for r in trial_returns if len(r) == len(branch_returns)]
        sharpes = [*history.trial_sharpes,
                   float(sharpe_ratio(branch_returns, periods_per_year=1))]
        overfit = overfitting_findings(branch_returns, sharpes, trial_returns,
                                       guards=policy.overfitting)
        findings += overfit.findings
        reads = history.holdout_reads + 1
        findings.append(Finding(
            check="holdout.reads",
            severity=Severity.WARN if reads >= HOLDOUT_READS_WARNING else Severity.PASS,
            message=f"the held-out window has been consulted {reads} time(s)"
                    + ("; it is no longer truly out of sample, advance the clock"
                       if reads >= HOLDOUT_READS_WARNING else ""),
            evidence={"reads": reads}))
        return record.model_copy(update={
            "branch_metrics": {**branch, "walk_forward": _fold_metrics(branch_folds, branch)},
            "main_metrics": {**main, "walk_forward": _fold_metrics(main_folds, main)},
            "stress": stress, "deflated_sharpe": overfit.deflated_sharpe, "pbo": overfit.pbo,
            "n_trials": overfit.n_trials, "holdout_reads": reads, "claim": claim,
            "identical_to_main": all(identical.values()),
            "walk_forward_test": improvement.walk_forward, "holdout_test": improvement.holdout,
            "distinct_trials": n_distinct, "pbo_trials": overfit.pbo_trials,
            "base_tree": base_tree, "head_tree": head_tree, "exposures": exposures})

    def _stress(self, base_sha: str, head_sha: str, data: MarketData,
                scenarios: list[Scenario], findings: list[Finding],
                identical: dict[str, bool]) -> dict[str, RunMetrics]:
        limits = self.policies.risk.stress
        out: dict[str, RunMetrics] = {}
        for scenario in scenarios:  # real crises covered, then synthetic
            name = scenario.name
            out[name] = self._scenario(name, scenario.panel, _stress_window(scenario),
                                       base_sha, head_sha, findings, identical,
                                       limits.limit_for(name))
        skipped = skipped_crises(data)
        if skipped:
            findings.append(Finding(
                check="stress.real", severity=Severity.PASS,
                message="real crisis windows not replayed: " + "; ".join(
                    f"{name} ({reason})" for name, reason in skipped.items()),
                evidence=skipped))
        return out

    def _scenario(self, name: str, panel: MarketData, window: Window, base_sha: str,
                  head_sha: str, findings: list[Finding], identical: dict[str, bool],
                  limit: float) -> RunMetrics:
        """One stress scenario: hard limits on every decision, drawdown against main's."""
        ev = self.evaluator
        branch_run, main_run = ev.backtest(head_sha, panel, window), ev.backtest(base_sha,
                                                                                 panel, window)
        branch, main = ev.metrics(branch_run, name), ev.metrics(main_run, name)
        identical[f"stress {name}"] = decisions_identical(branch_run, main_run)
        findings += hard_limit_findings(branch_run, panel, self.policies.risk,
                                        label=f"stress {name}", main=main_run)
        if branch.max_drawdown > limit and branch.max_drawdown > main.max_drawdown + 0.01:
            findings.append(Finding(
                check=f"stress.{name}", severity=Severity.BLOCK,
                message=f"in the {name} scenario the branch draws down "
                        f"{branch.max_drawdown:.2%}, above the {limit:.0%} limit and worse "
                        f"than main's {main.max_drawdown:.2%}",
                evidence={"branch": branch.max_drawdown, "main": main.max_drawdown}))
        elif branch.max_drawdown > limit:
            findings.append(Finding(
                check=f"stress.{name}", severity=Severity.WARN,
                message=f"in the {name} scenario the branch draws down "
                        f"{branch.max_drawdown:.2%}, above the {limit:.0%} limit; main "
                        f"does too ({main.max_drawdown:.2%}), so the change is no worse",
                evidence={"branch": branch.max_drawdown, "main": main.max_drawdown}))
        return branch

    def _close(self, record: RiskReviewRecord, findings: list[Finding], started: float, *,
               note: str) -> RiskReviewRecord:
        severity = int(max_severity(findings))
        verdict = "veto" if severity >= Severity.RESTRICT else "approve"
        worst = [f.message for f in findings if f.severity == severity and severity > 0][:3]
        summary = ("approved" if verdict == "approve" else
                   "vetoed (block)" if severity == 3 else "vetoed (changes requested)")
        summary += f": {'; '.join(worst)}" if worst else ""
        summary += f" ({note})" if note else ""
        return record.model_copy(update={
            "verdict": verdict, "severity": severity, "summary": summary,
            "findings": [f.model_dump(mode="json") for f in findings],
            "duration_s": time.monotonic() - started})


def _stress_window(scenario: Scenario) -> Window:
    span = scenario.window
    return Window(start=span.start, end=span.end, label=f"stress-{scenario.name}")


def _fold_metrics(folds: list[FoldScore], full: dict[str, RunMetrics]) -> RunMetrics:
    """Walk-forward summary in the shape of a run (means over the test folds)."""
    base = full["in_sample"]
    if not folds:
        return base.model_copy(update={"label": "walk_forward"})
    return base.model_copy(update={
        "label": "walk_forward",
        "sharpe": float(np.mean([f.sharpe for f in folds])),
        "max_drawdown": float(np.max([f.max_drawdown for f in folds])),
        "reward": float(np.mean([f.reward for f in folds]))})
