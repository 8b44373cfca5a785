"""The forge's part of the audit when pull requests and reviews live on GitHub.

With ``--forge github`` a cycle's reviews and merges are not in git: GitHub holds them,
and anyone with write access there can edit a review's text, or merge a pull request by
hand. :func:`check_github` reads back every pull request a ledger entry names and every
pull request merged into the audited branch, and reports each disagreement under a name:

=====================  ==================================================================
``review-missing``     the ledger records a role's review of a head that GitHub no longer
                       holds (deleted)
``review-rebound``     a review the bot signed for one head is now bound to, or claims,
                       another one
``review-edited``      a review's text is no longer what the bot posted: its signed
                       record does not verify, cannot be read, or the words around it
                       were changed
``pr-missing``         a pull request the ledger names is not on GitHub
``merge-mismatch``     GitHub's merge of a pull request is not the merge the ledger
                       records
``merge-unrecorded``   a pull request merged into the branch that no ledger entry
                       records, no rollback accounts for, and the merge gate did not merge
                       (its merge commit names no approval, by every required role, of the
                       merged head)
``github-unreachable`` GitHub could not be read (network, token, server): the reviews
                       and merges there were not checked
=====================  ==================================================================

A review counts as the bot's only through its signature (:mod:`alphaloop.forge.signing`),
checked against the tree of the commit it names; the text GitHub shows must be exactly
what the bot rendered from that record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from github import GithubException
from requests import RequestException

from alphaloop.audit.verify import AuditFinding
from alphaloop.cycle.ledger import LedgerEntry
from alphaloop.forge.errors import ForgeCorrupt, ForgeError, PullRequestNotFound
from alphaloop.forge.github import GitHubForge
from alphaloop.forge.github_records import PostedReview
from alphaloop.forge.records import PullRequest, Review
from alphaloop.forge.review_block import parse_review_block, render_review
from alphaloop.forge.signing import ReviewKey
from alphaloop.repo import GitRepo

__all__ = ["GitHubTrail", "check_github"]

_APPROVAL = re.compile(r"^(?P<role>[a-z0-9_-]+), review (?P<id>\d+), commit (?P<head>[0-9a-f]+)$")


@dataclass(frozen=True)
class _Citation:
    """A role's review of a head, as a ledger entry records it."""

    cycle: str
    pr: int
    role: str
    head: str
    verdict: str

    @property
    def subject(self) -> str:
        return f"{self.cycle} PR #{self.pr}"


@dataclass(frozen=True)
class _Posted:
    """A review on GitHub with the record it carries and what is wrong with it."""

    posted: PostedReview
    record: Review | None  # None: its record cannot be read
    kind: str | None = None  # review-rebound or review-edited; None: intact
    problem: str = ""


@dataclass
class GitHubTrail:
    """What GitHub holds for the audited branch, and what disagrees."""

    merged: list[PullRequest] = field(default_factory=list)
    """Pull requests merged into the branch (checked further as the local forge's are)."""
    reviews: dict[int, list[Review]] = field(default_factory=dict)
    """The bot's intact reviews, by pull request."""
    checked: int = 0
    """Reviews read."""
    findings: list[AuditFinding] = field(default_factory=list)


def _finding(kind: str, subject: str, problem: str) -> AuditFinding:
    return AuditFinding(check="forge", subject=subject, problem=problem, kind=kind)


def _text(body: str) -> str:
    return "\n".join(line.rstrip() for line in body.replace("\r\n", "\n").split("\n")).strip()


