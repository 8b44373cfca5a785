"""``alphaloop cycle --abandon``: close an interrupted cycle instead of resuming it.

A cycle that stopped (a crash, a kill, a failure it cannot get past) keeps its finished
stages in the run store so ``--resume`` can finish it. Abandoning it instead:

1. closes its pull request (if it opened one), labelled ``abandoned`` with the reason;
2. removes its worktree (the branch stays, so the PR's commits can still be read);
3. commits a ledger entry for the cycle to the base branch as the PM: the records of
   the stages it finished and a summary whose outcome is ``abandoned``, chained to the
   entry before like any other, and noted in the bot's journal, so
   ``alphaloop audit verify`` accounts for it;
4. clears the run store, so the next ``alphaloop cycle`` starts a new cycle.

A cycle whose change was already merged, or whose report already landed, cannot be
abandoned (that would leave ``main`` changed without its record): ``--resume`` finishes
it. Nothing is done unless every check passes first.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from alphaloop.cycle.context import commit_files
from alphaloop.cycle.journal import Journal
from alphaloop.cycle.ledger import (
    CYCLE_TRAILER,
    Ledger,
    LedgerEntry,
    LedgerError,
    RunStore,
    cycle_id,
)
from alphaloop.cycle.lock import CycleLock, CycleLocked
from alphaloop.cycle.options import CycleError
from alphaloop.cycle.preflight import PreflightError, base_branch_of, open_repository
from alphaloop.forge import Forge, PullRequest
from alphaloop.forge.open import open_forge
from alphaloop.keys import bot_key
from alphaloop.records import CycleSummary, Hypothesis, Outcome, Stage
from alphaloop.repo import GitRepo, Identity, materialise_tree
from alphaloop.roles import CharterError, load_charters

__all__ = ["DEFAULT_REASON", "Abandoned", "abandon_cycle"]

DEFAULT_REASON = "abandoned by a human (`alphaloop cycle --abandon`)"
#: Run-store records that are the run's bookkeeping, not a stage's decision.
_BOOKKEEPING = frozenset({"options", "timings"})


class Abandoned(BaseModel):
    """What abandoning a cycle did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_id: str
    base_branch: str
    commit: str
    stages: list[str]
    closed_prs: list[int]
    removed_worktrees: list[str]


def _cycle_prs(forge: Forge, cid: str) -> list[PullRequest]:
    prefix = f"alphaloop/{cid}-"
    return [pr for pr in forge.list_prs() if pr.head_branch.startswith(prefix)]


def _refuse_if_landed(cid: str, records: dict[str, dict[str, Any]],
                      prs: list[PullRequest]) -> None:
    merged = [pr.number for pr in prs if pr.state == "merged"]
    if merged or (records.get(Stage.MERGE) or {}).get("merged"):
        shown = f"PR #{merged[0]}" if merged else "its change"
        raise PreflightError(f"{cid} already merged {shown}; abandoning cannot undo a merge: "
                             "run `alphaloop cycle --resume` to finish its report")
    if records.get(Stage.REPORT):
        raise PreflightError(f"{cid} already committed its report; run `alphaloop cycle "
                             "--resume` to finish it")


def _pm_identity(repo: GitRepo, sha: str) -> Identity:
    with tempfile.TemporaryDirectory(prefix="alphaloop-abandon-") as scratch:
        materialise_tree(repo, sha, scratch, paths=["roles"])
        try:
            return load_charters(scratch)["pm"].identity
        except (CharterError, KeyError) as exc:
            raise PreflightError(f"cannot read the PM's charter on {sha[:10]} ({exc}); fix "
                                 "roles/pm.toml and commit it") from None


def _ledger_head(repo: GitRepo, sha: str, cid: str) -> str | None:
    """The digest the entry of ``cid`` links to; refuses a ledger where ``cid`` is not
    the next cycle."""
    with tempfile.TemporaryDirectory(prefix="alphaloop-abandon-") as scratch:
        present = set(repo.git("ls-tree", "--name-only", sha).lines())
        if "ledger" in present:
            materialise_tree(repo, sha, scratch, paths=["ledger"])
        try:
            entries = Ledger(scratch).entries()
        except LedgerError as exc:
            raise PreflightError(str(exc)) from None
    if any(entry.cycle_id == cid for entry in entries):
        raise PreflightError(f"{cid} already committed its ledger entry; run `alphaloop "
                             "cycle --resume` to finish it")
    expected = cycle_id(len(entries) + 1)
    if expected != cid:
        stale = RunStore(repo.common_dir, cid).directory
        raise PreflightError(f"the ledger on {sha[:10]} expects {expected} next, not the "
                             f"interrupted {cid}: that run is stale; delete {stale} by hand")
    return entries[-1].digest if entries else None


