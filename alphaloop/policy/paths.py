"""Path ownership (``policies/paths.toml``): which role may change which files."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.policy.errors import PolicyError
from alphaloop.policy.globs import path_matches

__all__ = ["PathPolicy", "RolePaths"]


class RolePaths(BaseModel):
    """The globs one role may write, minus the ones it may not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    formatting_only: bool = Field(
        default=False,
        description="the role may only reformat Python files: their syntax trees may not change",
    )

    def allows(self, path: str) -> bool:
        return (any(path_matches(path, g) for g in self.allow)
                and not any(path_matches(path, g) for g in self.deny))


class PathPolicy(BaseModel):
    """Everything in ``policies/paths.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    protected: tuple[str, ...]
    roles: dict[str, RolePaths]

    def role(self, name: str) -> RolePaths:
        """The rules of role ``name``; :class:`PolicyError` naming the known roles if none."""
        try:
            return self.roles[name]
        except KeyError:
            raise PolicyError(
                f"policies/paths.toml has no rules for role {name!r}; known roles: "
                f"{', '.join(sorted(self.roles))}. Add a [roles.{name}] table or use one of "
                "those names.") from None

    def protected_pattern(self, path: str) -> str | None:
        """The protected glob ``path`` falls under, if any."""
        return next((g for g in self.protected if path_matches(path, g)), None)

    def may_write(self, role: str, path: str) -> bool:
        """Whether ``role`` may change ``path`` (never for a protected path)."""
        return self.protected_pattern(path) is None and self.role(role).allows(path)
