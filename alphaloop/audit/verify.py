"""``alphaloop audit verify``: reconstruct and cross-check the audit trail of a repository.

Four sources must tell the same story, and each check names what disagrees:

1. **The ledger** on the base branch: every entry parses, its digest matches, and each
   entry links to the digest of the one before (see ``docs/ledger.md``).
2. **Git history** of the base branch: each cycle's report commit (trailer
   ``AlphaLoop-Cycle``) added that cycle's entry; the entry it added must be the entry the
   ledger holds now. An entry edited, deleted or re-created later (its cycle id reused) no
   longer matches the commit that first carried it; an entry no cycle committed is reported.
3. **The bot's journal** (:mod:`alphaloop.cycle.journal`, outside history): every entry the
   bot committed must still be in the ledger with the same digest, and the commit that
   carried it must still be in the branch's history (a rewritten ``main`` loses it).
4. **The forge** (PRs and reviews stored on the ``alphaloop/forge`` branch): review
   records are append-only, so a review edited after it was written (for example rebound
   to another head) is reported; each merged PR's merge commit must be in the branch's
   history, name the merged head in its ``AlphaLoop-Head`` trailer, and carry an approval
   of that exact head by every role the merge policy requires; every review a ledger
   entry records must still be there (same role, head and verdict). A rollback PR (the SRE's
   revert of a failed deployment) needs no approval, but its merge commit must name the
   commit it reverts (``AlphaLoop-Reverts``) and restore ``strategy/`` as it was before it.
   With ``--forge github`` the reviews and merges live on GitHub instead, and
   :mod:`alphaloop.audit.github_trail` reads them there: each review the ledger
   records must still be on its PR, by that role, for that head, its signed record
   intact; each merged PR's merge commit must be the one the ledger records, and a
   merge neither the ledger nor the merge gate accounts for is reported. The merged
   PRs are then checked as above (history, head trailer, approvals).
5. **The deployment ledger** (``deploy/history/`` on the base branch): every event parses,
   its digest matches and it links to the event before; each was added by a commit that
   names it (``AlphaLoop-Deployment``); every deployed commit is in the branch's history.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.cycle.journal import Journal
from alphaloop.cycle.ledger import CYCLE_TRAILER, LEDGER_DIR, Ledger, LedgerEntry, LedgerError
from alphaloop.deploy import DEPLOY_HISTORY, DeployLedgerCorrupt, DeploymentLedger
from alphaloop.deploy.ledger import EVENT_TRAILER
from alphaloop.forge.local import FORGE_BRANCH, HEAD_TRAILER, REVERTS_TRAILER
from alphaloop.forge.records import PullRequest, Review
from alphaloop.repo import GitError, GitRepo
from alphaloop.roles import RoleConfigError, reviewer_roles

if TYPE_CHECKING:
    from alphaloop.forge.github import GitHubForge

__all__ = ["AuditFinding", "AuditReport", "verify_repository"]

Check = Literal["ledger", "history", "journal", "forge", "deploy"]


class AuditFinding(BaseModel):
    """One disagreement between the sources of the audit trail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: Check
    subject: str = Field(description="the cycle, commit, PR or file concerned")
    problem: str
    kind: str | None = Field(default=None, description="a stable name for the problem, "
                                                        "e.g. review-rebound (see "
                                                        "docs/audit.md)")


