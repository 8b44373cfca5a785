"""Pull requests and reviews: the :class:`Forge` protocol and its backends.

:class:`LocalForge` keeps PRs and reviews in git itself, on the orphan branch
``alphaloop/forge``; :class:`~alphaloop.forge.github.GitHubForge` keeps them on GitHub
(imported on demand: :func:`open_forge` picks the backend). Reviews are bound to
the commit they looked at: :meth:`Forge.valid_reviews` returns only those bound to the
PR's current head, so approvals are void once the branch moves; a role's review counts
only if the bot signed it (:class:`ReviewKey`), so a hand-written one is ignored.
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
from alphaloop.forge.local import FORGE_BRANCH, FORGE_IDENTITY, LocalForge, with_trailers
from alphaloop.forge.open import FORGE_KINDS, open_forge
from alphaloop.forge.protocol import Forge
from alphaloop.forge.records import (
    PRState,
    PullRequest,
    Review,
    ReviewCheck,
    Verdict,
    latest_by_reviewer,
    reviews_bound_to,
)
from alphaloop.forge.signing import KEY_ENV, ReviewKey, ReviewKeyError, key_file

__all__ = [
    "BLOCK_INFO_STRING",
    "FORGE_BRANCH",
    "FORGE_IDENTITY",
    "FORGE_KINDS",
    "KEY_ENV",
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
    "ReviewCheck",
    "ReviewKey",
    "ReviewKeyError",
    "Verdict",
    "key_file",
    "latest_by_reviewer",
    "open_forge",
    "parse_block",
    "render_block",
    "reviews_bound_to",
    "strip_block",
    "with_trailers",
]
