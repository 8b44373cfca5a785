"""Errors raised by forges::

    ForgeError                  anything a forge refuses
    ├── NoForge                 the repository has no forge records yet
    ├── PullRequestNotFound     no pull request with that number
    ├── InvalidTransition       the PR's state does not allow the operation
    ├── HeadMoved               the PR's branch moved since it was checked
    ├── ForgeCorrupt            a stored record cannot be read
    └── HypothesisBlockError    a PR body's hypothesis block is malformed
"""

from __future__ import annotations

from alphaloop.errors import Failure

__all__ = [
    "ForgeCorrupt",
    "ForgeError",
    "HeadMoved",
    "HypothesisBlockError",
    "InvalidTransition",
    "NoForge",
    "PullRequestNotFound",
]


class ForgeError(Failure):
    """Something a forge refused to do."""


class NoForge(ForgeError):
    """The repository holds no pull requests yet."""


class PullRequestNotFound(ForgeError):
    """No pull request has that number."""


class InvalidTransition(ForgeError):
    """The operation is not allowed in the pull request's current state."""


class HeadMoved(ForgeError):
    """The pull request's branch no longer points at the commit that was checked."""


class ForgeCorrupt(ForgeError):
    """A stored pull request or review fails validation; the message names the file."""


class HypothesisBlockError(ForgeError):
    """A pull request body carries a hypothesis block that is not a valid JSON object."""
