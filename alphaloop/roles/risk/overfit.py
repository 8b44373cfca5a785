"""Overfitting guards: veto "improvements" that are noise.

Four tests, with thresholds from ``policies/risk.toml`` ``[overfitting]``:

- the deflated Sharpe ratio of the branch's in-sample returns, deflated by every trial
  the ledger has recorded (the variance of their per-period Sharpe ratios and their
  count), must reach ``min_deflated_sharpe_probability``;
- the probability of backtest overfitting (CSCV over the in-sample returns of all trials
  the cache still holds) must not exceed ``max_pbo`` once there are enough trials;
- on the held-out window the branch must not do worse than ``main``: its reward may not
  be lower, and its Sharpe may trail by at most ``max_oos_sharpe_shortfall``;
- an in-sample gain must show on the held-out window too: a change that improves the
  walk-forward reward but leaves the held-out reward no better is fitted to history.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from alphaloop.checks.findings import Finding, Severity
from alphaloop.cycle.records import RunMetrics
from alphaloop.harness.metrics import kurtosis, sharpe_ratio, skew
from alphaloop.harness.overfitting import (
    deflated_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from alphaloop.policy.risk import OverfittingGuards

__all__ = ["MIN_TRIALS_FOR_PBO", "OverfitResult", "overfitting_findings"]

#: CSCV needs a population of configurations; below this the PBO is reported, not used.
MIN_TRIALS_FOR_PBO = 4
#: Reward differences smaller than this are rounding, not a change.
_NOISE = 1e-6


class OverfitResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: list[Finding]
    deflated_sharpe: float | None
    pbo: float | None
    n_trials: int


def overfitting_findings(
    branch_returns: np.ndarray,
    trial_sharpes: list[float],
    trial_returns: list[np.ndarray],
    *,
    branch_holdout: RunMetrics,
    main_holdout: RunMetrics,
    in_sample_gain: float,
    guards: OverfittingGuards,
) -> OverfitResult:
    """Grade the branch against the overfitting guards.

    ``trial_sharpes`` are the per-period (not annualised) in-sample Sharpe ratios of every
    trial so far, this branch's included; ``trial_returns`` the in-sample daily returns of
    the trials still in the cache, aligned on the same days, this branch's included;
    ``in_sample_gain`` the walk-forward reward gain over ``main``.
    """
    findings: list[Finding] = []
    n_trials = max(1, len(trial_sharpes))
    sr = float(sharpe_ratio(branch_returns, periods_per_year=1))
    variance = float(np.var(trial_sharpes, ddof=1)) if len(trial_sharpes) > 1 else 0.0
    dsr = float(deflated_sharpe_ratio(sr, len(branch_returns), float(skew(branch_returns)),
                                      float(kurtosis(branch_returns, excess=False)),
                                      variance, n_trials))
    if not dsr >= guards.min_deflated_sharpe_probability:
        findings.append(Finding(
            check="overfit.deflated_sharpe", severity=Severity.BLOCK,
            message=f"deflated Sharpe probability is {dsr:.3f} after {n_trials} trials, "
                    f"below {guards.min_deflated_sharpe_probability:g}: the in-sample Sharpe "
                    "is not distinguishable from the best of that many tries of noise",
            evidence={"dsr": dsr, "sharpe_per_period": sr, "n_trials": n_trials,
                      "sharpe_variance": variance}))
    pbo: float | None = None
    if len(trial_returns) >= MIN_TRIALS_FOR_PBO:
        matrix = np.column_stack(trial_returns)
        splits = guards.pbo_splits
        while splits > 2 and matrix.shape[0] < splits * 10:
            splits -= 2
        pbo = float(probability_of_backtest_overfitting(matrix, n_splits=splits).pbo)
        if pbo > guards.max_pbo:
            findings.append(Finding(
                check="overfit.pbo", severity=Severity.BLOCK,
                message=f"probability of backtest overfitting is {pbo:.2f} over "
                        f"{len(trial_returns)} trials, above {guards.max_pbo:g}",
                evidence={"pbo": pbo, "trials": len(trial_returns), "splits": splits}))
    else:
        findings.append(Finding(
            check="overfit.pbo", severity=Severity.PASS,
            message=f"PBO not computed: {len(trial_returns)} trials in the cache, "
                    f"{MIN_TRIALS_FOR_PBO} needed", evidence={"trials": len(trial_returns)}))
    holdout_gain = branch_holdout.reward - main_holdout.reward
    if holdout_gain < -_NOISE:
        findings.append(Finding(
            check="overfit.holdout", severity=Severity.BLOCK,
            message=f"held-out reward {branch_holdout.reward:.3f} is worse than main's "
                    f"{main_holdout.reward:.3f}",
            evidence={"branch": branch_holdout.reward, "main": main_holdout.reward}))
    elif in_sample_gain > _NOISE and holdout_gain <= _NOISE:
        findings.append(Finding(
            check="overfit.degradation", severity=Severity.BLOCK,
            message=f"the in-sample gain ({in_sample_gain:+.3f} reward) does not appear out "
                    f"of sample (held-out reward {holdout_gain:+.3f}): it is fitted to the "
                    "in-sample history",
            evidence={"in_sample_gain": in_sample_gain, "holdout_gain": holdout_gain}))
    shortfall = main_holdout.sharpe - branch_holdout.sharpe
    if shortfall > guards.max_oos_sharpe_shortfall:
        findings.append(Finding(
            check="overfit.holdout_sharpe", severity=Severity.BLOCK,
            message=f"held-out Sharpe {branch_holdout.sharpe:.2f} trails main's "
                    f"{main_holdout.sharpe:.2f} by more than "
                    f"{guards.max_oos_sharpe_shortfall:g}",
            evidence={"branch": branch_holdout.sharpe, "main": main_holdout.sharpe}))
    return OverfitResult(findings=findings, deflated_sharpe=dsr, pbo=pbo, n_trials=n_trials)
