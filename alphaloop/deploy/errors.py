"""What can stop a deployment, each with a message that says what to do."""

from __future__ import annotations

from alphaloop.errors import Failure

__all__ = ["DeployError", "Halted", "RollbackFailed"]


class DeployError(Failure, RuntimeError):
    """A deployment cannot go on; nothing half-done is left behind."""


class Halted(DeployError):
    """A human halted deployments; cycles and deploys refuse to start until a human runs
    ``alphaloop resume``."""


class RollbackFailed(DeployError):
    """A rollback could not be completed; deployments are halted for a human."""
