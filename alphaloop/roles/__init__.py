"""How each role acts; what each role is told and allowed is its charter in ``roles/``.

The split: ``roles/<role>.toml`` at the top of the repository is data a person governs
(goal, persona, identity, prompt templates; what a role may write is
``policies/paths.toml``); this package is behaviour. The cycle reaches roles only
through this package: the seam (:mod:`.base`) and the registry that builds a team from
configuration (:mod:`.registry`). One role's package never imports another's.
"""

from alphaloop.roles.base import (
    Deployer,
    DeployRequest,
    HypothesisSource,
    InSample,
    Planner,
    PlanRequest,
    ProposalRequest,
    Proposer,
    ReportRequest,
    Reviewer,
    ReviewRequest,
    RoleConfig,
    RoleModel,
    RoleServices,
    forge_verdict,
)
from alphaloop.roles.charter import Charter, CharterError, CharterModel, load_charters
from alphaloop.roles.registry import (
    BUILTIN_ROLES,
    RoleConfigError,
    Team,
    TeamConfig,
    build_role,
    build_team,
    resolve_role,
    reviewer_roles,
)

__all__ = [
    "BUILTIN_ROLES",
    "Charter",
    "CharterError",
    "CharterModel",
    "DeployRequest",
    "Deployer",
    "HypothesisSource",
    "InSample",
    "PlanRequest",
    "Planner",
    "ProposalRequest",
    "Proposer",
    "ReportRequest",
    "ReviewRequest",
    "Reviewer",
    "RoleConfig",
    "RoleConfigError",
    "RoleModel",
    "RoleServices",
    "Team",
    "TeamConfig",
    "build_role",
    "build_team",
    "forge_verdict",
    "load_charters",
    "resolve_role",
    "reviewer_roles",
]
