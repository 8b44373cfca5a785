"""Where the GitHub forge connects, read from the environment GitHub Actions provides.

=====================  =================================================  ==========================
variable               what                                               default
=====================  =================================================  ==========================
``GITHUB_REPOSITORY``  ``owner/name`` of the repository                   (required)
``GITHUB_TOKEN``       a token allowed to push, open PRs, review, merge   (required)
``GITHUB_API_URL``     the REST API's root                                ``https://api.github.com``
``GITHUB_SERVER_URL``  where git pushes and fetches (``URL/owner/name``)  ``https://github.com``
``ALPHALOOP_GITHUB_BOT``  the login the bot's token acts as               ``github-actions[bot]``
``ALPHALOOP_GITHUB_TIMEOUT``  seconds to wait for one answer of the API   ``15``
=====================  =================================================  ==========================

The token is kept as a :class:`~pydantic.SecretStr`: it is never printed, never written
into a remote URL or git's configuration (see :mod:`alphaloop.forge.github_git`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from alphaloop.forge.errors import ForgeError

__all__ = ["DEFAULT_API_URL", "DEFAULT_BOT", "DEFAULT_SERVER_URL", "GitHubConfigError",
           "GitHubSettings"]

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
DEFAULT_BOT = "github-actions[bot]"

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubConfigError(ForgeError):
    """The environment does not say which GitHub repository to use, or with what token."""


class GitHubSettings(BaseModel):
    """One repository on GitHub and the credentials to work on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repository: str = Field(pattern=_REPO.pattern, description="owner/name")
    token: SecretStr
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    bot_login: str = Field(default=DEFAULT_BOT, min_length=1,
                           description="the login the token acts as")
    max_wait: float = Field(default=900.0, ge=0,
                            description="longest wait, in seconds, for a rate limit to reset")
    write_interval: float = Field(default=1.0, ge=0,
                                  description="pause between writes (GitHub asks for one)")
    timeout: int = Field(default=15, ge=1,
                         description="seconds to wait for one answer of the API")
    in_actions: bool = Field(default=False, description="running in a GitHub Actions job, "
                                                        "where the review key must be a secret")

    @property
    def git_url(self) -> str:
        """The repository's git URL (never holding the token)."""
        return f"{self.server_url.rstrip('/')}/{self.repository}.git"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GitHubSettings:
        """The settings Actions provides; :class:`GitHubConfigError` names what is missing."""
        env = os.environ if environ is None else environ
        missing = [name for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN") if not env.get(name)]
        if missing:
            raise GitHubConfigError(
                f"--forge github needs {' and '.join(missing)} in the environment: "
                "GITHUB_REPOSITORY=owner/name and GITHUB_TOKEN=a token that may push, open "
                "pull requests and merge (GitHub Actions sets both; pass the token to the "
                "step as `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`).")
        repository = env["GITHUB_REPOSITORY"]
        if not _REPO.fullmatch(repository):
            raise GitHubConfigError(f"GITHUB_REPOSITORY={repository!r} is not owner/name; "
                                    "set it to the repository, e.g. acme/strategies.")
        return cls(repository=repository, token=SecretStr(env["GITHUB_TOKEN"]),
                   api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                   server_url=env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL,
                   bot_login=env.get("ALPHALOOP_GITHUB_BOT") or DEFAULT_BOT,
                   write_interval=_seconds(env, "ALPHALOOP_GITHUB_WRITE_INTERVAL", 1.0),
                   timeout=_whole_seconds(env, "ALPHALOOP_GITHUB_TIMEOUT", 15),
                   in_actions=env.get("GITHUB_ACTIONS") == "true")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise GitHubConfigError(f"{name}={raw!r} is not a number of seconds (>= 0).")
    return value


def _whole_seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise GitHubConfigError(f"{name}={raw!r} is not a whole number of seconds (>= 1).")
    return int(raw)
