"""A typed wrapper over the git repository AlphaLoop stands in.

Every git call is an argument list run through GitPython, never a shell string. The bot
works beside a human: it builds its commits in worktrees under
``.git/alphaloop/worktrees/`` and merges with plumbing (``merge-tree`` + ``commit-tree``),
so the user's checkout is only ever touched by a fast-forward that git itself guarantees
keeps local changes (see :meth:`GitRepo.advance_branch`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import git

from alphaloop.repo._command import GitOutput, run_git
from alphaloop.repo._parse import (
    commits_with_trailer,
    overlapping_files,
    parse_merge_tree,
    parse_numstat,
    parse_worktrees,
)
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
    WorktreeError,
)
from alphaloop.repo.identity import Identity
from alphaloop.repo.merge_check import verify_squash
from alphaloop.repo.models import AdvanceMode, DiffStat, WorktreeInfo

__all__ = ["GitRepo"]

_DEFAULT_RETRY_HINT = "run the command again"


class GitRepo:
    """A non-bare git repository: its work tree, its git dir and the shared common dir."""

    def __init__(self, work_tree: Path, git_dir: Path, common_dir: Path) -> None:
        self.work_tree = work_tree
        self.git_dir = git_dir
        self.common_dir = common_dir

    def __repr__(self) -> str:
        return f"GitRepo({str(self.work_tree)!r})"

    # -- opening ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str = ".") -> GitRepo:
        """Open the repository containing ``path`` (a work tree or any folder inside one)."""
        where = Path(path).expanduser().resolve()
        if not where.exists():
            raise NotARepository(f"{where} does not exist; pass the path of a git repository.")
        try:
            repo = git.Repo(where, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise NotARepository(
                f"{where} is not inside a git repository; run AlphaLoop from a clone "
                f"(or create one with `git init`)."
            ) from None
        try:
            if repo.bare or repo.working_tree_dir is None:
                raise BareRepository(
                    f"{repo.git_dir} is a bare repository; AlphaLoop needs a work tree: "
                    f"clone it (`git clone {repo.git_dir} DIR`) and run from the clone."
                )
            return cls(Path(repo.working_tree_dir).resolve(), Path(repo.git_dir).resolve(),
                       Path(repo.common_dir).resolve())
        finally:
            repo.close()

    @classmethod
    def init(cls, path: Path | str, *, initial_branch: str = "main") -> GitRepo:
        """Create an empty repository at ``path`` (made if missing) and open it."""
        where = Path(path).expanduser().resolve()
        where.mkdir(parents=True, exist_ok=True)
        run_git(["init", "--quiet", f"--initial-branch={initial_branch}", str(where)], cwd=where)
        return cls.open(where)

    @property
    def alphaloop_dir(self) -> Path:
        """``.git/alphaloop``: the bot's private state (worktrees, runs, the cycle lock)."""
        return self.common_dir / "alphaloop"

    def git(self, *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            input: bytes | None = None, ok: Sequence[int] = (0,)) -> GitOutput:
        """Run a git command in this repository (or in ``cwd``, e.g. one of its worktrees)."""
        return run_git(args, cwd=cwd or self.work_tree, env=env, input=input, ok=ok)

    def config_get(self, key: str) -> str | None:
        """The value of a git config key as git resolves it here, or None if unset."""
        out = self.git("config", "--get", key, ok=(0, 1))
        return out.text if out.status == 0 else None

    # -- refs ------------------------------------------------------------------------

    def rev_parse(self, rev: str) -> str:
        """The full commit id ``rev`` names; :class:`RefNotFound` if it names no commit."""
        out = self.git("rev-parse", "--verify", "--quiet", "--end-of-options",
                       f"{rev}^{{commit}}", ok=(0, 1, 128))
        if out.status != 0:
            raise RefNotFound(f"{rev!r} names no commit in {self.work_tree}; check the name "
                              f"with `git log --oneline --all`.")
        return out.text

    def head_sha(self, rev: str = "HEAD") -> str:
        """The commit id of HEAD (or of ``rev``)."""
        return self.rev_parse(rev)

    def current_branch(self) -> str:
        """The branch checked out in this work tree; :class:`DetachedHead` if none is."""
        out = self.git("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        if out.status != 0:
            raise DetachedHead(
                f"HEAD is detached in {self.work_tree}; AlphaLoop needs a branch: "
                f"`git switch main` (or the branch you work on) and run again."
            )
        return out.text

    def branch_sha(self, branch: str) -> str | None:
        """The commit a local branch points at, or None if there is no such branch."""
        out = self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}",
                       ok=(0, 1, 128))
        return out.text if out.status == 0 else None

    def branch_exists(self, branch: str) -> bool:
        return self.branch_sha(branch) is not None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is ``descendant`` or one of its ancestors."""
        out = self.git("merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1))
        return out.status == 0

    def update_ref(self, ref: str, new_sha: str, *, expected_old: str | None,
                   message: str) -> None:
        """Point ``ref`` at ``new_sha`` only if it is still at ``expected_old``.

        ``expected_old=None`` means the ref must not exist yet. Losing the race raises
        :class:`RefMoved`.
        """
        old = expected_old if expected_old is not None else "0" * len(new_sha)
        try:
            self.git("update-ref", "-m", message, ref, new_sha, old)
        except CommandFailed as error:
            current = self.git("rev-parse", "--verify", "--quiet", ref, ok=(0, 1, 128))
            now = current.text if current.status == 0 else None
            if now != expected_old:
                raise RefMoved(
                    f"{ref} moved while it was being updated (expected "
                    f"{(expected_old or 'no ref')[:12]}, found {(now or 'no ref')[:12]}); "
                    f"someone else changed it: re-read and try again."
                ) from error
            raise

    def delete_branch(self, branch: str) -> None:
        """Delete a local branch (it must not be checked out anywhere)."""
        self.git("branch", "--delete", "--force", branch)

    def find_commit_with_trailer(self, branch: str, key: str, value: str, *,
                                 max_count: int = 500) -> str | None:
        """The newest first-parent commit of ``branch`` whose message has ``key: value``."""
        out = self.git("log", "--first-parent", f"--max-count={max_count}",
                       "--format=%x1e%H%x1f%B", f"refs/heads/{branch}")
        found = commits_with_trailer(out.text, key, value)
        return found[0] if found else None

    # -- contents and changes --------------------------------------------------------

    def tree_hash(self, ref: str = "HEAD", path: str = "strategy") -> str:
        """The object id of ``path`` at ``ref``: equal ids mean identical contents."""
        sha = self.rev_parse(ref)
        spec = f"{sha}^{{tree}}" if path in ("", ".") else f"{sha}:{path.strip('/')}"
        out = self.git("rev-parse", "--verify", "--quiet", spec, ok=(0, 1, 128))
        if out.status != 0:
            raise RefNotFound(f"there is no {path!r} at {ref} ({sha[:12]}).")
        return out.text

    def read_file(self, ref: str, path: str) -> bytes:
        """The contents of ``path`` at ``ref``."""
        sha = self.rev_parse(ref)
        out = self.git("cat-file", "blob", f"{sha}:{path}", ok=(0, 128))
        if out.status != 0:
            raise RefNotFound(f"there is no file {path!r} at {ref} ({sha[:12]}).")
        return out.stdout

    def is_dirty(self, *, untracked: bool = True, cwd: Path | None = None) -> bool:
        """Whether the work tree (or worktree ``cwd``) has uncommitted changes."""
        mode = "--untracked-files=normal" if untracked else "--untracked-files=no"
        return bool(self.git("status", "--porcelain", "-z", mode, cwd=cwd).stdout)

    def changed_files(self, base: str, head: str) -> list[str]:
        """Paths that differ between two commits (renames as delete + add), sorted."""
        out = self.git("diff", "--name-only", "-z", "--no-renames",
                       self.rev_parse(base), self.rev_parse(head))
        return sorted(out.nul_fields())

    def diff_stat(self, base: str, head: str) -> DiffStat:
        """Lines added and deleted per file between two commits."""
        base_sha, head_sha = self.rev_parse(base), self.rev_parse(head)
        out = self.git("diff", "--numstat", "-z", "--no-renames", base_sha, head_sha)
        return DiffStat(base=base_sha, head=head_sha, files=tuple(parse_numstat(out.nul_fields())))

    # -- worktrees -------------------------------------------------------------------

    def worktrees(self) -> list[WorktreeInfo]:
        """Every worktree of this repository, the main one first."""
        return parse_worktrees(self.git("worktree", "list", "--porcelain", "-z").nul_fields())

    def worktree_path(self, branch: str) -> Path:
        """Where the bot's worktree for ``branch`` lives."""
        return self.alphaloop_dir / "worktrees" / branch

    def worktree_of(self, branch: str) -> WorktreeInfo | None:
        """The worktree that has ``branch`` checked out, if any."""
        return next((w for w in self.worktrees() if w.branch == branch), None)

    def create_worktree(self, branch: str, base: str) -> Path:
        """Check out a new ``branch`` from ``base`` in its own worktree; return its path.

        Idempotent for resume: if the worktree already exists on that branch it is
        returned as it is, and an existing branch is checked out without being moved.
        """
        path = self.worktree_path(branch)
        holder = self.worktree_of(branch)
        force: list[str] = []
        if holder is not None:
            if holder.path.resolve() != path.resolve():
                raise WorktreeError(
                    f"branch {branch!r} is already checked out in {holder.path}; switch that "
                    f"checkout to another branch or remove it, then run again."
                )
            if path.is_dir():
                return path
            force = ["--force"]  # registered but its folder was deleted: re-create it
        elif path.exists() and any(path.iterdir()):
            raise WorktreeError(
                f"{path} exists but is not a worktree of {branch!r}; remove that folder "
                f"(`git worktree prune` if it was one) and run again."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.branch_exists(branch):
            self.git("worktree", "add", "--quiet", *force, str(path), branch)
        else:
            self.git("worktree", "add", "--quiet", *force, "-b", branch, str(path),
                     self.rev_parse(base))
        return path

    def remove_worktree(self, branch: str, *, delete_branch: bool = False,
                        force: bool = False) -> None:
        """Remove the bot's worktree for ``branch`` (and the branch if asked).

        Refuses a worktree holding uncommitted changes unless ``force``; never touches a
        worktree outside ``.git/alphaloop/worktrees``.
        """
        holder = self.worktree_of(branch)
        if holder is not None:
            ours = self.alphaloop_dir / "worktrees"
            if not holder.path.resolve().is_relative_to(ours.resolve()):
                raise WorktreeError(
                    f"branch {branch!r} is checked out in {holder.path}, which AlphaLoop did "
                    f"not create; it will not remove it."
                )
            try:
                self.git("worktree", "remove", *(["--force"] if force else []),
                         str(holder.path))
            except CommandFailed as error:
                raise WorktreeError(
                    f"cannot remove the worktree {holder.path}: {error.stderr}. Commit or "
                    f"discard its changes, or remove it with force."
                ) from error
        if delete_branch and self.branch_exists(branch):
            self.delete_branch(branch)

    # -- commits ---------------------------------------------------------------------

    def commit_all(self, worktree: Path, message: str, identity: Identity) -> str:
        """Commit every change in ``worktree`` (tracked, new and deleted files) as ``identity``.

        Author and committer are set explicitly; local hooks and signing are skipped (the
        bot's own gates check its commits). :class:`NothingToCommit` if nothing changed.
        """
        self.git("add", "--all", cwd=worktree)
        if self.git("diff", "--cached", "--quiet", cwd=worktree, ok=(0, 1)).status == 0:
            raise NothingToCommit(f"nothing to commit in {worktree}: the worktree is clean.")
        self.git("-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify",
                 "--message", message, cwd=worktree, env=identity.env())
        return self.git("rev-parse", "HEAD", cwd=worktree).text

    def commit_tree(self, tree: str, parents: Sequence[str], message: str,
                    identity: Identity, *, author: Identity | None = None) -> str:
        """Write a commit object for ``tree`` (no ref moves); return its id. ``identity``
        commits it; ``author`` (default: ``identity``) is named as its author."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = identity.env()
        if author is not None:
            env.update(GIT_AUTHOR_NAME=author.name, GIT_AUTHOR_EMAIL=author.email)
        return self.git(*args, "-F", "-", input=message.encode(), env=env).text

    def merge_tree(self, base: str, head: str) -> tuple[int, list[str]]:
        """``git merge-tree --write-tree`` of two commits: (status, its NUL fields)."""
        out = self.git("merge-tree", "--write-tree", "--name-only", "--no-messages", "-z",
                       base, head, ok=(0, 1), env={"GIT_NO_REPLACE_OBJECTS": "1"})
        return out.status, out.nul_fields()

    def squash_merge(self, branch: str, into: str, message: str, identity: Identity, *,
                     retry_hint: str = _DEFAULT_RETRY_HINT,
                     exact_paths: Sequence[str] = (), author: Identity | None = None) -> str:
        """Squash ``branch`` (a branch name or commit) onto branch ``into``; return the commit.

        The merge is computed without any work tree (``git merge-tree --write-tree``), the
        squash commit has ``into`` as its only parent, and ``into`` is then moved with
        :meth:`advance_branch`. On conflict nothing changes and :class:`MergeConflict`
        lists the paths. Before any ref moves the merged tree is checked to be ``into``
        with exactly the branch's change applied, and equal to the branch's tree under
        ``exact_paths`` (:func:`~alphaloop.repo.merge_check.verify_squash`):
        :class:`TreeMismatch` otherwise. ``identity`` commits the squash; ``author``
        (default: ``identity``) is named as its author.
        """
        into_old = self.branch_sha(into)
        if into_old is None:
            raise RefNotFound(f"there is no branch {into!r} to merge into.")
        head = self.rev_parse(branch)
        if self.is_ancestor(head, into_old):
            raise EmptyMerge(f"{branch} ({head[:12]}) is already contained in {into}.")
        status, fields = self.merge_tree(into_old, head)
        tree, conflicts = parse_merge_tree(fields)
        if status == 1:
            raise MergeConflict(branch, into, conflicts)
        if tree == self.tree_hash(into_old, ""):
            raise EmptyMerge(f"merging {branch} into {into} would change nothing.")
        verify_squash(self, base=into_old, head=head, merged_tree=tree, exact=exact_paths)
        sha = self.commit_tree(tree, [into_old], message, identity, author=author)
        if self.tree_hash(sha, "") != tree:
            raise GitError(f"the merge commit {sha[:12]} does not hold the checked tree.")
        self.advance_branch(into, sha, into_old, retry_hint=retry_hint)
        return sha

    def revert_commit(self, commits: Sequence[str], onto: str, message: str,
                      identity: Identity) -> str:
        """One commit on top of ``onto`` (a commit) undoing ``commits`` (newest first);
        return it. No ref moves.

        The revert is computed by ``git revert --no-commit`` in a throw-away detached
        worktree under ``.git/alphaloop/worktrees/``, so the user's checkout is never
        touched. When a later commit changed the same lines, :class:`MergeConflict`
        names the files and nothing is written.
        """
        base = self.rev_parse(onto)
        shas = [self.rev_parse(c) for c in commits]
        if not shas:
            raise ValueError("nothing to revert")
        scratch = self.alphaloop_dir / "worktrees" / f".revert-{base[:12]}-{os.getpid()}"
        scratch.parent.mkdir(parents=True, exist_ok=True)
        self.git("worktree", "add", "--quiet", "--detach", "--force", str(scratch), base)
        try:
            out = self.git("-c", "core.hooksPath=/dev/null", "revert", "--no-commit",
                           "--no-edit", *shas, cwd=scratch, ok=range(256))
            if out.status != 0:
                conflicted = self.git("diff", "--name-only", "--diff-filter=U",
                                      cwd=scratch).lines()
                raise MergeConflict(f"the revert of {', '.join(s[:12] for s in shas)}",
                                    f"{base[:12]}", conflicted or [out.stderr.strip()])
            tree = self.git("write-tree", cwd=scratch).text
        finally:
            self.git("worktree", "remove", "--force", str(scratch), ok=range(256))
            shutil.rmtree(scratch, ignore_errors=True)
        if tree == self.tree_hash(base, ""):
            raise EmptyMerge(f"reverting {', '.join(s[:12] for s in shas)} on {base[:12]} "
                             "would change nothing: it is already undone.")
        return self.commit_tree(tree, [base], message, identity)

    def advance_branch(self, branch: str, new_sha: str, expected_old: str, *,
                       retry_hint: str = _DEFAULT_RETRY_HINT) -> AdvanceMode:
        """Move ``branch`` forward from ``expected_old`` to ``new_sha``, keeping user work.

        If the branch is checked out in a worktree (e.g. the user's main checkout) this is
        exactly ``git merge --ff-only new_sha`` run there, which keeps uncommitted changes
        (modified, staged and untracked files) that do not overlap the change; where they
        overlap git refuses and :class:`LocalChangesOverlap` names the files, with nothing
        changed. Otherwise the ref is updated with compare-and-swap on ``expected_old``.
        Returns how the branch moved; already at ``new_sha`` is "unchanged".
        """
        new = self.rev_parse(new_sha)
        old = self.rev_parse(expected_old)
        current = self.branch_sha(branch)
        if current is None:
            raise RefNotFound(f"there is no branch {branch!r} to advance.")
        if current == new:
            return "unchanged"
        if current != old:
            raise RefMoved(
                f"branch {branch!r} is at {current[:12]}, not at {old[:12]} as expected: it "
                f"moved meanwhile. Nothing was changed; {retry_hint}."
            )
        if not self.is_ancestor(old, new):
            raise NotFastForward(f"{new[:12]} does not descend from {branch} ({old[:12]}).")
        holder = self.worktree_of(branch)
        if holder is None or holder.prunable or not holder.path.is_dir():
            self.update_ref(f"refs/heads/{branch}", new, expected_old=old,
                            message=f"alphaloop: advance {branch}")
            return "ref"
        out = self.git("merge", "--ff-only", "--no-autostash", "--quiet", new,
                       cwd=holder.path, env={"GIT_REFLOG_ACTION": f"alphaloop: advance {branch}"},
                       ok=range(256))
        if out.status != 0:
            files = overlapping_files(out.stderr)
            if files is not None:
                raise LocalChangesOverlap(branch, holder.path, files, retry_hint)
            raise GitError(
                f"git refused to fast-forward {branch!r} in {holder.path}: "
                f"{out.stderr.strip()}. Nothing was changed; finish or abort what is in "
                f"progress there, then {retry_hint}."
            )
        if self.branch_sha(branch) != new:
            raise GitError(f"fast-forward of {branch!r} in {holder.path} did not reach "
                           f"{new[:12]}; check `git status` there.")
        return "worktree"
