"""Pull requests and reviews: the :class:`Forge` protocol and its backends.

:class:`LocalForge` keeps PRs and reviews in git itself, on the orphan branch
``alphaloop/forge``; a GitHub backend implements the same protocol. Reviews are bound to
the commit they looked at: :meth:`Forge.valid_reviews` returns only those bound to the
PR's current head, so approvals are void once the branch moves.
"""

from alphaloop.forge.errors import (
    ForgeCorrupt,
    ForgeError,
    HeadMoved,
    HypothesisBlockError,
    InvalidTransition,
    NoForge,
    PullRequestNotFound,
)
from alphaloop.forge.hypothesis import BLOCK_INFO_STRING, parse_block, render_block, strip_block
from alphaloop.forge.local import FORGE_BRANCH, FORGE_IDENTITY, LocalForge
from alphaloop.forge.protocol import Forge
from alphaloop.forge.records import (
    PRState,
    PullRequest,
    Review,
    Verdict,
    latest_by_reviewer,
    reviews_bound_to,
)

__all__ = [
    "BLOCK_INFO_STRING",
    "FORGE_BRANCH",
    "FORGE_IDENTITY",
    "Forge",
    "ForgeCorrupt",
    "ForgeError",
    "HeadMoved",
    "HypothesisBlockError",
    "InvalidTransition",
    "LocalForge",
    "NoForge",
    "PRState",
    "PullRequest",
    "PullRequestNotFound",
    "Review",
    "Verdict",
    "latest_by_reviewer",
    "parse_block",
    "render_block",
    "reviews_bound_to",
    "strip_block",
]
