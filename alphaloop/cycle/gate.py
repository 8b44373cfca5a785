"""The merge gate: may this pull request be merged, now, at its current head?

A PR merges only when every role in ``policies/merge.toml`` ``required_approvals``
approved *this exact commit* (reviews bound to older commits are void), no reviewer's
latest review of this commit vetoes or requests changes, and - where the human-approval
rules apply (a tunable moved more than 20% from main or from the last value a human
approved, see :mod:`.approved`; a change raising an exposure the backtests measured
above 0.8; a change outside the paths the bot may merge alone) - a human approved this
commit too. Changes to protected
paths (``policies/``, ``roles/``, ``.github/``) are never merged by AlphaLoop. A role's
review counts only if the bot signed it for this commit and its tree; others are listed
as ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.cycle.approved import approved_tunables
from alphaloop.evaluation.tunables import TUNABLES_PATH, read_tunables
from alphaloop.forge import Forge, PullRequest, with_trailers
from alphaloop.forge.records import latest_by_reviewer
from alphaloop.policy import Policies
from alphaloop.repo import GitRepo, Identity, WorktreeError
from alphaloop.roles import reviewer_roles

__all__ = ["Approval", "GateDecision", "MergeResult", "branch_authors", "evaluate_gate",
           "merge_through_gate", "tunable_changes"]

class Approval(BaseModel):
    """One approval a merge rests on: who, which review, of which commit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    review_id: int
    commit_sha: str
    human: bool = False

    def trailer(self) -> tuple[str, str]:
        """The merge commit's trailer for this approval (key, value)."""
        who = f"human {self.role}" if self.human else self.role
        return "AlphaLoop-Approval", f"{who}, review {self.review_id}, commit {self.commit_sha}"


class GateDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed: bool
    head_sha: str
    reasons: list[str] = Field(default_factory=list, description="why it may not merge")
    needs_human: bool = False
    human_reasons: list[str] = Field(default_factory=list)
    human_approved: bool = False
    ignored_reviews: list[str] = Field(
        default_factory=list, description="reviews of the head that do not count, and why")
    approvals: list[Approval] = Field(
        default_factory=list, description="the approvals of the head commit it rests on")


def tunable_changes(repo: GitRepo, base: str, head: str) -> dict[str, tuple[object, object]]:
    """Tunables whose literal differs between two commits: name -> (old, new)."""
    def read(rev: str) -> dict[str, float | int | str]:
        try:
            return read_tunables(repo.read_file(rev, TUNABLES_PATH))
        except Exception:  # the file may not exist on one side
            return {}

    old, new = read(base), read(head)
    return {name: (old.get(name), new.get(name)) for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)}


