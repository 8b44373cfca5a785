"""What the operator commands (``alphaloop deploy``, ``rollback``, ``halt``, ``resume``)
work with: the SRE built as a cycle builds it, under the cycle lock, and the person at the
keyboard.

A deploy or rollback runs under the same lock as a cycle, so neither can interleave with a
cycle's merge; it reads policies, charters and the deployment ledger from the committed
base branch, as a cycle does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alphaloop.cycle.context import CycleContext, build_context, snapshot
from alphaloop.cycle.lock import CycleLock, CycleLocked
from alphaloop.cycle.options import CycleError, CycleOptions
from alphaloop.cycle.preflight import PreflightError, base_branch_of, open_repository
from alphaloop.policy import PolicyError
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles import RoleConfig, RoleServices, build_role, load_charters

__all__ = ["human_identity", "operate", "role_emails"]


@contextmanager
def operate(path: Path, options: CycleOptions, *,
            allow_halted: bool = False) -> Iterator[tuple[CycleContext, Any]]:
    """The cycle's context and the SRE, under the cycle lock; the sandboxes stop after."""
    repo = open_repository(path)
    try:
        with CycleLock(repo.common_dir), tempfile.TemporaryDirectory(
                prefix="alphaloop-inputs-") as inputs:
            ctx = build_context(path, options, resume=True, workdir=Path(inputs),
                                allow_halted=allow_halted)
            try:
                sre = build_role(RoleConfig(type="sre"), RoleServices(
                    repo=ctx.repo, forge=ctx.forge, evaluator=ctx.evaluator,
                    policies=ctx.policies, identities=ctx.identities))
                yield ctx, sre
            finally:
                ctx.evaluator.close()
    except CycleLocked as exc:
        raise PreflightError(str(exc)) from None


def human_identity(repo: GitRepo) -> Identity:
    """The person running the command, from git's ``user.name`` and ``user.email``."""
    name, email = repo.config_get("user.name"), repo.config_get("user.email")
    if not name or not email:
        raise PreflightError("git does not know who you are, and this command records who "
                             "decided: set `git config user.name \"Your Name\"` and "
                             "`git config user.email you@example.com`, then run it again")
    try:
        return Identity(name=name, email=email)
    except ValueError:
        raise PreflightError(f"git's user.name / user.email ({name} <{email}>) is not a "
                             "valid identity; fix it with `git config`") from None


def role_emails(repo: GitRepo, branch: str | None) -> tuple[str, frozenset[str]]:
    """The base branch, and the e-mail addresses of AlphaLoop's roles committed on it."""
    base = base_branch_of(repo, branch)
    sha = repo.branch_sha(base)
    if sha is None:
        raise CycleError(f"the branch {base!r} has no commit yet")
    with tempfile.TemporaryDirectory(prefix="alphaloop-inputs-") as inputs:
        try:
            charters = load_charters(snapshot(repo, sha, Path(inputs)))
        except PolicyError as exc:
            raise CycleError(f"{exc} (read from {base} at {sha[:10]})") from None
    return base, frozenset(c.identity.email for c in charters.values())
