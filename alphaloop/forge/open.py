"""Choosing the forge a command works with: ``--forge local`` or ``--forge github``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from alphaloop.forge.errors import ForgeError
from alphaloop.forge.local import LocalForge
from alphaloop.forge.protocol import Forge
from alphaloop.repo import GitRepo

__all__ = ["FORGE_KINDS", "ForgeKind", "open_forge"]

ForgeKind = Literal["local", "github"]
FORGE_KINDS: tuple[str, ...] = ("local", "github")


def open_forge(repo: GitRepo, kind: str = "local", *, approvers: Sequence[str] = (),
               environ: Mapping[str, str] | None = None) -> Forge:
    """The forge of ``repo``: its local forge branch, or its GitHub repository (from
    ``GITHUB_REPOSITORY``, ``GITHUB_TOKEN``, ``GITHUB_API_URL``; see
    :mod:`alphaloop.forge.github_settings`) whose human approvals count from
    ``approvers``."""
    if kind == "local":
        return LocalForge(repo)
    if kind == "github":
        from alphaloop.forge.github import GitHubForge
        from alphaloop.forge.github_settings import GitHubSettings

        return GitHubForge(repo, GitHubSettings.from_env(environ), approvers=approvers)
    raise ForgeError(f"there is no forge {kind!r}; use --forge local (pull requests kept "
                     "in git) or --forge github")