def _summary(cid: str, records: dict[str, dict[str, Any]], reason: str) -> CycleSummary:
    plan = records.get(Stage.PLAN) or {}
    hypothesis = records.get(Stage.HYPOTHESIS)
    impl = records.get(Stage.IMPLEMENT) or {}
    return CycleSummary(
        cycle_id=cid, outcome=Outcome.ABANDONED,
        task_id=(plan.get("task") or {}).get("id"),
        hypothesis=Hypothesis.model_validate(hypothesis).headline if hypothesis else None,
        pr_number=impl.get("pr_number"), message=reason, timings=records.get("timings") or {})


def abandon_cycle(path: Path, *, reason: str = DEFAULT_REASON) -> Abandoned:
    """Close the interrupted cycle of the repository at ``path`` (see the module notes).

    Raises :class:`PreflightError` when there is nothing to abandon or it may not be
    abandoned (nothing is changed then), :class:`CycleError` if a step fails.
    """
    repo = open_repository(path)
    running = RunStore.in_progress(repo.common_dir)
    if not running:
        raise PreflightError("there is no interrupted cycle to abandon; `alphaloop cycle` "
                             "starts a new one")
    reason = " ".join(reason.split()) or DEFAULT_REASON
    try:
        with CycleLock(repo.common_dir):
            return _abandon(repo, running[-1], reason)
    except CycleLocked as exc:
        raise PreflightError(str(exc)) from None


def _abandon(repo: GitRepo, cid: str, reason: str) -> Abandoned:
    store = RunStore(repo.common_dir, cid)
    try:
        records = store.records()
    except LedgerError as exc:
        raise PreflightError(str(exc)) from None
    forge = open_forge(repo, (records.get("options") or {}).get("forge") or "local")
    prs = _cycle_prs(forge, cid)
    _refuse_if_landed(cid, records, prs)
    plan = records.get(Stage.PLAN) or {}
    branch = plan.get("base_branch") or base_branch_of(
        repo, (records.get("options") or {}).get("base_branch"))
    tip = repo.branch_sha(branch)
    if tip is None:
        raise PreflightError(f"the base branch {branch!r} of {cid} no longer exists; "
                             f"delete {store.directory} by hand to forget the run")
    previous = _ledger_head(repo, tip, cid)
    identity = _pm_identity(repo, tip)

    closed = []
    for pr in prs:
        if pr.state == "open":
            labels = pr.labels if "abandoned" in pr.labels else (*pr.labels, "abandoned")
            forge.update_pr(pr.number, state="closed", labels=labels, closed_reason=reason)
            closed.append(pr.number)
    removed = []
    for worktree in repo.worktrees():
        if worktree.branch and worktree.branch.startswith(f"alphaloop/{cid}-"):
            repo.remove_worktree(worktree.branch, force=True)
            removed.append(worktree.branch)

    stages = [name for name in records if name not in _BOOKKEEPING]
    kept = {name: records[name] for name in stages}
    kept["summary"] = _summary(cid, records, reason).model_dump(mode="json")
    try:
        entry = LedgerEntry.create(cid, kept, previous=previous)
    except LedgerError as exc:
        raise CycleError(str(exc)) from None
    message = f"{cid}: abandoned\n\n{reason}\n\n{CYCLE_TRAILER}: {cid}\n"
    commit = commit_files(repo, branch, tip, {Ledger.relative_path(cid): entry.to_bytes()},
                          message, identity, retry_hint="then run `alphaloop cycle --abandon` "
                                                        "again")
    Journal(repo.common_dir, bot_key()).record(cycle_id=cid, digest=entry.digest,
                                               commit=commit, branch=branch)
    store.clear()
    shutil.rmtree(repo.alphaloop_dir / "tmp", ignore_errors=True)
    return Abandoned(cycle_id=cid, base_branch=branch, commit=commit,
                     stages=[s for s in stages if s != "failure"], closed_prs=closed,
                     removed_worktrees=removed)
