"""Deployments: the paper-trading service, canary analysis, the deployment ledger, halt.

The SRE role (:mod:`alphaloop.roles.sre`) drives these pieces after the gate merges a
change: :func:`prepare_target` packages the merged commit (a deploy image with Docker),
:func:`run_service` trades it on the bars after the clock, :func:`judge` compares what it
did with what the backtest promised, and :class:`DeploymentLedger` records every deploy,
rollback, halt and resume on the base branch. The clock the next cycle starts from is
the ledger's (:attr:`DeploymentState.clock`).
"""

from alphaloop.deploy.canary import judge, tracking_error, worst_stretch_drawdown
from alphaloop.deploy.control import halt, resume, stop_containers
from alphaloop.deploy.errors import DeployError, Halted, RollbackFailed
from alphaloop.deploy.halt import clear_halt, read_halt, write_halt
from alphaloop.deploy.ledger import (
    DEPLOY_HISTORY,
    DeployLedgerCorrupt,
    DeploymentLedger,
    DeploymentState,
)
from alphaloop.deploy.service import ServiceRun, live_window, run_service
from alphaloop.deploy.target import DeployTarget, prepare_target

__all__ = [
    "DEPLOY_HISTORY",
    "DeployError",
    "DeployLedgerCorrupt",
    "DeployTarget",
    "DeploymentLedger",
    "DeploymentState",
    "Halted",
    "RollbackFailed",
    "ServiceRun",
    "clear_halt",
    "halt",
    "judge",
    "live_window",
    "prepare_target",
    "read_halt",
    "resume",
    "run_service",
    "stop_containers",
    "tracking_error",
    "worst_stretch_drawdown",
    "write_halt",
]
