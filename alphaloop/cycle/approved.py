"""The tunables a human last approved: the reference of the merge policy's 20% rule.

Moves are measured against the last value a human approved, not against the current
``main``: otherwise a tunable walks 1.0 -> 0.85 -> 0.722 -> 0.614 (-39%) in automatic
steps of 15% that each stay under the rule. The reference is ``strategy/tunables.py`` at
the newest commit on the base branch's first-parent history that changed it and did not
come from an automatic merge: a commit without an ``AlphaLoop-PR`` trailer (a human's),
or the merge of a pull request a human approved at the head that merged. Without such
a commit, the file's first version (the baseline) is the reference.
"""

from __future__ import annotations

from alphaloop.evaluation.tunables import TUNABLES_PATH, read_tunables
from alphaloop.forge import Forge
from alphaloop.forge.errors import ForgeError
from alphaloop.forge.local import PR_TRAILER
from alphaloop.repo import GitRepo

__all__ = ["approved_tunables"]


def _human_approved(forge: Forge, number: str) -> bool:
    try:
        pr = forge.get_pr(int(number))
        reviews = forge.reviews(pr.number)
    except (ForgeError, ValueError):
        return False  # a merge the forge cannot vouch for counts as automatic
    return any(r.human and r.verdict == "approve" and r.commit_sha == pr.merged_head
               for r in reviews)


def approved_tunables(repo: GitRepo, forge: Forge,
                      rev: str) -> tuple[str | None, dict[str, float | int | str]]:
    """The commit whose tunables are the reference at ``rev``, and those tunables.

    ``(None, {})`` when ``rev``'s history never held ``strategy/tunables.py``.
    """
    log = repo.git("log", "--first-parent", "--format=%H%x1f%(trailers:key="
                   f"{PR_TRAILER},valueonly,separator=)%x1e", rev, "--", TUNABLES_PATH).text
    rows = [row.strip().split("\x1f") for row in log.split("\x1e") if row.strip()]
    for sha, number in ((r[0], r[1].strip() if len(r) > 1 else "") for r in rows):
        if not number or _human_approved(forge, number):
            return sha, _read(repo, sha)
    if rows:  # only automatic merges: the first version is the baseline
        first = repo.git("log", "--first-parent", "--reverse", "--format=%H", rev, "--",
                         TUNABLES_PATH).text.split()[0]
        return first, _read(repo, first)
    return None, {}


def _read(repo: GitRepo, sha: str) -> dict[str, float | int | str]:
    try:
        return read_tunables(repo.read_file(sha, TUNABLES_PATH))
    except Exception:  # deleted at that commit
        return {}
