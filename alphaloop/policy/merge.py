"""The merge policy (``policies/merge.toml``): approvals, human approval, merge method."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alphaloop.policy.globs import path_matches

__all__ = ["Committer", "HumanApprovalRules", "MergePolicy"]

#: A change "raises" an exposure only by more than this: equal holdings computed through
#: another path differ in the last digits, and float noise must not call a human.
EXPOSURE_TOLERANCE = 1e-4

ParameterValue = float | int | str | bool
#: The roles of ``roles/`` (``alphaloop.roles.charter.ROLE_NAMES``); only they approve.
ROLE_NAMES: tuple[str, ...] = ("quant", "risk", "qa", "engineer", "sre", "pm")
#: A reviewer of your own, named by where its class lives ("package.module:Class").
_REVIEWER_CLASS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
#: A GitHub login (a person's; the bot's own reviews are signed, not listed).
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")


class HumanApprovalRules(BaseModel):
    """When a human must approve as well as the bot's roles."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    max_parameter_change: float = Field(gt=0)
    max_exposure: float = Field(gt=0)
    bot_paths: tuple[str, ...]


class Committer(BaseModel):
    """Who commits the bot's merges; each merge's author is the change's own author."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="AlphaLoop Merge Gate", min_length=1, pattern=r"^[^<>\n]+$")
    email: str = Field(default="merge-gate@alphaloop.local", pattern=r"^[^<>\s]+@[^<>\s]+$")


class MergePolicy(BaseModel):
    """Everything in ``policies/merge.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required_approvals: tuple[str, ...] = Field(
        min_length=1, description="the reviewers of every PR, in review order: built-in "
                                  "roles or 'package.module:Class'")
    method: Literal["squash", "merge", "rebase"]
    human_approval: HumanApprovalRules
    committer: Committer = Field(default_factory=Committer)
    approvers: tuple[str, ...] = Field(
        default=(), description="GitHub logins whose approving review counts as a human's "
                                "approval on the GitHub forge")

    @field_validator("approvers")
    @classmethod
    def _logins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [login for login in value if not _LOGIN.fullmatch(login)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} is not a GitHub login (letters, "
                             "digits and single hyphens, at most 39 characters)")
        return value

    @field_validator("required_approvals")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"required_approvals lists a role twice: {list(value)}")
        unknown = [role for role in value
                   if role not in ROLE_NAMES and not _REVIEWER_CLASS.fullmatch(role)]
        if unknown:
            raise ValueError(f"{', '.join(map(repr, unknown))} is not a role; roles are "
                             f"{', '.join(ROLE_NAMES)}, or 'package.module:Class' for a "
                             "reviewer of your own")
        return value

    def human_approval_reasons(
        self,
        *,
        changed_paths: Iterable[str] = (),
        parameter_changes: Mapping[str, tuple[ParameterValue, ParameterValue]] | None = None,
        exposures: Mapping[str, float] | None = None,
        approved_values: Mapping[str, ParameterValue] | None = None,
        base_exposures: Mapping[str, float] | None = None,
    ) -> list[str]:
        """Why a human must approve this change; an empty list when no rule applies.

        ``parameter_changes`` maps a tunable to ``(old, new)``; a move counts against
        ``old`` and against ``approved_values[name]``, the last value a human approved
        (so small automatic steps cannot add up past the limit). ``exposures`` maps a
        label (gross exposure, an asset class) to the value the change leads to;
        ``base_exposures`` the same figures for the base: where given, the rule fires
        only when the change raises an exposure above the limit.
        """
        rules = self.human_approval
        reasons: list[str] = []
        for path in changed_paths:
            if not any(path_matches(path, g) for g in rules.bot_paths):
                reasons.append(f"{path} is outside the paths the bot may merge alone "
                               f"({', '.join(rules.bot_paths)})")
        limit = rules.max_parameter_change
        for name, (old, new) in (parameter_changes or {}).items():
            change = _relative_change(old, new)
            approved = (approved_values or {}).get(name)
            cumulative = _relative_change(approved, new) if approved is not None else 0.0
            if change > limit:
                reasons.append(f"tunable {name} moved from {old!r} to {new!r} "
                               f"({_share(change, limit)}), more than {limit:.0%} of its value")
            elif cumulative > limit:
                reasons.append(f"tunable {name} moved from {old!r} to {new!r}, "
                               f"{_share(cumulative, limit)} from {approved!r}, the last value "
                               f"a human approved: more than {limit:.0%} in automatic steps")
        for label, value in (exposures or {}).items():
            base = (base_exposures or {}).get(label)
            raises = base is None or value > base + EXPOSURE_TOLERANCE
            if not value <= rules.max_exposure and raises:
                raised = f" (main {base:.6g})" if base is not None else ""
                reasons.append(f"exposure {label} = {value:.6g}{raised} is above "
                               f"{rules.max_exposure:g}")
        return reasons


def _share(change: float, limit: float) -> str:
    """A relative change as a percent, with the digits it takes to stay off ``limit``."""
    if not math.isfinite(change):
        return "no proportional measure"
    for digits in range(0, 12):
        text = f"{change:.{digits}%}"
        if (float(text[:-1]) / 100 > limit) == (change > limit) and \
                (float(text[:-1]) / 100 < limit) == (change < limit):
            return text
    return f"{change!r}"


def _relative_change(old: ParameterValue, new: ParameterValue) -> float:
    """|new - old| / |old| for numbers (inf from zero); +inf for any other change."""
    numeric = (int, float)
    if (isinstance(old, numeric) and isinstance(new, numeric)
            and not isinstance(old, bool) and not isinstance(new, bool)):
        if old == new:
            return 0.0
        if old == 0:
            return math.inf
        return abs(float(new) - float(old)) / abs(float(old))
    return 0.0 if old == new else math.inf
