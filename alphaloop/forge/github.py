"""The GitHub forge: pull requests, reviews, statuses and merges on GitHub.

It implements :class:`~alphaloop.forge.Forge` with the same guarantees as
:class:`~alphaloop.forge.LocalForge`, over a local clone (``repo``) and the repository
on GitHub:

- **Branches.** The clone's branch is the working copy of a pull request. Whenever the
  forge is asked for a PR's head it brings the two together: a branch GitHub has moved
  is fetched and fast-forwarded here; commits made here (QA's tests) are pushed, as a
  fast-forward only. Branches that diverged are refused. Pushes carry the token in the
  environment of that one git command (:mod:`alphaloop.forge.github_git`).
- **Reviews.** A role's review is posted as a pull request review (a comment review,
  bound by GitHub to the commit it names) holding its signed record
  (:mod:`alphaloop.forge.review_block`), and sets the commit status
  ``alphaloop/<role>``. It counts only if its signature verifies for the PR's head
  commit and tree, exactly as on the local forge. A person's ``APPROVED`` review counts
  as a human approval only if the person is in ``policies/merge.toml`` ``approvers``.
- **Merges.** A squash merge through GitHub's API, with ``sha`` set to the head the gate
  judged (GitHub refuses if the branch moved). What GitHub will land is computed and
  checked here first (the base plus exactly the reviewed change, ``strategy/`` equal to
  the head's), and the commit it landed is checked again after.
- **Limits.** Every call waits out GitHub's rate limits, bounded
  (:mod:`alphaloop.forge.github_api`); lists are read through every page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from github import Github
from github.PullRequest import PullRequest as GitHubPull
from github.Repository import Repository

from alphaloop.forge.errors import (
    ForgeCorrupt,
    ForgeError,
    HeadMoved,
    InvalidTransition,
    PullRequestNotFound,
)
from alphaloop.forge.github_api import GitHubAPIError, RateLimitedCalls, connect
from alphaloop.forge.github_git import GitRemote
from alphaloop.forge.github_records import (
    CLOSED_REASON_MARK,
    PostedReview,
    author_mark,
    posted_review,
    pull_record,
    review_record,
)
from alphaloop.forge.github_settings import GitHubSettings
from alphaloop.forge.judging import check_merge_head, judge_reviews
from alphaloop.forge.local import (
    HEAD_TRAILER,
    PR_TRAILER,
    REVERTS_TRAILER,
    revert_through_pr,
    with_trailers,
)
from alphaloop.forge.records import PRState, PullRequest, Review, ReviewCheck, Verdict
from alphaloop.forge.review_block import render_review
from alphaloop.forge.signing import KEY_ENV, ReviewKey, ReviewKeyError
from alphaloop.repo import GitRepo, Identity, MergeConflict, RefNotFound
from alphaloop.repo._parse import commits_with_trailer, parse_merge_tree
from alphaloop.repo.merge_check import verify_squash

__all__ = ["STATUS_CONTEXT", "GitHubForge"]

#: Commit statuses are named ``alphaloop/<role>``.
STATUS_CONTEXT = "alphaloop/{role}"
_STATUS_STATE = {"approve": "success", "request_changes": "failure", "veto": "failure",
                 "comment": "pending"}
_LOCAL_REFS = "refs/alphaloop/github"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class GitHubForge:
    """A :class:`~alphaloop.forge.Forge` whose pull requests live on GitHub."""

    def __init__(self, repo: GitRepo, settings: GitHubSettings, *,
                 approvers: Sequence[str] = (), key: ReviewKey | None = None,
                 exact_paths: Sequence[str] = ("strategy",), client: Github | None = None,
                 calls: RateLimitedCalls | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.repo = repo
        self.settings = settings
        self.approvers = tuple(approvers)
        self.exact_paths = tuple(exact_paths)
        self.remote = GitRemote(settings.git_url, settings.token)
        self._gh = client or connect(settings)
        self._calls = calls or RateLimitedCalls(max_wait=settings.max_wait)
        self._key = key
        self._clock = clock
        self._repository: Repository | None = None

    def __repr__(self) -> str:
        return f"GitHubForge({self.settings.repository!r})"

    # -- plumbing ----------------------------------------------------------------------

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        return self._calls(what, call)

    def _repo(self) -> Repository:
        if self._repository is None:
            name = self.settings.repository
            self._repository = self._call(f"reading {name}", lambda: self._gh.get_repo(name))
        return self._repository

    def _pull(self, number: int) -> GitHubPull:
        try:
            return self._call(f"reading pull request #{number}",
                              lambda: self._repo().get_pull(number))
        except GitHubAPIError as error:
            if error.status == 404:
                raise PullRequestNotFound(f"there is no pull request #{number} in "
                                          f"{self.settings.repository}.") from None
            raise

    def _record(self, pull: GitHubPull, *, with_reason: bool = True) -> PullRequest:
        reason = self._closed_reason(pull) if with_reason and pull.state == "closed" \
            and not pull.merged else None
        return pull_record(pull, repository=self.settings.repository,
                           bot_login=self.settings.bot_login, closed_reason=reason)

    def _closed_reason(self, pull: GitHubPull) -> str | None:
        comments = self._call(f"reading the comments of #{pull.number}",
                              lambda: list(pull.get_issue_comments()))
        for comment in reversed(comments):
            if (comment.body or "").startswith(CLOSED_REASON_MARK) and \
                    comment.user is not None and comment.user.login == self.settings.bot_login:
                return comment.body[len(CLOSED_REASON_MARK):].strip().removeprefix("Closed: ")
        return None

    def _review_key(self, *, create: bool) -> ReviewKey | None:
        """The bot's key. In an Actions job it must come from the secret: a key file made
        there would sign reviews no other job could verify."""
        if self._key is None:
            if self.settings.in_actions and not os.environ.get(KEY_ENV):
                raise ReviewKeyError(
                    f"{KEY_ENV} is not set in this GitHub Actions job: add the repository "
                    f"secret {KEY_ENV} and pass it to the step (`env: {KEY_ENV}: "
                    f"${{{{ secrets.{KEY_ENV} }}}}`); see docs/github.md.")
            self._key = ReviewKey.load(create=create)
        return self._key

    def exists(self) -> bool:
        """Always true: a GitHub repository is a forge from the start."""
        return True

    def require(self) -> None:
        """Nothing to check beyond reaching the repository."""
        self._repo()

    # -- reading -----------------------------------------------------------------------

    def get_pr(self, number: int) -> PullRequest:
        return self._record(self._pull(number))

    def list_prs(self, *, state: PRState | None = None) -> list[PullRequest]:
        """Every PR in ``state`` (all pages); a closed PR's reason is read by :meth:`get_pr`."""
        wanted = {"open": "open", None: "all"}.get(state, "closed")
        pulls = self._call("listing pull requests", lambda: list(self._repo().get_pulls(
            state=wanted, sort="created", direction="asc")))
        records = [self._record(pull, with_reason=False) for pull in pulls]
        return sorted((r for r in records if state is None or r.state == state),
                      key=lambda r: r.number)

    def _reviews(self, number: int) -> tuple[list[Review], list[str]]:
        pull = self._pull(number)
        raw = self._call(f"reading the reviews of #{number}", lambda: list(pull.get_reviews()))
        reviews: list[Review] = []
        broken: list[str] = []
        for item in raw:
            try:
                record = review_record(item, number)
            except ForgeCorrupt as error:
                broken.append(f"{error}: ignored")
                continue
            if record is not None:
                reviews.append(record)
        return sorted(reviews, key=lambda r: r.id), broken

    def reviews(self, number: int) -> list[Review]:
        return self._reviews(number)[0]

    def posted_reviews(self, number: int) -> list[PostedReview]:
        """Every review of the PR as GitHub holds it, its text unparsed (for the audit)."""
        pull = self._pull(number)
        return [posted_review(item) for item in self._call(
            f"reading the reviews of #{number}", lambda: list(pull.get_reviews()))]

    def head_sha(self, pr: PullRequest | int) -> str:
        """The commit the PR proposes, with the clone's branch and GitHub's made equal."""
        number = pr if isinstance(pr, int) else pr.number
        pull = self._pull(number)
        record = self._record(pull, with_reason=False)
        if record.state == "merged" and record.merged_head:
            return record.merged_head
        same_repo = pull.head.repo is not None and \
            pull.head.repo.full_name == self.settings.repository
        return self._sync(record, pull.head.sha, same_repo=same_repo)

    def _sync(self, pr: PullRequest, remote: str, *, same_repo: bool) -> str:
        repo, branch = self.repo, pr.head_branch
        if repo.git("cat-file", "-e", f"{remote}^{{commit}}", ok=(0, 1, 128)).status != 0:
            self.remote.fetch(repo, f"refs/pull/{pr.number}/head",
                              f"{_LOCAL_REFS}/pull/{pr.number}")
        local = repo.branch_sha(branch)
        if local == remote:
            return remote
        if local is None:
            repo.update_ref(f"refs/heads/{branch}", remote, expected_old=None,
                            message=f"alphaloop: pull request #{pr.number} from GitHub")
            return remote
        if repo.is_ancestor(local, remote):
            repo.advance_branch(branch, remote, local,
                                retry_hint="then ask for the pull request again")
            return remote
        if repo.is_ancestor(remote, local):
            if pr.state != "open":
                return remote  # a closed pull request proposes what GitHub holds
            if not same_repo:
                raise ForgeError(f"pull request #{pr.number} comes from a fork; the commits "
                                 f"made here on {branch} cannot be pushed to it.")
            self.remote.push(repo, local, branch, expected=remote)
            return local
        raise HeadMoved(f"branch {branch!r} here ({local[:10]}) and on GitHub "
                        f"({remote[:10]}) have diverged; reconcile them (`git pull --rebase`"
                        f" on the branch, then push) and review again.")

    def review_check(self, pr: PullRequest | int) -> ReviewCheck:
        """The reviews that count for the head, and a line for each one ignored (as the
        local forge; a person's review counts only from a listed approver)."""
        pr = self.get_pr(pr) if isinstance(pr, int) else pr
        head = self.head_sha(pr)
        tree = self.repo.tree_hash(head, "")
        reviews, ignored = self._reviews(pr.number)
        valid, refused = judge_reviews(
            [r for r in reviews if r.is_bound_to(head)], number=pr.number, head=head,
            tree=tree, load_key=lambda: self._review_key(create=False),
            refuse_human=lambda r: None if r.reviewer in self.approvers
            else "not an approver in policies/merge.toml")
        ignored += refused
        return ReviewCheck(head_sha=head, valid=tuple(valid), ignored=tuple(ignored))

    def valid_reviews(self, pr: PullRequest | int) -> list[Review]:
        return list(self.review_check(pr).valid)

    # -- writing -----------------------------------------------------------------------

    def open_pr(self, *, title: str, body: str, head_branch: str, base_branch: str,
                author_role: str, labels: Sequence[str] = ()) -> PullRequest:
        """Push ``head_branch`` and open its PR (or return the open one it has, given the
        ``labels`` it lacks: a run stopped between opening and labelling it)."""
        head = self.repo.branch_sha(head_branch)
        if head is None:
            raise RefNotFound(f"cannot open a pull request: there is no branch {head_branch!r}.")
        if head_branch == base_branch:
            raise ForgeError(f"a pull request needs two branches; both are {head_branch!r}.")
        owner = self.settings.repository.split("/")[0]
        found = self._call("looking for an open pull request", lambda: list(
            self._repo().get_pulls(state="open", head=f"{owner}:{head_branch}")))
        if found:
            pull = found[0]
        else:
            self.remote.push(self.repo, head, head_branch)
            pull = self._call(f"opening a pull request for {head_branch}", lambda: (
                self._repo().create_pull(base=base_branch, head=head_branch, title=title,
                                         body=body.rstrip("\n") + author_mark(author_role))))
        held = {label.name for label in pull.labels}
        missing = [label for label in dict.fromkeys(labels) if label not in held]
        if missing:
            self._call(f"labelling #{pull.number}", lambda: pull.add_to_labels(*missing))
        return self.get_pr(pull.number)

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None,
                  labels: Sequence[str] | None = None, state: PRState | None = None,
                  closed_reason: str | None = None) -> PullRequest:
        if state == "merged":
            raise InvalidTransition("a pull request is marked merged only by merging it "
                                    f"(`alphaloop pr merge {number} --forge github`).")
        pull = self._pull(number)
        before = self._record(pull, with_reason=False)
        if before.state == "merged":
            raise InvalidTransition(f"pull request #{number} is merged; it cannot change.")
        edit: dict[str, str] = {}
        if title is not None:
            edit["title"] = title
        if body is not None:
            edit["body"] = body.rstrip("\n") + author_mark(before.author_role) \
                if before.author_role != "human" else body
        if state is not None and state != before.state:
            edit["state"] = state
        if edit:
            self._call(f"editing #{number}", lambda: pull.edit(**edit))
        if labels is not None:
            unique = list(dict.fromkeys(labels))
            self._call(f"labelling #{number}", lambda: pull.set_labels(*unique))
        closing = state == "closed" or (state is None and before.state == "closed")
        if closed_reason is not None and closing:
            text = f"{CLOSED_REASON_MARK}\nClosed: {closed_reason}"
            self._call(f"commenting on #{number}", lambda: pull.create_issue_comment(text))
        return self.get_pr(number)

    def add_review(self, number: int, *, reviewer: str, commit_sha: str, verdict: Verdict,
                   severity: int = 0, summary: str = "",
                   findings: Sequence[Mapping[str, Any]] = (), human: bool = False,
                   approved_by: str | None = None) -> Review:
        """Post a role's signed review of ``commit_sha`` and set its commit status."""
        if human:
            raise ForgeError(f"a person approves pull request #{number} on GitHub itself "
                             "(Review changes -> Approve); the bot's token cannot do it for "
                             "them. Approvers are listed in policies/merge.toml.")
        sha = self.repo.rev_parse(commit_sha)
        pr = self.get_pr(number)
        if pr.state != "open":
            raise InvalidTransition(f"pull request #{number} is {pr.state}; only open pull "
                                    f"requests take reviews.")
        head = self.head_sha(pr)
        if head != sha:
            raise HeadMoved(f"pull request #{number} is at {head[:12]}, not {sha[:12]}: a "
                            "review binds to the head it judged; review the head again.")
        key = self._review_key(create=True)
        assert key is not None
        review = Review(pr_number=number, id=1, reviewer=reviewer, commit_sha=sha,
                        verdict=verdict, severity=severity, summary=summary,
                        findings=tuple(dict(f) for f in findings), created_at=self._clock(),
                        tree_sha=self.repo.tree_hash(sha, ""))
        review = review.model_copy(update={"signature": key.sign(review.payload()),
                                           "key_id": key.key_id})
        repository = self._repo()
        commit = self._call(f"reading commit {sha[:12]}", lambda: repository.get_commit(sha))
        pull = self._pull(number)
        # The status first: a review that reached GitHub is found again by a resumed
        # cycle and not posted twice, so nothing after it would be done again.
        description = f"{reviewer}: {verdict.replace('_', ' ')} (severity {severity})"
        self._call(f"setting the {reviewer} status on {sha[:12]}", lambda: commit.create_status(
            state=_STATUS_STATE[verdict], description=description[:140],
            context=STATUS_CONTEXT.format(role=reviewer)))
        posted = self._call(f"posting {reviewer}'s review on #{number}", lambda: (
            pull.create_review(commit=commit, body=render_review(review), event="COMMENT")))
        return review.model_copy(update={"id": posted.id})

    def merge(self, number: int, *, message: str, identity: Identity,
              expected_head: str | None = None, reviewed_tree: str | None = None,
              author: Identity | None = None) -> str:
        """Squash-merge on GitHub what was reviewed; return the merge commit.

        GitHub commits the squash (its committer and the PR's author stand in for
        ``identity`` and ``author``); ``message`` is its message, with the
        ``AlphaLoop-PR`` and ``AlphaLoop-Head`` trailers set as on the local forge. The
        local base branch is then fast-forwarded to it when it can be.
        """
        pull = self._pull(number)
        pr = self._record(pull, with_reason=False)
        if pr.state == "merged" and pr.merge_sha:
            self._follow_base(pr.base_branch)
            return pr.merge_sha
        if pr.state == "closed":
            raise InvalidTransition(f"pull request #{number} is closed; reopen it before merging.")
        head = self.head_sha(pr)
        check_merge_head(self.repo, pr.head_branch, head, expected_head=expected_head,
                         reviewed_tree=reviewed_tree)
        base = self._fetch_base(pr.base_branch)
        status, fields = self.repo.merge_tree(base, head)
        tree, conflicts = parse_merge_tree(fields)
        if status == 1:
            raise MergeConflict(pr.head_branch, pr.base_branch, conflicts)
        verify_squash(self.repo, base=base, head=head, merged_tree=tree, exact=self.exact_paths)
        message = with_trailers(message, {PR_TRAILER: str(number), HEAD_TRAILER: head})
        title, _, rest = message.partition("\n")
        try:
            result = self._call(f"merging #{number}", lambda: pull.merge(
                commit_title=title, commit_message=rest.strip("\n"), merge_method="squash",
                sha=head))
        except GitHubAPIError as error:
            if error.status == 409:
                raise HeadMoved(f"GitHub refused to merge #{number}: its branch moved after "
                                f"{head[:12]} was reviewed; review the new head.") from None
            raise
        sha = result.sha
        landed_base = self._fetch_base(pr.base_branch)
        parent = self.repo.git("rev-parse", f"{sha}^").text
        verify_squash(self.repo, base=parent, head=head, merged_tree=self.repo.tree_hash(sha, ""),
                      exact=self.exact_paths)
        if landed_base == sha or self.repo.is_ancestor(sha, landed_base):
            self._follow_base(pr.base_branch)
        return sha

    def _fetch_base(self, branch: str) -> str:
        ref = f"{_LOCAL_REFS}/heads/{branch}"
        self.remote.fetch(self.repo, f"refs/heads/{branch}", ref)
        return self.repo.rev_parse(ref)

    def _follow_base(self, branch: str) -> None:
        """Fast-forward the local ``branch`` to GitHub's, if it is behind (never rewinds)."""
        remote = self._fetch_base(branch)
        local = self.repo.branch_sha(branch)
        if local is not None and local != remote and self.repo.is_ancestor(local, remote):
            self.repo.advance_branch(branch, remote, local,
                                     retry_hint=f"then run `git pull` on {branch}")

    def publish_branch(self, branch: str) -> str:
        """Push the local ``branch`` to GitHub as a fast-forward (the commits a cycle made
        on the base branch: its report, its deployments); return the commit pushed."""
        sha = self.repo.branch_sha(branch)
        if sha is None:
            raise RefNotFound(f"there is no branch {branch!r} here to push.")
        self.remote.push(self.repo, sha, branch)
        return sha

    def close_superseded(self, keep: int, *, reason: str | None = None) -> list[int]:
        """Close the bot's other open PRs for the same task as ``keep``; their numbers."""
        from alphaloop.forge.supersede import close_superseded

        return close_superseded(self, keep, reason=reason)

    def revert(self, merge_sha: str, *, base_branch: str, message: str,
               identity: Identity) -> str:
        """Undo ``merge_sha`` on ``base_branch`` as the local forge does: a revert commit
        on ``alphaloop/revert-<sha12>``, pushed, its pull request labelled ``rollback`` and
        merged at once; return the commit that landed. A revert that already landed (its
        ``AlphaLoop-Reverts`` trailer names ``merge_sha``) is returned, not made twice."""
        target = self.repo.rev_parse(merge_sha)
        base = self._fetch_base(base_branch)
        log = self.repo.git("log", "--first-parent", "--max-count=500",
                            "--format=%x1e%H%x1f%B", base).text
        landed = commits_with_trailer(log, REVERTS_TRAILER, target)
        if landed:
            self._follow_base(base_branch)
            return landed[0]
        return revert_through_pr(self, self.repo, target, base=base,
                                 base_branch=base_branch, message=message, identity=identity,
                                 labels=("alphaloop", "rollback"))
