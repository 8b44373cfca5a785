"""The embedded forge: pull requests and reviews stored in git itself.

Records live as JSON files on the orphan branch ``alphaloop/forge``, so pushing and
fetching that branch carries them between clones, and its history is the audit trail of
every PR event::

    README.md                        what this branch is
    prs/0001/pr.json                 pull request #1
    prs/0001/reviews/0001.json       its first review
    prs/0001/reviews/0002.json       ...

Every write is one commit made with plumbing (see :class:`~alphaloop.repo.DataBranch`):
no work tree or index of the user's is touched, and concurrent writers cannot lose each
other's records or draw the same PR number.

Anyone who can push the branch can write a record, so a role's review counts only if the
bot signed it (:mod:`alphaloop.forge.signing`) for the PR's current head commit and tree;
:meth:`LocalForge.review_check` names every review it ignores. A merge lands only the
reviewed tree: the squash commit is checked to be the base plus exactly the reviewed
change, with ``strategy/`` equal to the reviewed commit's, before the base branch moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alphaloop.forge.errors import (
    ForgeCorrupt,
    ForgeError,
    InvalidTransition,
    NoForge,
    PullRequestNotFound,
)
from alphaloop.forge.judging import check_merge_head, judge_reviews
from alphaloop.forge.protocol import Forge
from alphaloop.forge.records import (
    PRState,
    PullRequest,
    Review,
    ReviewCheck,
    Verdict,
)
from alphaloop.forge.signing import ReviewKey
from alphaloop.repo import DataBranch, GitRepo, Identity, RefNotFound, Snapshot

__all__ = ["FORGE_BRANCH", "FORGE_IDENTITY", "LocalForge", "revert_through_pr"]

FORGE_BRANCH = "alphaloop/forge"
FORGE_IDENTITY = Identity(name="AlphaLoop forge", email="forge@alphaloop.invalid")
PR_TRAILER = "AlphaLoop-PR"
HEAD_TRAILER = "AlphaLoop-Head"
REVERTS_TRAILER = "AlphaLoop-Reverts"

RecordT = TypeVar("RecordT", PullRequest, Review)

_PR_PATH = re.compile(r"^prs/(\d{4,})/pr\.json$")
_README = b"""# AlphaLoop forge

This branch holds AlphaLoop's pull requests and reviews, one JSON file each:
`prs/NNNN/pr.json` and `prs/NNNN/reviews/MMMM.json`. It shares no history with the code.
Read it with `alphaloop pr list` / `alphaloop pr show N`; push and fetch it like any
branch to share PRs between clones. Do not edit it by hand: every change is a commit
made by AlphaLoop, and the log of this branch is the audit trail.
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _dump(record: BaseModel) -> bytes:
    return (record.model_dump_json(indent=2) + "\n").encode()


def _pr_path(number: int) -> str:
    return f"prs/{number:04d}/pr.json"


def _review_dir(number: int) -> str:
    return f"prs/{number:04d}/reviews/"


_TRAILER_LINE = re.compile(r"^[A-Za-z0-9-]+: \S")


def with_trailers(message: str,
                  trailers: Mapping[str, str] | Sequence[tuple[str, str]]) -> str:
    """``message`` with ``trailers`` set (replacing lines with the same keys) at its end;
    pairs may repeat a key (``Co-authored-by``, one line per author).

    They join the message's trailer block if its last paragraph is one, so git still
    reads every trailer (``git log --format=%(trailers)``).
    """
    pairs = list(trailers.items()) if isinstance(trailers, Mapping) else list(trailers)
    keys = {key for key, _ in pairs}
    lines = [line for line in message.rstrip().splitlines()
             if not any(line.startswith(f"{key}:") for key in keys)]
    text = "\n".join(lines).rstrip()
    paragraphs = text.split("\n\n")
    in_block = len(paragraphs) > 1 and all(
        _TRAILER_LINE.match(line) for line in paragraphs[-1].splitlines())
    separator = "\n" if in_block else "\n\n"
    added = "\n".join(f"{key}: {value}" for key, value in pairs)
    return f"{text}{separator}{added}\n"