def _exposures(reviews: list, names: set[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Peak exposures the Risk review measured (its ``risk.exposures`` finding): the
    branch's and ``main``'s (empty when the review has none of main's)."""
    branch: dict[str, float] = {}
    main: dict[str, float] = {}
    for review in reviews:
        if review.reviewer not in names:
            continue
        for finding in review.findings:
            if finding.get("check") != "risk.exposures":
                continue
            evidence = finding.get("evidence", {})
            sides = ((evidence.get("branch", {}), branch), (evidence.get("main", {}), main)) \
                if isinstance(evidence.get("branch"), dict) else ((evidence, branch),)
            for values, into in sides:
                for label, value in values.items():
                    if isinstance(value, int | float):
                        into[label] = float(value)
    return branch, main


def evaluate_gate(repo: GitRepo, forge: Forge, pr: PullRequest | int, policies: Policies,
                  *, required: Sequence[str] | None = None) -> GateDecision:
    """Decide whether ``pr`` may merge now; every refusal says why.

    ``required`` are the role names whose approvals count (default: those
    ``policies/merge.toml`` lists).
    """
    pr = forge.get_pr(pr) if isinstance(pr, int) else pr
    required = list(required if required is not None
                    else reviewer_roles(policies.merge.required_approvals))
    head = forge.head_sha(pr)
    reasons: list[str] = []
    if pr.state != "open":
        reasons.append(f"PR #{pr.number} is {pr.state}")
    base_sha = repo.branch_sha(pr.base_branch) or head
    merge_base = repo.git("merge-base", base_sha, head, ok=(0, 1)).text or base_sha
    changed = repo.changed_files(merge_base, head)
    protected = [p for p in changed if policies.paths.protected_pattern(p) is not None]
    if protected:
        reasons.append("it changes protected paths (" + ", ".join(protected) + "); a "
                       "maintainer merges those with git, never AlphaLoop")
    # Only reviews the bot signed for this head commit and tree count (humans: this commit).
    check = forge.review_check(pr)
    valid = list(check.valid)
    latest = latest_by_reviewer(valid)
    # A role's approval must come from the role itself, never a human using its name.
    roles = {name: r for name, r in latest_by_reviewer(
        [r for r in valid if not r.human]).items()}
    for role in required:
        review = roles.get(role)
        if review is None:
            reasons.append(f"no {role} review of the head commit {head[:10]}")
        elif review.verdict != "approve":
            reasons.append(f"{role} {review.verdict.replace('_', ' ')} on {head[:10]}: "
                           f"{review.summary}")
    for name, review in latest.items():
        if name not in required and review.verdict in (
                "veto", "request_changes"):
            reasons.append(f"{name} {review.verdict.replace('_', ' ')}: {review.summary}")
    changes = tunable_changes(repo, merge_base, head)
    _, approved = approved_tunables(repo, forge, merge_base)
    exposures, main_exposures = _exposures(list(latest.values()),
                                           set(required))
    human_reasons = policies.merge.human_approval_reasons(
        changed_paths=changed,
        parameter_changes={k: v for k, v in changes.items()
                           if v[0] is not None and v[1] is not None},
        approved_values=approved, exposures=exposures, base_exposures=main_exposures,
    )
    # A reviewer may ask for a person itself (the Engineer, for a dependency change).
    human_reasons += [f"{role}: {f.get('message', 'asks for a human')}"
                      for role in required if role in roles
                      for f in roles[role].findings if f.get("needs_human")]
    human_approved = any(r.human and r.verdict == "approve" for r in latest.values())
    approvals = [Approval(role=role, review_id=roles[role].id, commit_sha=head)
                 for role in required if role in roles and roles[role].verdict == "approve"]
    approvals += [Approval(role=r.reviewer, review_id=r.id, commit_sha=head, human=True)
                  for r in latest.values() if r.human and r.verdict == "approve"]
    if human_reasons and not human_approved:
        reasons.append("a human must approve: " + "; ".join(human_reasons))
    return GateDecision(allowed=not reasons, head_sha=head, reasons=reasons,
                        needs_human=bool(human_reasons), human_reasons=human_reasons,
                        human_approved=human_approved, ignored_reviews=list(check.ignored),
                        approvals=approvals)


class MergeResult(BaseModel):
    """What :func:`merge_through_gate` did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    merge_sha: str | None = Field(default=None, description="None: not merged")
    decision: GateDecision | None = Field(
        default=None, description="the gate's decision (None: it had merged already)")
    already_merged: bool = False
    notes: list[str] = Field(default_factory=list)


def merge_through_gate(repo: GitRepo, forge: Forge, number: int, policies: Policies, *,
                       message: str | Callable[[GateDecision], str], identity: Identity,
                       required: Sequence[str] | None = None,
                       expected_head: str | None = None) -> MergeResult:
    """Merge PR ``number`` if the gate allows it now: the one merge flow of the cycle and
    ``alphaloop pr merge``.

    The squash commit lands only if the head is still the commit the gate judged (and
    ``expected_head``, when given) and its tree is the reviewed tree. ``identity`` commits
    the squash; its author is the branch's first author (the role or person who opened
    the change), every other author of the branch is named in a ``Co-authored-by`` line,
    and each approval it rests on in an ``AlphaLoop-Approval`` line. A PR merged already
    (say, before a crash) is reported as such. The bot's worktree of the branch is removed
    after the merge; one it cannot remove is kept and named in ``notes``.
    """
    pr = forge.get_pr(number)
    if pr.state == "merged":
        # merging a merged PR only returns its merge commit; a hosted forge whose answer
        # was lost after it merged brings the local base branch up to that commit here
        sha = forge.merge(pr.number, message="", identity=identity)
        return MergeResult(merge_sha=sha, already_merged=True,
                           notes=_drop_worktree(repo, pr.head_branch))
    decision = evaluate_gate(repo, forge, pr, policies, required=required)
    if not decision.allowed:
        return MergeResult(decision=decision)
    head = expected_head or decision.head_sha
    text = message(decision) if callable(message) else message
    base = repo.branch_sha(pr.base_branch) or head
    authors = branch_authors(repo, repo.git("merge-base", base, head, ok=(0, 1)).text or base,
                             head)
    trailers = [("Co-authored-by", f"{a.name} <{a.email}>") for a in authors[1:]]
    trailers += [approval.trailer() for approval in decision.approvals]
    if trailers:
        text = with_trailers(text, trailers)
    sha = forge.merge(pr.number, message=text, identity=identity, expected_head=head,
                      reviewed_tree=repo.tree_hash(head, ""),
                      author=authors[0] if authors else None)
    return MergeResult(merge_sha=sha, decision=decision,
                       notes=_drop_worktree(repo, pr.head_branch))


def branch_authors(repo: GitRepo, base: str, head: str) -> list[Identity]:
    """The authors of the commits ``base..head``, first commit's first, each once."""
    out: list[Identity] = []
    for line in repo.git("log", "--reverse", "--format=%an%x00%ae", f"{base}..{head}").lines():
        name, _, email = line.partition("\0")
        try:
            author = Identity(name=name, email=email)
        except ValueError:
            continue  # a name or address git accepts but a commit identity cannot carry
        if author not in out:
            out.append(author)
    return out


def _drop_worktree(repo: GitRepo, branch: str) -> list[str]:
    try:
        repo.remove_worktree(branch)
    except WorktreeError as error:
        return [f"left the branch's worktree in place: {error}"]
    return []
