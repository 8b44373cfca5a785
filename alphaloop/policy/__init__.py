"""Compliance as code: the policy files under ``policies/``, loaded and validated.

``load_policies(repo_root)`` reads ``risk.toml``, ``imports.toml``, ``paths.toml`` and
``merge.toml`` into one :class:`Policies` object; every file is validated by a pydantic
model that forbids unknown keys, and a :class:`PolicyError` names the file, the key and
what to do. ``Policies.digest`` (also :func:`policies_digest`) identifies the exact
version applied, for the audit trail.
"""

from alphaloop.policy.engineering import EngineeringPolicy
from alphaloop.policy.errors import PolicyError, describe_validation_error
from alphaloop.policy.globs import normalize_repo_path, path_matches
from alphaloop.policy.imports import AccessRules, ImportPolicy, RunnerRules, StrategyImports
from alphaloop.policy.loader import (
    OPTIONAL_POLICY_FILES,
    POLICY_FILES,
    Policies,
    load_policies,
    policies_digest,
)
from alphaloop.policy.merge import HumanApprovalRules, MergePolicy
from alphaloop.policy.paths import PathPolicy, RolePaths
from alphaloop.policy.risk import (
    ComplianceRules,
    HardLimits,
    ImprovementTests,
    LimitException,
    LiquidityRules,
    OverfittingGuards,
    PortfolioChecks,
    ProcessRules,
    RiskPolicy,
    SoftLimits,
    StressLimits,
    Threshold,
    WeightRules,
)
from alphaloop.policy.search import OBJECTIVES, Objective, SearchPolicy, SearchSteering

__all__ = [
    "OBJECTIVES",
    "OPTIONAL_POLICY_FILES",
    "POLICY_FILES",
    "AccessRules",
    "ComplianceRules",
    "EngineeringPolicy",
    "HardLimits",
    "HumanApprovalRules",
    "ImportPolicy",
    "ImprovementTests",
    "LimitException",
    "LiquidityRules",
    "MergePolicy",
    "Objective",
    "OverfittingGuards",
    "PathPolicy",
    "Policies",
    "PolicyError",
    "PortfolioChecks",
    "ProcessRules",
    "RiskPolicy",
    "RolePaths",
    "RunnerRules",
    "SearchPolicy",
    "SearchSteering",
    "SoftLimits",
    "StrategyImports",
    "StressLimits",
    "Threshold",
    "WeightRules",
    "describe_validation_error",
    "load_policies",
    "normalize_repo_path",
    "path_matches",
    "policies_digest",
]