class LocalForge:
    """A :class:`~alphaloop.forge.Forge` whose records live on a branch of the repository."""

    def __init__(self, repo: GitRepo, *, branch: str = FORGE_BRANCH,
                 identity: Identity = FORGE_IDENTITY,
                 clock: Callable[[], datetime] = _utcnow, key: ReviewKey | None = None,
                 exact_paths: Sequence[str] = ("strategy",)) -> None:
        self.repo = repo
        self.branch = branch
        self._store = DataBranch(repo, branch, identity)
        self._clock = clock
        self._key = key
        self.exact_paths = tuple(exact_paths)

    def _review_key(self, *, create: bool) -> ReviewKey | None:
        """The bot's review key (given, or from the environment / key file)."""
        if self._key is None:
            self._key = ReviewKey.load(create=create)
        return self._key

    def exists(self) -> bool:
        """Whether any record has been written yet (the forge branch exists)."""
        return self._store.exists()

    def require(self) -> None:
        """Raise :class:`NoForge` with directions if no pull request was ever opened here."""
        if not self.exists():
            raise NoForge(
                f"{self.repo.work_tree} has no AlphaLoop pull requests yet (no branch "
                f"{self.branch!r}). Run `alphaloop cycle` to open the first one, or fetch "
                f"the branch from a clone that has it: "
                f"`git fetch origin {self.branch}:{self.branch}`."
            )

    # -- reading ---------------------------------------------------------------------

    def _parse(self, path: str, data: bytes, model: type[RecordT]) -> RecordT:
        try:
            return model.model_validate_json(data)
        except ValidationError as error:
            raise ForgeCorrupt(
                f"{path} on branch {self.branch} is not a valid {model.__name__}: "
                f"{error.errors()[0]['msg']}. Restore it from the branch's history "
                f"(`git log {self.branch} -- {path}`)."
            ) from None

    def _prs(self, snap: Snapshot) -> list[PullRequest]:
        paths = [p for p in snap.paths("prs/") if _PR_PATH.match(p)]
        prs = [self._parse(path, data, PullRequest) for path, data in snap.read_many(paths).items()]
        for path, pr in zip(paths, prs, strict=True):
            if path != _pr_path(pr.number):
                raise ForgeCorrupt(f"{path} on branch {self.branch} holds PR #{pr.number}.")
        return sorted(prs, key=lambda pr: pr.number)

    def _pr(self, snap: Snapshot, number: int) -> PullRequest:
        path = _pr_path(number)
        if path not in snap:
            known = "no pull requests yet" if snap.commit is None else "see `alphaloop pr list`"
            raise PullRequestNotFound(f"there is no pull request #{number} ({known}).")
        pr = self._parse(path, snap.read(path), PullRequest)
        if pr.number != number:
            raise ForgeCorrupt(f"{path} on branch {self.branch} holds PR #{pr.number}.")
        return pr

    def _reviews(self, snap: Snapshot, number: int) -> list[Review]:
        self._pr(snap, number)
        paths = snap.paths(_review_dir(number))
        reviews = [self._parse(path, data, Review) for path, data in snap.read_many(paths).items()]
        for path, review in zip(paths, reviews, strict=True):
            if review.pr_number != number:
                raise ForgeCorrupt(f"{path} on branch {self.branch} is a review of PR "
                                   f"#{review.pr_number}.")
        return sorted(reviews, key=lambda review: review.id)

    def get_pr(self, number: int) -> PullRequest:
        return self._pr(self._store.snapshot(), number)

    def list_prs(self, *, state: PRState | None = None) -> list[PullRequest]:
        prs = self._prs(self._store.snapshot())
        return [pr for pr in prs if state is None or pr.state == state]

    def reviews(self, number: int) -> list[Review]:
        return self._reviews(self._store.snapshot(), number)

    def head_sha(self, pr: PullRequest | int) -> str:
        pr = self.get_pr(pr) if isinstance(pr, int) else pr
        if pr.state == "merged" and pr.merged_head:
            return pr.merged_head
        sha = self.repo.branch_sha(pr.head_branch)
        if sha is None:
            raise ForgeError(f"branch {pr.head_branch!r} of pull request #{pr.number} no longer "
                             f"exists; close the PR (`alphaloop pr close {pr.number}`).")
        return sha

    def review_check(self, pr: PullRequest | int) -> ReviewCheck:
        """The reviews that count for the PR's head, and a line for each one ignored.

        Reviews of older commits are void (not reported). A human review counts on its
        commit; a role's review only if its signature verifies for the head commit and
        the head's tree.
        """
        pr = self.get_pr(pr) if isinstance(pr, int) else pr
        head = self.head_sha(pr)
        tree = self.repo.tree_hash(head, "")
        on_head = [r for r in self.reviews(pr.number) if r.is_bound_to(head)]
        valid, ignored = judge_reviews(on_head, number=pr.number, head=head, tree=tree,
                                       load_key=lambda: self._review_key(create=False))
        return ReviewCheck(head_sha=head, valid=tuple(valid), ignored=tuple(ignored))

    def valid_reviews(self, pr: PullRequest | int) -> list[Review]:
        return list(self.review_check(pr).valid)

    # -- writing ---------------------------------------------------------------------

    def _write_pr(self, message: str, number: int,
                  edit: Callable[[PullRequest], PullRequest]) -> PullRequest:
        def change(snap: Snapshot) -> tuple[dict[str, bytes], PullRequest]:
            before = self._pr(snap, number)
            after = edit(before)
            return ({_pr_path(number): _dump(after)} if after != before else {}), after
        return self._store.update(message, change)

    def open_pr(self, *, title: str, body: str, head_branch: str, base_branch: str,
                author_role: str, labels: Sequence[str] = ()) -> PullRequest:
        for branch in (head_branch, base_branch):
            if not self.repo.branch_exists(branch):
                raise RefNotFound(f"cannot open a pull request: there is no branch {branch!r}.")
        if head_branch == base_branch:
            raise ForgeError(f"a pull request needs two branches; both are {head_branch!r}.")
        now = self._clock()

        def change(snap: Snapshot) -> tuple[dict[str, bytes], PullRequest]:
            prs = self._prs(snap)
            for pr in prs:
                if pr.state == "open" and pr.head_branch == head_branch:
                    return {}, pr
            pr = PullRequest(
                number=max((pr.number for pr in prs), default=0) + 1, title=title, body=body,
                head_branch=head_branch, base_branch=base_branch, author_role=author_role,
                labels=tuple(dict.fromkeys(labels)), created_at=now, updated_at=now,
            )
            writes = {_pr_path(pr.number): _dump(pr)}
            if "README.md" not in snap:
                writes["README.md"] = _README
            return writes, pr

        return self._store.update(
            lambda pr: f"pr #{pr.number}: open {head_branch} -> {base_branch} by {author_role}"
                       f"\n\n{title}", change)

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None,
                  labels: Sequence[str] | None = None, state: PRState | None = None,
                  closed_reason: str | None = None) -> PullRequest:
        if state == "merged":
            raise InvalidTransition("a pull request is marked merged only by merging it "
                                    f"(`alphaloop pr merge {number}`).")
        now = self._clock()

        def edit(pr: PullRequest) -> PullRequest:
            if pr.state == "merged":
                raise InvalidTransition(f"pull request #{number} is merged; it cannot change.")
            update: dict[str, Any] = {}
            if title is not None:
                update["title"] = title
            if body is not None:
                update["body"] = body
            if labels is not None:
                update["labels"] = tuple(dict.fromkeys(labels))
            if state == "closed" and pr.state == "open":
                update.update(state="closed", closed_at=now, closed_reason=closed_reason)
            elif state == "open" and pr.state == "closed":
                update.update(state="open", closed_at=None, closed_reason=None)
            elif closed_reason is not None and pr.state == "closed":
                update["closed_reason"] = closed_reason
            if not update:
                return pr
            return PullRequest.model_validate({**pr.model_dump(), **update, "updated_at": now})

        what = {"closed": "close", "open": "reopen"}.get(state or "", "update")
        return self._write_pr(f"pr #{number}: {what}", number, edit)

    def add_review(self, number: int, *, reviewer: str, commit_sha: str, verdict: Verdict,
                   severity: int = 0, summary: str = "",
                   findings: Sequence[Mapping[str, Any]] = (), human: bool = False,
                   approved_by: str | None = None) -> Review:
        """Record a review of ``commit_sha``; a role's review (not ``human``) is signed."""
        sha = self.repo.rev_parse(commit_sha)
        tree = self.repo.tree_hash(sha, "")
        now = self._clock()
        key = None if human else self._review_key(create=True)

        def change(snap: Snapshot) -> tuple[dict[str, bytes], Review]:
            pr = self._pr(snap, number)
            if pr.state != "open":
                raise InvalidTransition(f"pull request #{number} is {pr.state}; only open pull "
                                        f"requests take reviews.")
            existing = self._reviews(snap, number)
            review = Review(
                pr_number=number, id=max((r.id for r in existing), default=0) + 1,
                reviewer=reviewer, human=human, commit_sha=sha, verdict=verdict,
                severity=severity, summary=summary, findings=tuple(dict(f) for f in findings),
                created_at=now, tree_sha=tree, approved_by=approved_by if human else None,
            )
            if key is not None:
                review = review.model_copy(update={"signature": key.sign(review.payload()),
                                                   "key_id": key.key_id})
            return {f"{_review_dir(number)}{review.id:04d}.json": _dump(review)}, review

        return self._store.update(
            f"pr #{number}: {verdict} by {reviewer} on {sha[:12]} (severity {severity})", change)

    def _trailer(self, sha: str, key: str) -> str | None:
        out = self.repo.git("log", "-1", f"--format=%(trailers:key={key},valueonly,separator=)",
                            sha)
        return out.text.strip() or None

    def _landed(self, pr: PullRequest, head: str) -> str | None:
        """The merge commit of ``pr`` if it already reached the base branch (crash resume).

        Found by its ``AlphaLoop-PR`` trailer; the merged head must be the PR's head or an
        ancestor of it, so a commit left by an older forge that reused the number is ignored.
        """
        sha = self.repo.find_commit_with_trailer(pr.base_branch, PR_TRAILER, str(pr.number))
        if sha is None:
            return None
        merged_head = self._trailer(sha, HEAD_TRAILER)
        if merged_head is None or not self.repo.is_ancestor(merged_head, head):
            return None
        return sha

    def merge(self, number: int, *, message: str, identity: Identity,
              expected_head: str | None = None, retry_hint: str | None = None,
              reviewed_tree: str | None = None, author: Identity | None = None) -> str:
        """Squash-merge PR ``number`` into its base branch and mark it merged.

        The merge commit carries ``AlphaLoop-PR`` and ``AlphaLoop-Head`` trailers, so a
        merge that landed before a crash is found again and only recorded on resume.
        Before the base moves, the squash tree is checked to be the base with exactly
        the reviewed change applied and ``strategy/`` equal to the head's (and the head's
        tree equal to ``reviewed_tree`` when given): :class:`~alphaloop.repo.TreeMismatch`
        otherwise, with nothing changed. ``identity`` commits the squash and ``author``
        (default: ``identity``) is its author, as a forge names the pull request's author.
        """
        pr = self.get_pr(number)
        if pr.state == "merged" and pr.merge_sha:
            return pr.merge_sha
        if pr.state == "closed":
            raise InvalidTransition(f"pull request #{number} is closed; reopen it before merging.")
        head = self.head_sha(pr)
        check_merge_head(self.repo, pr.head_branch, head, expected_head=expected_head,
                         reviewed_tree=reviewed_tree)
        sha = self._landed(pr, head)
        if sha is None:
            text = with_trailers(message, {PR_TRAILER: str(number), HEAD_TRAILER: head})
            hint = retry_hint or f"run `alphaloop pr merge {number}` again (or re-run the cycle)"
            sha = self.repo.squash_merge(head, pr.base_branch, text, identity, retry_hint=hint,
                                         exact_paths=self.exact_paths, author=author)
        else:
            head = self._trailer(sha, HEAD_TRAILER) or head
        now = self._clock()

        def edit(current: PullRequest) -> PullRequest:
            if current.state == "merged":
                return current
            return PullRequest.model_validate({
                **current.model_dump(), "state": "merged", "merge_sha": sha,
                "merged_head": head, "merged_at": now, "updated_at": now})

        merged = self._write_pr(f"pr #{number}: merged as {sha[:12]}", number, edit)
        return merged.merge_sha or sha

    def revert(self, merge_sha: str, *, base_branch: str, message: str,
               identity: Identity) -> str:
        """Undo ``merge_sha`` on ``base_branch``: a revert commit on the branch
        ``alphaloop/revert-<sha>``, a pull request labelled ``rollback`` for it, merged at
        once as ``identity``. A revert that already landed is found by its
        ``AlphaLoop-Reverts`` trailer and returned."""
        target = self.repo.rev_parse(merge_sha)
        landed = self.repo.find_commit_with_trailer(base_branch, REVERTS_TRAILER, target)
        if landed is not None:
            return landed
        tip = self.repo.branch_sha(base_branch)
        if tip is None:
            raise RefNotFound(f"there is no branch {base_branch!r} to revert on.")
        return revert_through_pr(self, self.repo, target, base=tip, base_branch=base_branch,
                                 message=message, identity=identity)


def revert_through_pr(forge: Forge, repo: GitRepo, target: str, *, base: str,
                      base_branch: str, message: str, identity: Identity,
                      labels: Sequence[str] = ("rollback",)) -> str:
    """Undo commit ``target`` on top of ``base`` (the base branch's tip): the revert
    commit, marked with an ``AlphaLoop-Reverts`` trailer, on ``alphaloop/revert-<sha>``,
    its pull request, and the merge; return the commit that lands."""
    if not repo.is_ancestor(target, base):
        raise ForgeError(f"{target[:12]} is not on {base_branch}; there is nothing to "
                         "revert there.")
    text = with_trailers(message, {REVERTS_TRAILER: target})
    branch = f"alphaloop/revert-{target[:12]}"
    commit = repo.revert_commit([target], base, text, identity)
    repo.update_ref(f"refs/heads/{branch}", commit, expected_old=repo.branch_sha(branch),
                    message="alphaloop: revert")
    pr = forge.open_pr(title=text.splitlines()[0][:200], body=text, head_branch=branch,
                       base_branch=base_branch, author_role="sre", labels=labels)
    return forge.merge(pr.number, message=text, identity=identity, expected_head=commit)
