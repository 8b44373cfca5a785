"""The kill-switch: ``halt`` stops deployments, ``resume`` (a person only) lifts it.

A halt is an event of the deployment ledger on the base branch, so every cycle and
every deploy refuses to start while it is in force, on any clone that has the branch. It
also writes the local halt flag (:mod:`alphaloop.deploy.halt`), which a service trading
in another process notices at its next bar, and kills the deployment containers the local
Docker engine runs (never the reviews' backtest containers).
"""

from __future__ import annotations

from alphaloop.deploy.errors import DeployError
from alphaloop.deploy.halt import clear_halt, write_halt
from alphaloop.deploy.ledger import DeploymentLedger
from alphaloop.deploy.target import DEPLOY_LABEL
from alphaloop.records import DeploymentEvent
from alphaloop.repo import GitRepo, Identity

__all__ = ["halt", "resume", "stop_containers"]

def stop_containers() -> int:
    """Kill every running deployment container of the local Docker engine; how many.

    Nothing to do (0) when the Docker SDK or engine is not there: the process sandbox's
    services stop on the halt flag instead.
    """
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        return 0
    try:
        client = docker.from_env(timeout=10)
        containers = client.containers.list(filters={"label": DEPLOY_LABEL})
        for container in containers:
            container.kill()
        return len(containers)
    except DockerException:
        return 0


def halt(repo: GitRepo, branch: str, *, reason: str, decided_by: str, identity: Identity,
         cycle_id: str | None = None) -> DeploymentEvent:
    """Halt deployments on ``branch``: record it (once), set the flag, stop containers."""
    if not reason.strip():
        raise DeployError("a halt needs a reason (--reason \"...\"): it is recorded for the "
                          "people who will resume")
    ledger = DeploymentLedger(repo, branch)
    state = ledger.state()
    write_halt(repo.alphaloop_dir, reason, decided_by)
    stop_containers()
    if state.halt is not None:
        return state.halt
    return ledger.append(identity, f"halt: {reason}"[:300], kind="halt",
                         decided_by=decided_by, reason=reason,
                         commit=state.current.commit if state.current else None,
                         cycle_id=cycle_id, clock_before=state.clock)


def resume(repo: GitRepo, branch: str, *, reason: str, identity: Identity,
           bot_emails: frozenset[str] = frozenset()) -> DeploymentEvent:
    """Lift the halt in force on ``branch``; only a person (not a role's identity)."""
    if identity.email.lower() in {e.lower() for e in bot_emails}:
        raise DeployError(f"{identity.email} is one of AlphaLoop's own roles; a halt is "
                          "lifted by a person: run `alphaloop resume` with your own git "
                          "identity (git config user.name / user.email)")
    if not reason.strip():
        raise DeployError("resuming needs a reason (--reason \"...\"): what was checked")
    ledger = DeploymentLedger(repo, branch)
    state = ledger.state()
    if state.halt is None:
        clear_halt(repo.alphaloop_dir)
        raise DeployError("deployments are not halted; there is nothing to resume")
    event = ledger.append(identity, f"resume: {reason}"[:300], kind="resume",
                          decided_by=str(identity), reason=reason,
                          commit=state.current.commit if state.current else None,
                          clock_before=state.clock)
    clear_halt(repo.alphaloop_dir)
    return event
