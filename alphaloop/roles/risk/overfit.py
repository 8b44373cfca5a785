"""Overfitting statistics over the trials: PBO vetoes, the deflated Sharpe informs.

- The probability of backtest overfitting (CSCV) is computed over the in-sample returns
  of the *distinct* configurations the cache still holds - identical return series and
  near-copies (daily returns correlating at least ``pbo_same_correlation``) counted
  once, ``main`` once - and vetoes above ``max_pbo`` only once there are
  ``min_pbo_trials`` of them; below that it is reported, not used. Among near-copies the
  in-sample ranking is decided by noise, which is what PBO would then measure.
- The deflated Sharpe ratio of the branch's in-sample returns (deflated by every trial
  the ledger recorded) is reported as evidence. It never vetoes: the level of a Sharpe
  ratio is not the question a merge asks; the paired improvement test is
  (:mod:`alphaloop.roles.risk.improvement`).

Thresholds come from ``policies/risk.toml`` ``[overfitting]``. Messages print enough
digits that a failing value never reads as its threshold.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from alphaloop.checks.findings import Finding, Severity
from alphaloop.harness.metrics import kurtosis, sharpe_ratio, skew
from alphaloop.harness.overfitting import (
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from alphaloop.policy.risk import OverfittingGuards
from alphaloop.roles.risk._format import beside
from alphaloop.roles.risk.trials import distinct_series

__all__ = ["OverfitResult", "overfitting_findings"]


class OverfitResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: list[Finding]
    deflated_sharpe: float | None
    pbo: float | None
    n_trials: int
    pbo_trials: int


def _deflated_sharpe(branch_returns: np.ndarray, trial_sharpes: list[float],
                     guards: OverfittingGuards) -> tuple[Finding, float, int]:
    n_trials = max(1, len(trial_sharpes))
    sr = float(sharpe_ratio(branch_returns, periods_per_year=1))
    variance = float(np.var(trial_sharpes, ddof=1)) if len(trial_sharpes) > 1 else 0.0
    dsr = float(deflated_sharpe_ratio(sr, len(branch_returns), float(skew(branch_returns)),
                                      float(kurtosis(branch_returns, excess=False)),
                                      variance, n_trials))
    level = guards.min_deflated_sharpe_probability
    verdict = ("at or above" if dsr >= level else "below")
    finding = Finding(
        check="overfit.deflated_sharpe", severity=Severity.PASS,
        message=f"deflated Sharpe probability of the branch's in-sample Sharpe is "
                f"{beside(dsr, level)} "
                f"after {n_trials} trials, {verdict} {level:g} (evidence only: the merge "
                "tests the improvement over main, not the level)",
        evidence={"dsr": dsr, "sharpe_per_period": sr, "n_trials": n_trials,
                  "sharpe_variance": variance, "level": level})
    return finding, dsr, n_trials


def overfitting_findings(branch_returns: np.ndarray, trial_sharpes: list[float],
                         trial_returns: list[np.ndarray], *,
                         guards: OverfittingGuards) -> OverfitResult:
    """The deflated Sharpe (evidence) and the PBO over distinct configurations.

    ``trial_sharpes`` are the per-period in-sample Sharpe ratios of every trial so far,
    this branch's included; ``trial_returns`` the in-sample daily returns of the trials
    the cache still holds, on the same days, ``main``'s and this branch's included.
    """
    dsr_finding, dsr, n_trials = _deflated_sharpe(branch_returns, trial_sharpes, guards)
    findings = [dsr_finding]
    distinct = distinct_series(trial_returns, same_correlation=guards.pbo_same_correlation)
    pbo: float | None = None
    if len(distinct) >= guards.min_pbo_trials:
        matrix = np.column_stack(distinct)
        splits = guards.pbo_splits
        while splits > 2 and matrix.shape[0] < splits * 10:
            splits -= 2
        pbo = float(probability_of_backtest_overfitting(matrix, n_splits=splits).pbo)
        above = pbo > guards.max_pbo
        findings.append(Finding(
            check="overfit.pbo", severity=Severity.BLOCK if above else Severity.PASS,
            message=f"probability of backtest overfitting is {beside(pbo, guards.max_pbo)} "
                    f"over {len(distinct)} distinct configurations ({len(trial_returns)} "
                    f"series; copies and near-copies, correlating at least "
                    f"{guards.pbo_same_correlation:g}, counted once), "
                    f"{'above' if above else 'within'} {guards.max_pbo:g}",
            evidence={"pbo": pbo, "distinct": len(distinct), "series": len(trial_returns),
                      "splits": splits}))
    else:
        findings.append(Finding(
            check="overfit.pbo", severity=Severity.PASS,
            message=f"PBO reported, not used: {len(distinct)} distinct configurations "
                    f"({len(trial_returns)} series; copies and near-copies, correlating at "
                    f"least {guards.pbo_same_correlation:g}, counted once), "
                    f"{guards.min_pbo_trials} needed",
            evidence={"distinct": len(distinct), "series": len(trial_returns)}))
    return OverfitResult(findings=findings, deflated_sharpe=dsr, pbo=pbo, n_trials=n_trials,
                         pbo_trials=len(distinct))