class _Audit:
    def __init__(self, forge: GitHubForge, repo: GitRepo, key: ReviewKey) -> None:
        self.forge, self.repo, self.key = forge, repo, key
        self.trail = GitHubTrail()
        self._trees: dict[str, str | None] = {}

    def _tree(self, sha: str) -> str | None:
        """The tree of commit ``sha`` here, or None when this clone does not hold it."""
        if sha not in self._trees:
            found = self.repo.git("rev-parse", "--verify", "--quiet", f"{sha}^{{tree}}",
                                  ok=(0, 1, 128))
            self._trees[sha] = found.text.strip() if found.status == 0 else None
        return self._trees[sha]

    def _signed_for(self, record: Review, head: str) -> bool:
        """Whether the bot signed ``record``'s content for ``head`` (and its tree)."""
        claimed = record.model_copy(update={"commit_sha": head})
        tree = self._tree(head) or (record.tree_sha if head == record.commit_sha else None)
        return tree is not None and self.key.verify(claimed.payload(tree), record.signature)

    def _judge(self, number: int, posted: PostedReview) -> _Posted | None:
        """The record ``posted`` carries and its problem; None for a person's review."""
        try:
            record = parse_review_block(posted.body, review_id=posted.id)
        except ForgeCorrupt as error:
            return _Posted(posted, None, "review-edited",
                           f"its signed record cannot be read ({error})")
        if record is None:
            return None
        attached = posted.commit_id or "none"
        if record.pr_number != number:
            return _Posted(posted, record, "review-rebound",
                           f"it carries the record of a review of #{record.pr_number}")
        signed = self._signed_for(record, record.commit_sha)
        if signed and record.commit_sha != posted.commit_id:
            return _Posted(posted, record, "review-rebound",
                           f"signed for {record.commit_sha[:12]}, it is bound to "
                           f"{attached[:12]} on GitHub")
        if not signed:
            return _Posted(posted, record, "review-edited",
                           f"its record of {record.commit_sha[:12]} no longer carries the "
                           "bot's signature: its verdict, findings, summary or head were "
                           "changed")
        if _text(posted.body) != _text(render_review(record)):
            return _Posted(posted, record, "review-edited",
                           "the text people read around its signed record was changed")
        return _Posted(posted, record)

    def _match(self, citation: _Citation, judged: Sequence[_Posted]) -> _Posted | None:
        """The review on GitHub the ledger's ``citation`` is, if any; reports what is
        wrong with it (rebound, edited) or that it is gone."""
        head, role = citation.head, citation.role
        approve = citation.verdict == "approve"
        mine = [j for j in judged if j.record is not None and j.record.reviewer == role
                and not j.record.human]
        for j in mine:
            if j.kind is None and j.record.commit_sha == head and \
                    (j.record.verdict == "approve") == approve:
                return j
        said = f"the {role} review of {head[:12]} ({citation.verdict}) the ledger records"
        for j in mine:
            moved = j.record.commit_sha != head or j.posted.commit_id != head
            if moved and self._signed_for(j.record, head):
                where = j.posted.commit_id if j.posted.commit_id != head else \
                    j.record.commit_sha
                self._report("review-rebound", citation.subject,
                             f"{said} (review {j.posted.id}) is now bound to "
                             f"{(where or 'none')[:12]} on GitHub: an approval rebound to "
                             "another head")
                return j
        for j in judged:
            on_head = j.posted.commit_id == head or (
                j.record is not None and j.record.commit_sha == head)
            if j.kind is not None and on_head and (j.record is None or j.record.reviewer == role):
                self._report("review-edited", citation.subject,
                             f"{said} (review {j.posted.id}) was edited on GitHub: "
                             f"{j.problem}")
                return j
        self._report("review-missing", citation.subject,
                     f"{said} is no longer on GitHub: it was deleted")
        return None

    def _report(self, kind: str, subject: str, problem: str) -> None:
        self.trail.findings.append(_finding(kind, subject, problem))

    def _reviews(self, number: int, citations: Iterable[_Citation]) -> None:
        """Check the reviews of PR ``number``; keep the intact ones."""
        posted = self.forge.posted_reviews(number)
        judged = [j for j in (self._judge(number, p) for p in posted) if j is not None]
        self.trail.checked += len(posted)
        self.trail.reviews[number] = [j.record for j in judged
                                      if j.kind is None and j.record is not None]
        reported = {j.posted.id for c in citations
                    if (j := self._match(c, judged)) is not None and j.kind is not None}
        bot = self.forge.settings.bot_login
        for j in judged:  # the bot's other reviews are append-only too
            if j.kind is not None and j.posted.id not in reported and j.posted.login == bot:
                self._report(j.kind, f"PR #{number} review {j.posted.id}",
                             f"{j.record.reviewer if j.record else 'a'} review on GitHub: "
                             f"{j.problem}")

    def _approved_by_gate(self, pr: PullRequest, required: Sequence[str]) -> bool:
        """Whether ``pr``'s merge commit names, for every required role, an intact
        approval of the merged head (the merge gate writes one trailer per approval)."""
        sha, head = pr.merge_sha or "", pr.merged_head or ""
        if not required or self._tree(sha) is None:
            return False
        lines = self.repo.git("log", "-1", "--format=%(trailers:key=AlphaLoop-Approval,"
                              "valueonly)", sha).text.splitlines()
        named = {(m["role"], int(m["id"])) for line in lines
                 if (m := _APPROVAL.match(line.strip())) and m["head"] == head}
        intact = {(r.reviewer, r.id) for r in self.trail.reviews.get(pr.number, [])
                  if r.commit_sha == head and r.verdict == "approve" and not r.human}
        return all(any(pair in intact for pair in named if pair[0] == role)
                   for role in required)

    def run(self, branch: str, entries: Mapping[str, LedgerEntry], reverts: set[str],
            required: Sequence[str]) -> GitHubTrail:
        citations, merges = _cited(entries)
        prs = {pr.number: pr for pr in self.forge.list_prs()}
        merged = [pr for pr in prs.values() if pr.state == "merged" and pr.base_branch == branch]
        for number in sorted(merges):
            if number not in prs:
                try:  # listed pages may lag; ask for it by number
                    prs[number] = self.forge.get_pr(number)
                except PullRequestNotFound:
                    self._report("pr-missing", f"{merges[number][0]} PR #{number}",
                                 f"the ledger's pull request #{number} is not on GitHub")
                    continue
            self._reviews(number, [c for c in citations if c.pr == number])
        for pr in merged:
            if pr.number not in self.trail.reviews:
                self._reviews(pr.number, ())
        for number, (cycle, sha) in sorted(merges.items()):
            pr = prs.get(number)
            if pr is not None and sha and pr.merge_sha != sha:
                landed = f"merged as {pr.merge_sha[:12]}" if pr.merge_sha else pr.state
                self._report("merge-mismatch", f"{cycle} PR #{number}",
                             f"the ledger records #{number} merged as {sha[:12]}; on GitHub "
                             f"it is {landed}")
        for pr in merged:
            if pr.number in merges or pr.merge_sha in reverts or \
                    self._approved_by_gate(pr, required):
                continue
            self._report("merge-unrecorded", f"PR #{pr.number}",
                         f"#{pr.number} ({pr.title}) was merged into {branch} on GitHub as "
                         f"{(pr.merge_sha or '')[:12]}, but no ledger entry records it and "
                         "the merge gate did not merge it")
        self.trail.merged = merged
        return self.trail


