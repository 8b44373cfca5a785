"""Review any branch or pull request with the cycle's reviewers: ``alphaloop review``.

A person's branch goes through exactly the reviewers a cycle's own change goes through
(``policies/merge.toml`` ``required_approvals``), on the same data and windows, and each
review is posted on the pull request bound to the head commit, as the cycle posts its
own. A branch without an open pull request gets one. The branch must contain the base
branch's head, so that what is reviewed is what would merge; a branch behind it is
refused with the command that fixes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.cycle.context import CycleContext, build_context
from alphaloop.cycle.options import CycleError, CycleOptions
from alphaloop.errors import Failure
from alphaloop.forge import Forge, PullRequest
from alphaloop.policy import PolicyError
from alphaloop.records import Hypothesis, ReviewRecord, role_title
from alphaloop.roles import Reviewer, ReviewRequest, forge_verdict

__all__ = ["BranchReview", "RoleVerdict", "post_review", "review_branch", "review_head"]

#: The ``author_role`` of a pull request a person opened.
HUMAN_AUTHOR = "human"


class RoleVerdict(BaseModel):
    """One reviewer's verdict on the head commit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    verdict: Literal["approve", "request_changes", "veto"]
    severity: int
    summary: str
    review_id: int | None = Field(default=None, description="the review posted on the PR")
    record: dict = Field(default_factory=dict, description="the reviewer's whole record")


class BranchReview(BaseModel):
    """What ``alphaloop review`` found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pr_number: int
    opened: bool = Field(description="whether the pull request was opened for this review")
    branch: str
    base_branch: str
    base_sha: str
    head_sha: str
    verdicts: list[RoleVerdict]

    @property
    def approved(self) -> bool:
        """Every reviewer approved the head commit."""
        return all(v.verdict == "approve" for v in self.verdicts)


def post_review(forge: Forge, pr_number: int, role: str, head_sha: str,
                record: ReviewRecord) -> int | None:
    """Post ``record`` on the pull request, bound to ``head_sha``, unless the bot already
    posted this role's review of that commit (a resumed cycle); the review's id."""
    existing = [r for r in forge.valid_reviews(pr_number)
                if r.reviewer == role and r.commit_sha == head_sha]
    if existing:
        return existing[-1].id
    review = forge.add_review(pr_number, reviewer=role, commit_sha=head_sha,
                              verdict=forge_verdict(record), severity=record.severity,
                              summary=record.summary, findings=record.findings)
    return review.id


def review_head(ctx: CycleContext, reviewer: Reviewer, pr_number: int, worktree: Path,
                hypothesis: Hypothesis | None) -> tuple[ReviewRecord, int | None]:
    """``reviewer``'s review of the pull request's head now, posted on it bound to that
    commit; the record and the review's id. A reviewer that crashes raises
    :class:`CycleError` naming it (never a traceback). A reviewer that committed to the
    branch what it reviewed (QA its tests) has its verdict bound to the commit it made,
    once the commits after the head it was given are found to be its own, inside its
    paths; the reviewers before it review that head again."""
    head = ctx.forge.head_sha(ctx.forge.get_pr(pr_number))
    try:
        record = reviewer.review_change(ReviewRequest(
            base_sha=ctx.base_sha, head_sha=head, worktree=worktree, data=ctx.data,
            windows=ctx.windows, ledger_entries=ctx.ledger_entries,
            claim=hypothesis.claim if hypothesis is not None else None,
            hypothesis=hypothesis, pr_number=pr_number))
    except Failure:
        raise
    except Exception as exc:  # a reviewer's bug must not end in a traceback
        where = f"{type(reviewer).__module__}.{type(reviewer).__qualname__}"
        raise CycleError(f"the {role_title(reviewer.role)} reviewer ({where}) crashed on "
                         f"{head[:10]}: {type(exc).__name__}: {exc}") from exc
    moved = ctx.forge.head_sha(ctx.forge.get_pr(pr_number))
    if moved != head and _own_commits(ctx, reviewer.role, head, moved):
        head, record = moved, record.model_copy(update={"head_sha": moved})
    return record, post_review(ctx.forge, pr_number, reviewer.role, head, record)


def _own_commits(ctx: CycleContext, role: str, old: str, new: str) -> bool:
    """Whether ``old..new`` holds only commits by ``role``'s identity, inside the paths
    ``policies/paths.toml`` gives that role."""
    identity, repo = ctx.identities.get(role), ctx.repo
    if identity is None or not repo.is_ancestor(old, new):
        return False
    if set(repo.git("log", "--format=%ae", f"{old}..{new}").lines()) != {identity.email}:
        return False
    try:
        rules = ctx.policies.paths.role(role)
    except PolicyError:
        return False  # a reviewer of one's own with no paths writes nothing
    return all(rules.allows(path) for path in repo.changed_files(old, new))


def _pull_request(ctx: CycleContext, branch: str | None, number: int | None,
                  title: str | None) -> tuple[PullRequest, bool]:
    forge, repo = ctx.forge, ctx.repo
    if number is not None:
        pr = forge.get_pr(number)
        if pr.state != "open":
            raise CycleError(f"pull request #{number} is {pr.state}; only an open pull "
                             "request can be reviewed (reopen it or review its branch)")
        if branch is not None and branch != pr.head_branch:
            raise CycleError(f"pull request #{number} is for branch {pr.head_branch!r}, not "
                             f"{branch!r}; pass one of them")
        return pr, False
    assert branch is not None
    if not repo.branch_exists(branch):
        raise CycleError(f"there is no branch {branch!r}; list them with `git branch`")
    if branch == ctx.base_branch:
        raise CycleError(f"{branch!r} is the base branch itself; review a branch that "
                         f"changes it")
    for pr in forge.list_prs(state="open"):
        if pr.head_branch == branch:
            return pr, False
    _up_to_date(ctx, branch, repo.rev_parse(branch))
    subject = repo.git("log", "-1", "--format=%s", branch).text or branch
    pr = forge.open_pr(title=title or subject, body="", head_branch=branch,
                       base_branch=ctx.base_branch, author_role=HUMAN_AUTHOR)
    return pr, True


def _up_to_date(ctx: CycleContext, branch: str, head: str) -> None:
    """``head`` holds the base branch's head and changes something beyond it."""
    if not ctx.repo.is_ancestor(ctx.base_sha, head):
        raise CycleError(
            f"{branch} does not contain {ctx.base_branch}'s head {ctx.base_sha[:10]}, so a "
            f"review would not judge what merges; bring it up to date (`git rebase "
            f"{ctx.base_branch} {branch}` or merge {ctx.base_branch} into it) and review again")
    if head == ctx.base_sha:
        raise CycleError(f"{branch} has no commit beyond {ctx.base_branch}; there is "
                         "nothing to review")


