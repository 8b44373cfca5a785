"""Closing the bot's pull requests that a newer one for the same task replaces."""

from __future__ import annotations

from alphaloop.forge.errors import HypothesisBlockError
from alphaloop.forge.protocol import Forge
from alphaloop.forge.records import PullRequest

__all__ = ["close_superseded"]


def _task(pr: PullRequest) -> str | None:
    try:
        block = pr.hypothesis
    except HypothesisBlockError:
        return None
    task = (block or {}).get("task_id")
    return str(task) if task else None


def close_superseded(forge: Forge, keep: int, *, reason: str | None = None) -> list[int]:
    """Close every other open pull request the bot opened for the task ``keep`` works on
    (its hypothesis block's ``task_id``), labelled ``superseded``; their numbers.

    A person's pull request, or one without a task, is never closed.
    """
    kept = forge.get_pr(keep)
    task = _task(kept)
    if task is None:
        return []
    closed: list[int] = []
    for pr in forge.list_prs(state="open"):
        if pr.number == keep or pr.author_role == "human" or _task(pr) != task:
            continue
        forge.update_pr(pr.number, state="closed",
                        labels=(*pr.labels, "superseded") if "superseded" not in pr.labels
                        else pr.labels,
                        closed_reason=reason or f"superseded by #{keep}")
        closed.append(pr.number)
    return closed
