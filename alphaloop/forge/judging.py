"""What every forge checks the same way: which reviews of a head count, and whether a
merge is still merging what was reviewed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alphaloop.forge.errors import HeadMoved
from alphaloop.forge.records import Review
from alphaloop.forge.signing import ReviewKey, ReviewKeyError
from alphaloop.repo import GitRepo, TreeMismatch

__all__ = ["check_merge_head", "judge_reviews"]


def judge_reviews(on_head: Sequence[Review], *, number: int, head: str, tree: str,
                  load_key: Callable[[], ReviewKey | None],
                  refuse_human: Callable[[Review], str | None] = lambda review: None,
                  ) -> tuple[list[Review], list[str]]:
    """The reviews of ``head`` that count, and a line for each one ignored.

    A role's review counts only if the bot's key verifies its signature for ``head`` and
    its ``tree``; a person's review unless ``refuse_human`` gives a reason.
    """
    key: ReviewKey | None = None
    problem = ""
    if any(not r.human for r in on_head):
        try:
            key = load_key()
        except ReviewKeyError as error:
            problem = f" ({error})"
        else:
            problem = "" if key is not None else " (this machine holds no review key)"
    valid: list[Review] = []
    ignored: list[str] = []
    for review in on_head:
        if review.human:
            reason = refuse_human(review)
            if reason is None:
                valid.append(review)
            else:
                ignored.append(f"review by {review.reviewer} on #{number}: {reason}: ignored")
        elif key is not None and key.verify(review.payload(tree), review.signature):
            valid.append(review)
        else:
            ignored.append(f"review by {review.reviewer} on #{number} is not signed "
                           f"by this bot for {head[:10]}: ignored{problem}")
    return valid, ignored


def check_merge_head(repo: GitRepo, branch: str, head: str, *, expected_head: str | None,
                     reviewed_tree: str | None) -> None:
    """Refuse a merge of ``head`` if it is not ``expected_head`` (:class:`HeadMoved`) or its
    tree is not ``reviewed_tree`` (:class:`~alphaloop.repo.TreeMismatch`)."""
    if expected_head is not None and head != repo.rev_parse(expected_head):
        raise HeadMoved(f"branch {branch!r} moved to {head[:12]} after it was "
                        f"checked at {expected_head[:12]}; its reviews must be redone.")
    if reviewed_tree is not None and repo.tree_hash(head, "") != reviewed_tree:
        raise TreeMismatch(head, ["(the whole tree)"], f"the head's tree is not the "
                           f"reviewed tree {reviewed_tree[:12]}")