def review_branch(path: Path, options: CycleOptions, *, branch: str | None = None,
                  pr_number: int | None = None, title: str | None = None,
                  on_role: Callable[[str], None] | None = None) -> BranchReview:
    """Review ``branch`` (or pull request ``pr_number``) with every required reviewer and
    post each review on its pull request. Raises :class:`CycleError` for a user error."""
    if branch is None and pr_number is None:
        raise CycleError("name the branch to review, or pass --pr N")
    ctx = build_context(path, options)
    try:
        pr, opened = _pull_request(ctx, branch, pr_number, title)
        if pr.base_branch != ctx.base_branch:
            raise CycleError(f"pull request #{pr.number} merges into {pr.base_branch!r}; "
                             f"review it with --base-branch {pr.base_branch}")
        _up_to_date(ctx, pr.head_branch, ctx.forge.head_sha(pr))
        hypothesis = _hypothesis(pr)
        worktree, created = _worktree(ctx, pr.head_branch)
        try:
            verdicts = _review_all(ctx, pr, hypothesis, worktree, on_role)
        finally:
            if created:
                ctx.repo.remove_worktree(pr.head_branch)
        return BranchReview(pr_number=pr.number, opened=opened, branch=pr.head_branch,
                            base_branch=ctx.base_branch, base_sha=ctx.base_sha,
                            head_sha=ctx.forge.head_sha(pr), verdicts=verdicts)
    finally:
        ctx.evaluator.close()


def _hypothesis(pr: PullRequest) -> Hypothesis | None:
    """The hypothesis a bot's pull request states (a person's has none)."""
    raw = pr.hypothesis
    if raw is None:
        return None
    try:
        return Hypothesis.model_validate(raw)
    except ValidationError:
        return None  # an older or hand-edited block: reviewed like a person's change


def _worktree(ctx: CycleContext, branch: str) -> tuple[Path, bool]:
    """The bot's worktree of ``branch``, where a reviewer that adds commits (QA's tests,
    the Engineer's formatting) commits; True when it was created for this review (and is
    removed after it). A branch checked out in someone's checkout is refused: a
    reviewer's commit there could sweep in that person's uncommitted work."""
    holder = ctx.repo.worktree_of(branch)
    bot = ctx.repo.worktree_path(branch)
    if holder is not None and holder.path.resolve() != bot.resolve():
        raise CycleError(f"{branch} is checked out in {holder.path}; reviewers may commit to "
                         f"the branch they review, so switch that checkout to another branch "
                         f"(`git switch {ctx.base_branch}`) and review again")
    if holder is not None and bot.is_dir():
        return bot, False
    return ctx.repo.create_worktree(branch, branch), True


def _review_all(ctx: CycleContext, pr: PullRequest, hypothesis: Hypothesis | None,
                worktree: Path, on_role: Callable[[str], None] | None) -> list[RoleVerdict]:
    """Each reviewer's verdict on the final head. A reviewer that commits (QA's tests, the
    Engineer's formatting) moves the head and voids the reviews before it: those
    reviewers review the new head once more."""
    verdicts: dict[str, RoleVerdict] = {}
    for _ in range(2):
        for reviewer in ctx.team.reviewers:
            done = verdicts.get(reviewer.role)
            if done is not None and done.record["head_sha"] == ctx.forge.head_sha(pr):
                continue
            if on_role is not None:
                on_role(reviewer.role)
            verdicts[reviewer.role] = _review(ctx, reviewer, pr, hypothesis, worktree)
        if {v.record["head_sha"] for v in verdicts.values()} == {ctx.forge.head_sha(pr)}:
            break
    return [verdicts[r.role] for r in ctx.team.reviewers]


def _review(ctx: CycleContext, reviewer: Reviewer, pr: PullRequest,
            hypothesis: Hypothesis | None, worktree: Path) -> RoleVerdict:
    record, review_id = review_head(ctx, reviewer, pr.number, worktree, hypothesis)
    return RoleVerdict(role=reviewer.role, verdict=forge_verdict(record),
                       severity=record.severity, summary=record.summary,
                       review_id=review_id, record=record.model_dump(mode="json"))
