"""The git layer: a typed wrapper over the repository AlphaLoop stands in.

:class:`GitRepo` opens a repository, reads refs, trees and diffs, makes worktrees and
commits for the bot's roles, squash-merges with plumbing and advances a branch without
ever losing the user's uncommitted work, and refuses a merge whose tree is not the
reviewed one. :func:`materialise_tree` writes a commit's tree to disk exactly as stored
(no attributes, filters or hooks): the one view of a commit every gate reads.
:class:`DataBranch` keeps records as files on a branch (the local forge uses it).
Errors form one tree rooted at :class:`GitError`.
"""

from alphaloop.repo.databranch import DataBranch, Snapshot
from alphaloop.repo.errors import (
    BareRepository,
    CommandFailed,
    DetachedHead,
    EmptyMerge,
    GitError,
    LocalChangesOverlap,
    MergeConflict,
    NotARepository,
    NotFastForward,
    NothingToCommit,
    RefMoved,
    RefNotFound,
    TreeMismatch,
    WorktreeError,
)
from alphaloop.repo.files import commit_files
from alphaloop.repo.gitrepo import GitRepo
from alphaloop.repo.identity import Identity
from alphaloop.repo.models import AdvanceMode, DiffStat, FileChange, WorktreeInfo
from alphaloop.repo.tree import MaterialisedTree, TreeEntry, list_tree, materialise_tree

__all__ = [
    "AdvanceMode",
    "BareRepository",
    "CommandFailed",
    "DataBranch",
    "DetachedHead",
    "DiffStat",
    "EmptyMerge",
    "FileChange",
    "GitError",
    "GitRepo",
    "Identity",
    "LocalChangesOverlap",
    "MaterialisedTree",
    "MergeConflict",
    "NotARepository",
    "NotFastForward",
    "NothingToCommit",
    "RefMoved",
    "RefNotFound",
    "Snapshot",
    "TreeEntry",
    "TreeMismatch",
    "WorktreeError",
    "WorktreeInfo",
    "commit_files",
    "list_tree",
    "materialise_tree",
]
