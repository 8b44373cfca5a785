"""The merge question: does the change do what it claims, without harming the reward?

Given the branch's and ``main``'s runs, Risk tests the hypothesis's claim
(:class:`~alphaloop.records.Claim`) with the paired bootstrap of
:mod:`alphaloop.harness.compare`:

- over the walk-forward test folds (sliced from the in-sample runs), the claimed metric
  must be superior beyond its minimum effect at the policy's confidence, Sidak-deflated
  by the distinct trials against this ``main``; when the claim is not the reward, the
  reward must be non-inferior within its margin at that confidence;
- on the held-out window the reward must be non-inferior within ``holdout_margin`` (the
  window confirms, it does not select); a change that decides exactly as ``main`` there
  acts only on history the Quant saw, and its gain cannot be confirmed;
- a branch whose decisions equal ``main``'s on every window Risk ran is ``main``: a
  "no effect" claim then holds, any other claim is not met; a "no effect" claim with
  different decisions is not met either.

Claim failures request changes (severity 2); a held-out reward worse beyond the margin
blocks (severity 3). Every finding quotes estimate, interval, p-value and trial count.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from alphaloop.checks.findings import Finding, Severity
from alphaloop.harness import BacktestResult
from alphaloop.harness.compare import PairedComparison, compare_paired
from alphaloop.harness.windows import Fold
from alphaloop.policy.risk import ImprovementTests
from alphaloop.records import Claim
from alphaloop.roles.risk._format import beside

__all__ = ["ImprovementResult", "fold_series", "improvement_findings"]


class ImprovementResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: list[Finding]
    walk_forward: PairedComparison
    holdout: PairedComparison


def fold_series(result: BacktestResult, folds: tuple[Fold, ...]) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Daily returns and turnover of ``result`` on the walk-forward test days, in order
    (the whole run when there are no folds)."""
    returns, turnover = np.asarray(result.returns), np.asarray(result.turnover)
    if not folds:
        return returns, turnover
    dates = pd.DatetimeIndex(pd.to_datetime(list(result.dates)))
    mask = np.zeros(len(dates), dtype=bool)
    for fold in folds:
        mask |= (dates >= pd.Timestamp(fold.test.start)) & (dates <= pd.Timestamp(fold.test.end))
    return returns[mask], turnover[mask]


def _evidence(comparison: PairedComparison, metric: str) -> dict[str, object]:
    m = comparison.metric(metric)
    return {"window": comparison.window, "metric": metric, "estimate": m.estimate,
            "ci_low": m.ci_low, "ci_high": m.ci_high, "p_superior": m.p_superior,
            "p_noninferior": m.p_noninferior, "min_effect": m.min_effect,
            "margin": m.margin, "confidence": comparison.confidence,
            "n_trials": comparison.n_trials, "n_days": comparison.n_days,
            "block_length": comparison.block_length,
            "n_resamples": comparison.n_resamples, "seed": comparison.seed}


def _claim_finding(claim: Claim, wf: PairedComparison) -> Finding:
    metric = str(claim.metric)
    m = wf.metric(metric)
    way = "up" if m.higher_is_better else "down"
    effect = f"beyond {m.min_effect:g}" if m.min_effect else "beyond 0"
    stats = f"{m.text('superior')}; {wf.describe()}"
    if m.superior:
        return Finding(check="improvement.claim", severity=Severity.PASS,
                       message=f"claim met: {metric} {way} {effect} over the walk-forward "
                               f"folds ({claim.source}): {stats}",
                       evidence=_evidence(wf, metric))
    return Finding(check="improvement.claim", severity=Severity.RESTRICT,
                   message=f"claim not met: {metric} {way} {effect} is not shown over the "
                           f"walk-forward folds ({claim.source}): {stats}; p "
                           f"{beside(m.p_superior, wf.alpha)} is above alpha "
                           f"{beside(wf.alpha, m.p_superior)}",
                   evidence=_evidence(wf, metric))