def _cited(entries: Mapping[str, LedgerEntry]
           ) -> tuple[list[_Citation], dict[int, tuple[str, str | None]]]:
    """The reviews the ledger records, and each PR it names: (cycle, merge commit)."""
    citations: list[_Citation] = []
    merges: dict[int, tuple[str, str | None]] = {}
    for cid, entry in sorted(entries.items()):
        number = (entry.records.get("implement") or {}).get("pr_number")
        if not isinstance(number, int):
            continue
        merge = entry.records.get("merge") or {}
        sha = merge.get("merge_sha") if merge.get("merged") else None
        if number not in merges or isinstance(sha, str):  # the entry that merged it wins
            merges[number] = (cid, sha if isinstance(sha, str) else None)
        for stage, record in entry.records.items():
            if (not stage.endswith("_review") or stage == "quant_review"
                    or not isinstance(record, dict) or "head_sha" not in record):
                continue
            citations.append(_Citation(cid, number, stage.removesuffix("_review"),
                                       str(record["head_sha"]), str(record.get("verdict"))))
    return citations, merges


def check_github(forge: GitHubForge, repo: GitRepo, *, branch: str,
                 entries: Mapping[str, LedgerEntry], key: ReviewKey, reverts: set[str],
                 required: Sequence[str]) -> GitHubTrail:
    """Check the reviews and merges on GitHub against the ledger ``entries`` of
    ``branch``. ``reverts`` are the rollback commits the deployment ledger records;
    ``required`` the roles whose approvals the merge gate asks for. A GitHub that
    cannot be read is one ``github-unreachable`` finding, never an exception."""
    audit = _Audit(forge, repo, key)
    try:
        return audit.run(branch, entries, reverts, required)
    except (ForgeError, GithubException, RequestException) as error:
        audit.trail.findings.append(_finding(
            "github-unreachable", forge.settings.repository,
            f"GitHub could not be read ({error}); its reviews and merges were not checked. "
            "Check GITHUB_TOKEN, GITHUB_API_URL and the network, then run `alphaloop audit "
            "verify --forge github` again."))
        audit.trail.merged = []
        return audit.trail
