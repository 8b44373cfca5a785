"""Building a cycle's team of roles from configuration.

A :class:`TeamConfig` names the behaviour in each seat by ``type``: a built-in role
(:data:`BUILTIN_ROLES`) or ``"package.module:Class"`` for a role of your own. The
reviewers are the roles listed in ``policies/merge.toml`` ``required_approvals``, so a
new reviewer is one module (a class with ``role``, ``record_type``, ``from_config`` and
``review_change``; see :class:`~alphaloop.roles.base.Reviewer`) and one line of policy::

    required_approvals = ["risk", "my_reviews.style:StyleReviewer"]

Roles are imported only when a team is built, by name: the cycle never imports a role's
module itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.policy import Policies
from alphaloop.policy.errors import PolicyError
from alphaloop.roles.base import (
    Deployer,
    Planner,
    Proposer,
    Reviewer,
    RoleConfig,
    RoleServices,
)

__all__ = [
    "BUILTIN_ROLES",
    "RoleConfigError",
    "Team",
    "TeamConfig",
    "build_role",
    "build_team",
    "resolve_role",
    "reviewer_roles",
]

#: The built-in behaviours, by ``type``.
BUILTIN_ROLES: dict[str, str] = {
    "pm": "alphaloop.roles.pm:ProjectManager",
    "quant": "alphaloop.roles.quant:Quant",
    "risk": "alphaloop.roles.risk:RiskOfficer",
    "qa": "alphaloop.roles.qa:QA",
    "engineer": "alphaloop.roles.engineer:Engineer",
    "sre": "alphaloop.roles.sre:SRE",
}


class RoleConfigError(PolicyError):
    """A role's configuration names no behaviour that can be built; the message says
    which entry and what to write instead."""


class TeamConfig(BaseModel):
    """Which behaviour sits in each seat of a cycle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planner: RoleConfig = RoleConfig(type="pm")
    proposer: RoleConfig = RoleConfig(type="quant")
    reviewers: tuple[RoleConfig, ...] = Field(default=(RoleConfig(type="risk"),),
                                              min_length=1)
    deployer: RoleConfig | None = Field(default=RoleConfig(type="sre"),
                                        description="None: merged changes are not deployed")

    @classmethod
    def from_policies(cls, policies: Policies, **proposer_options: Any) -> TeamConfig:
        """The default planner and proposer (with ``proposer_options``), and the
        reviewers ``policies/merge.toml`` requires, in its order."""
        return cls(proposer=RoleConfig(type="quant", **proposer_options),
                   reviewers=tuple(RoleConfig(type=entry)
                                   for entry in policies.merge.required_approvals),
                   deployer=RoleConfig(type="sre") if policies.deploy.deploy.after_merge
                   else None)


@dataclass
class Team:
    """The roles of one cycle, built."""

    planner: Planner
    proposer: Proposer
    reviewers: list[Reviewer]
    deployer: Deployer | None = None

    @property
    def reviewer_roles(self) -> list[str]:
        return [r.role for r in self.reviewers]


def resolve_role(type_: str) -> type:
    """The class a role ``type`` names (imported now)."""
    spec = BUILTIN_ROLES.get(type_, type_)
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise RoleConfigError(
            f"unknown role {type_!r}: use a built-in role ({', '.join(BUILTIN_ROLES)}) or "
            "'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RoleConfigError(f"role {type_!r}: cannot import {module_name!r} ({exc}); "
                              "check the module path and that it is installed") from None
    found = getattr(module, attr, None)
    if not isinstance(found, type):
        raise RoleConfigError(f"role {type_!r}: {module_name!r} has no class {attr!r}")
    return found


def build_role(config: RoleConfig, services: RoleServices) -> Any:
    """The role ``config`` describes, built by its class's ``from_config``."""
    cls = resolve_role(config.type)
    if not callable(getattr(cls, "from_config", None)):
        raise RoleConfigError(f"role {config.type!r}: {cls.__name__} has no from_config; a "
                              "role class builds itself from its configuration")
    return cls.from_config(config, services)


def _check(role: Any, kind: type, seat: str, config: RoleConfig) -> None:
    if not isinstance(role, kind):
        raise RoleConfigError(f"role {config.type!r} cannot sit as the {seat}: it does not "
                              f"implement {kind.__name__} (see alphaloop.roles.base)")


def build_team(config: TeamConfig, services: RoleServices) -> Team:
    """Every role of ``config``, built and checked against its seat's protocol."""
    planner = build_role(config.planner, services)
    _check(planner, Planner, "planner", config.planner)
    proposer = build_role(config.proposer, services)
    _check(proposer, Proposer, "proposer", config.proposer)
    reviewers: list[Reviewer] = []
    for entry in config.reviewers:
        reviewer = build_role(entry, services)
        _check(reviewer, Reviewer, "reviewer", entry)
        if reviewer.role in {r.role for r in reviewers} | {proposer.role, planner.role}:
            raise RoleConfigError(f"two roles are named {reviewer.role!r}; each reviewer "
                                  "needs its own name (its reviews and approvals carry it)")
        reviewers.append(reviewer)
    deployer = None
    if config.deployer is not None:
        deployer = build_role(config.deployer, services)
        _check(deployer, Deployer, "deployer", config.deployer)
    return Team(planner=planner, proposer=proposer, reviewers=reviewers, deployer=deployer)


def reviewer_roles(required_approvals: Sequence[str]) -> list[str]:
    """The role names whose approvals ``required_approvals`` asks for (built-in names as
    they are, ``module:Class`` entries by their class's ``role``)."""
    names: list[str] = []
    for entry in required_approvals:
        if entry in BUILTIN_ROLES or ":" not in entry:
            names.append(entry)
            continue
        role = getattr(resolve_role(entry), "role", None)
        if not isinstance(role, str) or not role:
            raise RoleConfigError(f"reviewer {entry!r} has no `role` name")
        names.append(role)
    return names
