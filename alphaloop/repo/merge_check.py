"""What a squash merge lands must be what was reviewed, checked before any ref moves.

A squash merge of ``head`` onto ``base`` must produce ``base``'s tree with the reviewed
change applied, nothing more and nothing less: every path the change touches
(``merge-base..head``) ends as it is at ``head``, every other path stays as it is at
``base``, and under the exactly-reviewed prefixes (``strategy/`` by default) the merged
tree equals ``head``'s tree file for file, so the code that runs after the merge is the
code that was backtested. :func:`verify_squash` raises :class:`TreeMismatch` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from alphaloop.repo.errors import TreeMismatch

if TYPE_CHECKING:
    from alphaloop.repo.gitrepo import GitRepo

__all__ = ["verify_squash"]

_RAW = {"GIT_NO_REPLACE_OBJECTS": "1"}
Entry = tuple[str, str]  # (mode, object id)


def _entries(repo: GitRepo, treeish: str) -> dict[str, Entry]:
    out = repo.git("ls-tree", "-r", "-z", "--full-tree", treeish, env=_RAW)
    entries: dict[str, Entry] = {}
    for field in out.nul_fields():
        meta, _, path = field.partition("\t")
        mode, _kind, sha = meta.split()
        entries[path] = (mode, sha)
    return entries


def _changed(repo: GitRepo, old: str, new: str) -> set[str]:
    out = repo.git("diff-tree", "-r", "-z", "--no-renames", "--name-only", "--no-ext-diff",
                   "--no-textconv", old, new, env=_RAW)
    return set(out.nul_fields())


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.strip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def verify_squash(repo: GitRepo, *, base: str, head: str, merged_tree: str,
                  exact: Sequence[str] = ("strategy",)) -> None:
    """Raise :class:`TreeMismatch` unless ``merged_tree`` is ``base`` plus the reviewed change.

    ``base`` is the commit the merge lands on, ``head`` the reviewed commit; ``exact``
    lists prefixes under which the merged tree must equal ``head``'s.
    """
    merge_base = repo.git("merge-base", base, head, ok=(0, 1)).text
    reviewed = _changed(repo, merge_base or f"{base}^{{tree}}", head)
    merged, at_head, at_base = (_entries(repo, merged_tree), _entries(repo, head),
                                _entries(repo, base))
    wrong = sorted(
        path for path in set(merged) | set(at_head) | set(at_base)
        if merged.get(path) != (at_head.get(path) if path in reviewed else at_base.get(path)))
    if wrong:
        raise TreeMismatch(head, wrong, "the merge would not be the base with exactly the "
                           "reviewed change applied")
    for prefix in exact:
        differs = sorted(path for path in set(merged) | set(at_head)
                         if _under(path, prefix) and merged.get(path) != at_head.get(path))
        if differs:
            raise TreeMismatch(head, differs, f"{prefix}/ after the merge would differ from "
                               "the reviewed commit's (the base changed it since)")
