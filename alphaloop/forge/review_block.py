"""A role's review written into a comment for people, with its record for machines.

On a hosted forge a review is text on the pull request. The bot writes the verdict and
summary for people, then the whole record - signature included - as a fenced JSON block::

    ```alphaloop-review
    {"commit_sha": "...", "reviewer": "risk", "signature": "...", ...}
    ```

:func:`parse_review_block` reads it back. The block proves nothing by itself (anyone can
write one): the forge counts it only if the signature verifies for the pull request's
head commit and tree (:mod:`alphaloop.forge.signing`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from alphaloop.forge.errors import ForgeCorrupt
from alphaloop.forge.records import Review

__all__ = ["REVIEW_INFO_STRING", "parse_review_block", "render_review"]

REVIEW_INFO_STRING = "alphaloop-review"

_BLOCK = re.compile(r"^```" + re.escape(REVIEW_INFO_STRING) + r"[ \t]*\n(?P<body>.*?)^```[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_WORDS = {"approve": "approves", "request_changes": "requests changes", "veto": "vetoes",
          "comment": "comments"}


def render_review(review: Review) -> str:
    """The comment body for ``review``: a heading, the summary, findings, the block."""
    lines = [f"**{review.reviewer}** {_WORDS[review.verdict]} `{review.commit_sha[:12]}` "
             f"(severity {review.severity})", ""]
    if review.summary:
        lines += [review.summary, ""]
    for finding in review.findings[:20]:
        message = str(finding.get("message") or finding.get("check") or "finding")
        where = finding.get("path")
        lines.append(f"- {message}" + (f" (`{where}`)" if where else ""))
    if review.findings:
        lines.append("")
    record = review.model_dump(mode="json", exclude={"id"})
    text = json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False)
    lines += [f"```{REVIEW_INFO_STRING}", text, "```", ""]
    return "\n".join(lines)


def parse_review_block(body: str, *, review_id: int) -> Review | None:
    """The review record in ``body`` (given ``review_id``), or None if there is none."""
    match = _BLOCK.search(body or "")
    if match is None:
        return None
    try:
        data: Any = json.loads(match.group("body"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return Review.model_validate({**data, "id": review_id})
    except (ValueError, RecursionError) as error:
        raise ForgeCorrupt(f"review {review_id} holds an {REVIEW_INFO_STRING} block that is "
                           f"not a valid review ({str(error).splitlines()[0]}).") from None
