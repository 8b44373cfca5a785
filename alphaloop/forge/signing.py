"""Reviews the bot wrote, told apart from reviews anyone could write to the forge branch.

The forge branch is plain git: whoever can push to it can write a record that says
"risk approved". So every review a role makes carries an HMAC-SHA256 over its canonical
content - reviewer, verdict, severity, PR number, head commit, head tree and a digest of
the summary and findings - made with a key the bot holds outside the repository:

- ``$ALPHALOOP_REVIEW_KEY`` (CI passes it as a secret), else
- ``${XDG_CONFIG_HOME:-~/.config}/alphaloop/review.key``, created with mode 0600 the
  first time the bot signs, and refused if others may read it.

The merge gate counts a role's review only if its signature verifies against the PR's
current head commit *and* that commit's tree: a hand-written, edited or rebound review
is reported and ignored. The key is the bot's one key (:mod:`alphaloop.keys`);
reviews use a key derived from it for this purpose only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alphaloop.forge.errors import ForgeError
from alphaloop.keys import KEY_ENV, bot_key, key_path

__all__ = ["KEY_ENV", "ReviewKey", "ReviewKeyError", "key_file", "review_payload"]

SCHEME = "hmac-sha256:v1"


class ReviewKeyError(ForgeError):
    """The review-signing key is missing, too short or readable by others."""


def key_file(environ: Mapping[str, str] | None = None) -> Path:
    """Where the bot keeps its key when ``$ALPHALOOP_REVIEW_KEY`` is not set."""
    return key_path(environ)


def review_payload(*, reviewer: str, verdict: str, severity: int, pr_number: int,
                   commit_sha: str, tree_sha: str, summary: str,
                   findings: Sequence[Mapping[str, Any]]) -> bytes:
    """The canonical bytes a review's signature covers."""
    body = json.dumps({"summary": summary, "findings": [dict(f) for f in findings]},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    content = {"scheme": SCHEME, "reviewer": reviewer, "verdict": verdict,
               "severity": severity, "pr": pr_number, "commit": commit_sha,
               "tree": tree_sha, "body": hashlib.sha256(body.encode()).hexdigest()}
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


class ReviewKey:
    """The bot's secret for signing and verifying reviews (never written to a record)."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ReviewKeyError("the review key is empty; set $ALPHALOOP_REVIEW_KEY or "
                                 "remove the empty key file so a new one is made.")
        self._secret = hashlib.sha256(b"alphaloop-review-signing:" + secret).digest()

    def __repr__(self) -> str:
        return "ReviewKey(<secret>)"

    @property
    def key_id(self) -> str:
        """A short public name for the key (shows which key signed, reveals nothing)."""
        return hashlib.sha256(b"alphaloop-review-key-id:" + self._secret).hexdigest()[:16]

    def sign(self, payload: bytes) -> str:
        return hmac.new(self._secret, payload, hashlib.sha256).hexdigest()

    def verify(self, payload: bytes, signature: str | None) -> bool:
        return bool(signature) and hmac.compare_digest(self.sign(payload), signature or "")

    @classmethod
    def load(cls, *, create: bool = False,
             environ: Mapping[str, str] | None = None) -> ReviewKey | None:
        """The bot's key (:func:`alphaloop.keys.bot_key`); None if there is none yet.

        Only ``create`` makes a missing key file. A key file others may read is refused.
        """
        env = os.environ if environ is None else environ
        if not env.get(KEY_ENV):
            path = key_file(env)
            if not path.exists() and not create:
                return None
            if path.exists() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ReviewKeyError(
                    f"{path} may be read by other users; restrict it with `chmod 600 {path}` "
                    f"(reviews are neither signed nor trusted until then).")
        return cls(bot_key(env))