class AuditReport(BaseModel):
    """What ``alphaloop audit verify`` checked and what it found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    branch: str
    head: str
    entries: int
    cycle_commits: int
    journal_lines: int
    merged_prs: int
    reviews: int
    deployments: int = 0
    findings: list[AuditFinding]

    @property
    def ok(self) -> bool:
        return not self.findings


def _ledger_entries(repo: GitRepo, tip: str, findings: list[AuditFinding]
                    ) -> dict[str, LedgerEntry]:
    """The ledger at ``tip``, verified as a whole; entries that parse, by cycle id."""
    names = repo.git("ls-tree", "-z", "--name-only", f"{tip}:{LEDGER_DIR}",
                     ok=(0, 128)).stdout.split(b"\0")
    files = [n.decode() for n in names if n.endswith(b".json")]
    with tempfile.TemporaryDirectory(prefix="alphaloop-audit-") as tmp:
        folder = Path(tmp) / LEDGER_DIR
        folder.mkdir(parents=True)
        for name in files:
            (folder / name).write_bytes(repo.read_file(tip, f"{LEDGER_DIR}/{name}"))
        try:
            return {e.cycle_id: e for e in Ledger(tmp).entries()}
        except LedgerError as error:
            findings.append(AuditFinding(check="ledger", subject=LEDGER_DIR,
                                         problem=str(error)))
        out: dict[str, LedgerEntry] = {}
        for name in files:  # whatever still parses, for the other checks
            try:
                entry = LedgerEntry.parse((folder / name).read_bytes(),
                                          file_name=f"{LEDGER_DIR}/{name}")
            except LedgerError:
                continue
            out[entry.cycle_id] = entry
        return out


def _cycle_commits(repo: GitRepo, branch: str) -> list[tuple[str, str]]:
    """(commit, cycle id) of every first-parent commit with a cycle trailer, oldest first."""
    text = repo.git("log", "--first-parent", "--reverse", "--format=%x1e%H%x1f%B",
                    f"refs/heads/{branch}").text
    out = []
    for block in filter(None, text.split("\x1e")):
        sha, _, body = block.partition("\x1f")
        for line in body.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == CYCLE_TRAILER and value.strip():
                out.append((sha.strip(), value.strip()))
                break
    return out


def _entry_at(repo: GitRepo, commit: str, cid: str) -> LedgerEntry | None:
    path = Ledger.relative_path(cid)
    out = repo.git("cat-file", "blob", f"{commit}:{path}", ok=(0, 128))
    if out.status != 0:
        return None
    try:
        return LedgerEntry.parse(out.stdout, file_name=path)
    except LedgerError:
        return None


def _check_history(repo: GitRepo, branch: str, entries: dict[str, LedgerEntry],
                   findings: list[AuditFinding]) -> int:
    commits = _cycle_commits(repo, branch)
    first: dict[str, str] = {}
    for sha, cid in commits:
        committed = _entry_at(repo, sha, cid)
        if committed is None:
            continue  # a merge commit of the cycle, not its report
        if cid in first:
            findings.append(AuditFinding(
                check="history", subject=cid,
                problem=f"cycle id {cid} was committed twice ({first[cid][:12]} and "
                        f"{sha[:12]}): an entry was deleted and its id reused"))
            continue
        first[cid] = sha
        current = entries.get(cid)
        if current is None:
            findings.append(AuditFinding(
                check="history", subject=cid,
                problem=f"the entry committed by its cycle in {sha[:12]} is no longer in "
                        "the ledger"))
        elif current.digest != committed.digest:
            findings.append(AuditFinding(
                check="history", subject=cid,
                problem=f"the ledger's entry (digest {current.digest[:12]}) is not the one "
                        f"its cycle committed in {sha[:12]} (digest {committed.digest[:12]})"))
    for cid in sorted(set(entries) - set(first)):
        findings.append(AuditFinding(
            check="history", subject=cid,
            problem=f"no cycle commit on {branch} carries {cid}: it was not written by a "
                    "cycle"))
    return len(first)


def _check_journal(repo: GitRepo, branch: str, tip: str, journal: Journal,
                   entries: dict[str, LedgerEntry], findings: list[AuditFinding]) -> int:
    lines, problems = journal.read()
    for problem in problems:
        findings.append(AuditFinding(check="journal", subject=f"line {problem.line}",
                                     problem=problem.problem))
    for line in lines:
        if line.branch != branch:
            continue
        current = entries.get(line.cycle_id)
        if current is None:
            findings.append(AuditFinding(
                check="journal", subject=line.cycle_id,
                problem=f"the bot committed {line.cycle_id} in {line.commit[:12]}, but the "
                        "ledger no longer holds it"))
        elif current.digest != line.digest:
            findings.append(AuditFinding(
                check="journal", subject=line.cycle_id,
                problem=f"the ledger's {line.cycle_id} (digest {current.digest[:12]}) is not "
                        f"the entry the bot committed (digest {line.digest[:12]})"))
        if not _exists(repo, line.commit) or not repo.is_ancestor(line.commit, tip):
            findings.append(AuditFinding(
                check="journal", subject=line.commit[:12],
                problem=f"the commit that carried {line.cycle_id} is no longer in {branch}'s "
                        f"history: {branch} was rewritten"))
    return len(lines)


def _exists(repo: GitRepo, sha: str) -> bool:
    return repo.git("cat-file", "-e", f"{sha}^{{commit}}", ok=(0, 1, 128)).status == 0


def _forge_changes(repo: GitRepo) -> Iterable[tuple[str, str, str]]:
    """(commit, status letter, path) of every change on the forge branch, oldest first."""
    text = repo.git("log", "--reverse", "--no-renames", "--name-status", "--format=%x1e%H",
                    f"refs/heads/{FORGE_BRANCH}").text
    for block in filter(None, text.split("\x1e")):
        sha, *rows = block.strip().splitlines()
        for row in filter(None, rows):
            status, _, path = row.partition("\t")
            yield sha, status.strip(), path.strip()


def _required_roles(repo: GitRepo, tip: str, findings: list[AuditFinding]) -> list[str]:
    """The roles ``policies/merge.toml`` at ``tip`` requires to approve a merge."""
    try:
        policy = tomllib.loads(repo.read_file(tip, "policies/merge.toml").decode("utf-8"))
    except (GitError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        findings.append(AuditFinding(check="forge", subject="policies/merge.toml",
                                     problem=f"cannot be read ({error}); approvals of merged "
                                             "PRs were not checked"))
        return []
    entries = [r for r in policy.get("required_approvals", []) if isinstance(r, str)]
    try:
        return reviewer_roles(entries)
    except RoleConfigError as error:
        findings.append(AuditFinding(check="forge", subject="policies/merge.toml",
                                     problem=f"{error}; approvals of merged PRs were not "
                                             "checked"))
        return []


def _check_forge(repo: GitRepo, branch: str, tip: str, findings: list[AuditFinding]
                 ) -> tuple[int, dict[int, list[Review]] | None]:
    if repo.branch_sha(FORGE_BRANCH) is None:
        return 0, None
    for sha, status, path in _forge_changes(repo):
        if "/reviews/" in path and status != "A":
            verb = "deleted" if status == "D" else "edited"
            findings.append(AuditFinding(
                check="forge", subject=path,
                problem=f"review record {verb} in forge commit {sha[:12]}: reviews are "
                        "append-only"))
    forge_tip = repo.branch_sha(FORGE_BRANCH) or ""
    listing = repo.git("ls-tree", "-r", "-z", "--name-only", forge_tip, "prs").stdout
    paths = [p.decode() for p in listing.split(b"\0") if p]
    prs: list[PullRequest] = []
    reviews: dict[int, list[Review]] = {}
    for path in paths:
        raw = repo.read_file(forge_tip, path)
        try:
            if path.endswith("/pr.json"):
                prs.append(PullRequest.model_validate_json(raw))
            elif "/reviews/" in path:
                review = Review.model_validate_json(raw)
                reviews.setdefault(review.pr_number, []).append(review)
        except ValidationError as error:
            findings.append(AuditFinding(check="forge", subject=path,
                                         problem=f"unreadable record ({error.errors()[0]['msg']})"))
    required = _required_roles(repo, tip, findings)
    merged = [pr for pr in prs if pr.state == "merged" and pr.base_branch == branch]
    for pr in merged:
        _check_merged(repo, pr, tip, required, reviews.get(pr.number, []), findings)
    return len(merged), reviews


def _check_merged(repo: GitRepo, pr: PullRequest, tip: str, required: list[str],
                  reviews: list[Review], findings: list[AuditFinding]) -> None:
    subject = f"PR #{pr.number}"
    sha, head = pr.merge_sha or "", pr.merged_head or ""
    if not _exists(repo, sha) or not repo.is_ancestor(sha, tip):
        findings.append(AuditFinding(check="forge", subject=subject,
                                     problem=f"merge commit {sha[:12]} is not in "
                                             f"{pr.base_branch}'s history"))
        return
    trailer = _trailer(repo, sha, HEAD_TRAILER)
    if "rollback" in pr.labels and pr.author_role == "sre":
        _check_rollback(repo, pr, sha, tip, findings)
        return
    if trailer != head:
        findings.append(AuditFinding(
            check="forge", subject=subject,
            problem=f"merge commit {sha[:12]} names head {trailer[:12] or 'none'}, but the PR "
                    f"record says {head[:12]} was merged"))
    approved = {r.reviewer for r in reviews
                if r.commit_sha == head and r.verdict == "approve" and not r.human}
    for role in required:
        if role not in approved:
            findings.append(AuditFinding(
                check="forge", subject=subject,
                problem=f"merged without an approval by {role} of the merged head "
                        f"{head[:12]}"))


def _check_cited_reviews(entries: dict[str, LedgerEntry], reviews: dict[int, list[Review]],
                         findings: list[AuditFinding]) -> None:
    """Every review a ledger entry records must still be on the forge: by that role, of
    that head commit, with that verdict."""
    for cid, entry in sorted(entries.items()):
        pr_number = (entry.records.get("implement") or {}).get("pr_number")
        if not isinstance(pr_number, int):
            continue
        held = reviews.get(pr_number, [])
        for stage, record in entry.records.items():
            if (not stage.endswith("_review") or stage == "quant_review"
                    or not isinstance(record, dict) or "head_sha" not in record):
                continue
            role, head = stage.removesuffix("_review"), str(record["head_sha"])
            approved = record.get("verdict") == "approve"
            if not any(r.reviewer == role and r.commit_sha == head and not r.human
                       and (r.verdict == "approve") == approved for r in held):
                findings.append(AuditFinding(
                    check="forge", subject=f"{cid} PR #{pr_number}",
                    problem=f"the ledger records a {role} review of {head[:12]} "
                            f"({record.get('verdict')}) that the forge does not hold"))


def _check_forge_present(entries: dict[str, LedgerEntry],
                         findings: list[AuditFinding]) -> None:
    """Reviews the ledger cites with no forge branch to hold them: the branch was
    deleted, or the cycles ran on GitHub, whose reviews only ``--forge github`` reads."""
    cited = sorted(cid for cid, entry in entries.items()
                   if isinstance((entry.records.get("implement") or {}).get("pr_number"), int))
    if cited:
        findings.append(AuditFinding(
            check="forge", subject=FORGE_BRANCH, kind="forge-missing",
            problem=f"the ledger cites the reviews of {len(cited)} pull request(s) "
                    f"({', '.join(cited[:5])}{', ...' if len(cited) > 5 else ''}) but there "
                    f"is no {FORGE_BRANCH} branch to hold them: if the cycles ran on GitHub, "
                    "verify with `--forge github`; otherwise the forge branch was deleted"))


def _trailer(repo: GitRepo, sha: str, key: str) -> str:
    return repo.git("log", "-1", f"--format=%(trailers:key={key},valueonly,separator=)",
                    sha).text.strip()


def _check_rollback(repo: GitRepo, pr: PullRequest, sha: str, tip: str,
                    findings: list[AuditFinding]) -> None:
    """A rollback merges without approvals: it must only undo a commit of the branch."""
    subject = f"PR #{pr.number} (rollback)"
    reverted = _trailer(repo, sha, REVERTS_TRAILER)
    if not reverted or not _exists(repo, reverted) or not repo.is_ancestor(reverted, sha):
        findings.append(AuditFinding(
            check="forge", subject=subject,
            problem=f"merge commit {sha[:12]} names no earlier commit it reverts, yet merged "
                    "without approvals"))
        return
    before = repo.tree_hash(f"{reverted}^", "strategy")
    if repo.tree_hash(sha, "strategy") != before:
        findings.append(AuditFinding(
            check="forge", subject=subject,
            problem=f"merge commit {sha[:12]} does not restore strategy/ as it was before "
                    f"{reverted[:12]}: it changed more than the rollback"))


def _check_deployments(repo: GitRepo, branch: str, tip: str,
                       findings: list[AuditFinding]) -> int:
    """The deployment ledger's chain, the commits that added its events, and the
    deployed commits."""
    try:
        events = DeploymentLedger(repo, branch).events()
    except DeployLedgerCorrupt as error:
        findings.append(AuditFinding(check="deploy", subject=DEPLOY_HISTORY,
                                     problem=str(error)))
        return 0
    log = repo.git("log", "--first-parent", "--format=%x1e%H", "--name-status",
                   "--no-renames", tip, "--", DEPLOY_HISTORY).text
    added: dict[str, str] = {}
    for block in filter(None, log.split("\x1e")):
        sha, *rows = block.strip().splitlines()
        for row in filter(None, rows):
            status, _, path = row.partition("\t")
            if status.strip() == "A":
                added[path.strip()] = sha
    for event in events:
        path = f"{DEPLOY_HISTORY}/{event.id}.json"
        commit = added.get(path)
        if commit is None or _trailer(repo, commit, EVENT_TRAILER) != event.id:
            findings.append(AuditFinding(
                check="deploy", subject=event.id,
                problem="no commit of the branch added this event under its own trailer"))
        if event.commit and (not _exists(repo, event.commit)
                             or not repo.is_ancestor(event.commit, tip)):
            findings.append(AuditFinding(
                check="deploy", subject=event.id,
                problem=f"the deployed commit {event.commit[:12]} is not in {branch}'s "
                        "history"))
    return len(events)


def _revert_commits(repo: GitRepo, branch: str) -> set[str]:
    """The commits the deployment ledger records as rollbacks landed on ``branch``."""
    try:
        events = DeploymentLedger(repo, branch).events()
    except DeployLedgerCorrupt:
        return set()  # reported by the deployment check
    return {e.revert_commit for e in events if e.revert_commit}


def _check_github(repo: GitRepo, github: GitHubForge, branch: str, tip: str, key: bytes,
                  entries: dict[str, LedgerEntry], findings: list[AuditFinding]
                  ) -> tuple[int, int]:
    from alphaloop.audit.github_trail import check_github
    from alphaloop.forge.signing import ReviewKey

    required = _required_roles(repo, tip, findings)
    trail = check_github(github, repo, branch=branch, entries=entries, key=ReviewKey(key),
                         reverts=_revert_commits(repo, branch), required=required)
    findings += trail.findings
    for pr in trail.merged:
        _check_merged(repo, pr, tip, required, trail.reviews.get(pr.number, []), findings)
    return len(trail.merged), trail.checked


def verify_repository(repo: GitRepo, *, branch: str = "main", key: bytes,
                      github: GitHubForge | None = None) -> AuditReport:
    """Cross-check the ledger, git history, the bot's journal and the forge of ``repo``:
    its local forge branch, or with ``github`` the pull requests and reviews on GitHub."""
    tip = repo.branch_sha(branch)
    if tip is None:
        raise LedgerError(f"there is no branch {branch!r} to audit; pass --base with the "
                          "branch the cycles commit to")
    findings: list[AuditFinding] = []
    entries = _ledger_entries(repo, tip, findings)
    cycle_commits = _check_history(repo, branch, entries, findings)
    journal = Journal(repo.common_dir, key)
    journal_lines = _check_journal(repo, branch, tip, journal, entries, findings)
    if github is None:
        merged, reviews = _check_forge(repo, branch, tip, findings)
        if reviews is not None:
            _check_cited_reviews(entries, reviews, findings)
        else:
            _check_forge_present(entries, findings)
        n_reviews = sum(len(v) for v in (reviews or {}).values())
    else:
        merged, n_reviews = _check_github(repo, github, branch, tip, key, entries, findings)
    deployments = _check_deployments(repo, branch, tip, findings)
    return AuditReport(branch=branch, head=tip, entries=len(entries),
                       cycle_commits=cycle_commits, journal_lines=journal_lines,
                       merged_prs=merged, reviews=n_reviews, deployments=deployments,
                       findings=findings)

