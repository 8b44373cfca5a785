"""Push and fetch a GitHub repository with a token that never lands anywhere visible.

The token reaches git only through the environment of the one git process that needs it:
``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_0``/``GIT_CONFIG_VALUE_0`` set ``http.extraHeader``
to an ``Authorization`` header for that command alone. Nothing is written to
``.git/config``, no remote is added, the URL git is given holds no credentials (so
``git remote -v``, reflogs and ``FETCH_HEAD`` show none), and every message of a failed
command has the token blanked out before it is raised.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from pydantic import SecretStr

from alphaloop.forge.errors import ForgeError
from alphaloop.repo import GitError, GitRepo

__all__ = ["GitRemote", "PushRejected"]


class PushRejected(ForgeError):
    """GitHub refused a push or fetch (rejected, no permission, or unreachable)."""


class GitRemote:
    """The repository's git URL and the token to reach it with."""

    def __init__(self, url: str, token: SecretStr) -> None:
        if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            raise ForgeError("the git URL must not carry credentials; give the token "
                             "separately (GITHUB_TOKEN).")
        self.url = url
        self._token = token

    def __repr__(self) -> str:
        return f"GitRemote({self.url!r})"

    def _env(self) -> dict[str, str]:
        basic = base64.b64encode(
            f"x-access-token:{self._token.get_secret_value()}".encode()).decode()
        return {
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
            # a credential helper of the machine must not be asked, nor store anything
            "GIT_CONFIG_KEY_1": "credential.helper",
            "GIT_CONFIG_VALUE_1": "",
            "GIT_ASKPASS": "",
        }

    def _redact(self, text: str) -> str:
        secret = self._token.get_secret_value()
        basic = base64.b64encode(f"x-access-token:{secret}".encode()).decode()
        return text.replace(secret, "***").replace(basic, "***") if secret else text

    def _run(self, repo: GitRepo, args: Sequence[str], what: str) -> str:
        try:
            return repo.git(*args, env=self._env()).text
        except GitError as error:
            raise PushRejected(f"{what} {self.url} failed: {self._redact(str(error))}. "
                               "Check that GITHUB_TOKEN may write to the repository "
                               "(`permissions: contents: write`).") from None

    def push(self, repo: GitRepo, sha: str, branch: str, *,
             expected: str | None = None) -> None:
        """Make ``branch`` on GitHub point at ``sha``; with ``expected`` only if it
        points there now (``--force-with-lease``), else only as a fast-forward."""
        args = ["push", "--porcelain", "--quiet"]
        if expected is not None:
            args.append(f"--force-with-lease=refs/heads/{branch}:{expected}")
        self._run(repo, [*args, self.url, f"{sha}:refs/heads/{branch}"], "pushing to")

    def delete(self, repo: GitRepo, branch: str) -> None:
        self._run(repo, ["push", "--porcelain", "--quiet", self.url, f":refs/heads/{branch}"],
                  "deleting a branch of")

    def fetch(self, repo: GitRepo, ref: str, into: str) -> None:
        """Fetch ``ref`` (a branch or ``refs/pull/N/head``) into the local ref ``into``."""
        self._run(repo, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", self.url,
                         f"+{ref}:{into}"], "fetching from")
