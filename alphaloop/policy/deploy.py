"""Deployment policy: how the SRE runs a merged change live, judges it and rolls it back.

Read from ``policies/deploy.toml`` (optional; without it these defaults apply). The
canary compares what the paper-trading service did over its live window with what the
backtest promised; each bound below is one of its checks (``docs/deploy.md``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CanaryPolicy", "DeployPolicy", "DeploySettings", "RollbackPolicy"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeploySettings(_Section):
    after_merge: bool = Field(default=True, description="the SRE deploys every change the "
                                                        "gate merges")
    live_days: int = Field(default=21, ge=1, le=260,
                           description="T: trading days a deployment paper-trades before "
                                       "the clock advances (21: about a month)")


class CanaryPolicy(_Section):
    min_bars: int = Field(default=5, ge=1, description="fewer live bars than this: "
                                                       "inconclusive, a human looks")
    max_drawdown: float = Field(default=0.10, gt=0, le=1,
                                description="live peak-to-trough loss that fails the "
                                            "deployment")
    drawdown_vs_backtest: float = Field(
        default=1.5, ge=1, le=100,
        description="a live drawdown above this multiple of the backtest's worst (held-out "
                    "window) but within max_drawdown is inconclusive")
    max_tracking_error: float = Field(
        default=0.01, ge=0, le=1,
        description="annualised tracking error of the live returns against the backtest of "
                    "the same commit over the same bars")
    max_heartbeat_gap_seconds: float = Field(
        default=60.0, gt=0, le=3600,
        description="longest the service may go without answering a bar")


class RollbackPolicy(_Section):
    automatic: bool = Field(default=True, description="a failed canary reverts the merge "
                                                      "and redeploys the last good commit")


class DeployPolicy(_Section):
    deploy: DeploySettings = Field(default_factory=DeploySettings)
    canary: CanaryPolicy = Field(default_factory=CanaryPolicy)
    rollback: RollbackPolicy = Field(default_factory=RollbackPolicy)