def _non_inferior_finding(comparison: PairedComparison, check: str, where: str,
                          severity: Severity) -> Finding:
    m = comparison.metric("reward")
    stats = f"{m.text('noninferior')}; {comparison.describe()}"
    if m.noninferior:
        return Finding(check=check, severity=Severity.PASS,
                       message=f"{where} reward is no worse than main's beyond the margin "
                               f"{m.margin:g}: {stats}",
                       evidence=_evidence(comparison, "reward"))
    return Finding(check=check, severity=severity,
                   message=f"{where} reward is not shown to be within {m.margin:g} of "
                           f"main's: {stats}; p {beside(m.p_noninferior, comparison.alpha)} "
                           f"is above alpha {beside(comparison.alpha, m.p_noninferior)}",
                   evidence=_evidence(comparison, "reward"))


def improvement_findings(*, claim: Claim, identical: Mapping[str, bool],
                         branch: Mapping[str, BacktestResult],
                         main: Mapping[str, BacktestResult], folds: tuple[Fold, ...],
                         reward_lambda: float, tests: ImprovementTests,
                         n_trials: int) -> ImprovementResult:
    """Test ``claim`` on the runs ``branch``/``main`` (``"in_sample"``, ``"holdout"``).

    ``identical`` maps every window Risk ran to whether the branch decided exactly as
    ``main`` there; ``n_trials`` is the count of distinct trials against this ``main``.
    """
    better = ({str(claim.metric): claim.direction == "increase"}
              if claim.metric not in (None, "reward") and not claim.no_effect else {})
    (b_ret, b_to), (m_ret, m_to) = (fold_series(branch["in_sample"], folds),
                                    fold_series(main["in_sample"], folds))
    wf = compare_paired(b_ret, m_ret, branch_turnover=b_to, main_turnover=m_to,
                        reward_lambda=reward_lambda, min_effect=tests.min_effect,
                        margin=tests.margin, confidence=tests.confidence, n_trials=n_trials,
                        n_resamples=tests.n_resamples, seed=tests.seed,
                        window="walk_forward", higher_is_better=better)
    ho = compare_paired(np.asarray(branch["holdout"].returns),
                        np.asarray(main["holdout"].returns),
                        branch_turnover=np.asarray(branch["holdout"].turnover),
                        main_turnover=np.asarray(main["holdout"].turnover),
                        reward_lambda=reward_lambda, min_effect=tests.min_effect,
                        margin={**tests.margin, "reward": tests.holdout_margin},
                        confidence=tests.holdout_confidence, n_trials=1,
                        n_resamples=tests.n_resamples, seed=tests.seed, window="holdout")
    windows = ", ".join(identical)
    differing = [w for w, same in identical.items() if not same]
    findings: list[Finding] = []
    if not differing:
        findings.append(Finding(
            check="improvement.identical", severity=Severity.PASS if claim.no_effect
            else Severity.RESTRICT,
            message=("identical to main: the branch decides exactly as main on every window "
                     f"Risk ran ({windows}), so its returns are main's; "
                     + ("the no-effect claim holds" if claim.no_effect else
                        f"no effect, claim not met (it claims {claim.text()}, "
                        f"{claim.source})")),
            evidence={"windows": list(identical), "claim": claim.model_dump()}))
        return ImprovementResult(findings=findings, walk_forward=wf, holdout=ho)
    if claim.no_effect:
        findings.append(Finding(
            check="improvement.identical", severity=Severity.RESTRICT,
            message=f"claim not met: the change claims no effect on decisions, but it decides "
                    f"differently from main on {', '.join(differing)}",
            evidence={"differing": differing, "claim": claim.model_dump()}))
        return ImprovementResult(findings=findings, walk_forward=wf, holdout=ho)
    findings.append(_claim_finding(claim, wf))
    if claim.metric != "reward":
        findings.append(_non_inferior_finding(wf, "improvement.reward", "walk-forward",
                                              Severity.RESTRICT))
    if identical.get("holdout", False):
        findings.append(Finding(
            check="improvement.holdout", severity=Severity.RESTRICT,
            message="unconfirmed: the branch decides exactly as main on the held-out window, "
                    "so whatever it changes acts only on the history the Quant researched "
                    "and the held-out window cannot confirm it",
            evidence=_evidence(ho, "reward")))
    else:
        findings.append(_non_inferior_finding(ho, "improvement.holdout", "held-out",
                                              Severity.BLOCK))
    return ImprovementResult(findings=findings, walk_forward=wf, holdout=ho)

