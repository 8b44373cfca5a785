"""Everything one cycle works with, prepared and checked before any stage runs.

The cycle reads its inputs from the *committed* base branch - ``policies/``, ``roles/``,
``task.md`` and the ledger - never from the user's working files, which may hold
uncommitted edits: git is the source of truth. Every problem found here (no repository,
no base branch, invalid policies, a corrupt ledger, data too short for the held-out
window, no sandbox) becomes a :class:`~alphaloop.cycle.options.CycleError` that says what
to do, before anything is written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from alphaloop.cycle.journal import Journal
from alphaloop.cycle.ledger import (
    CYCLE_TRAILER,
    Ledger,
    LedgerCorrupt,
    LedgerEntry,
    LedgerError,
    RunStore,
)
from alphaloop.cycle.options import CycleError, CycleOptions
from alphaloop.cycle.preflight import base_branch_of, open_repository
from alphaloop.cycle.thinking import open_role_model
from alphaloop.data import DataError, open_source
from alphaloop.data.panel import MarketData
from alphaloop.deploy import DeployError, DeploymentLedger, DeploymentState
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.evaluation.executor import ExecutorError, open_executor
from alphaloop.evaluation.model_answers import read_strategy_llm_policy, strategy_answerer
from alphaloop.evaluation.performance import read_performance_policy
from alphaloop.forge import Forge
from alphaloop.forge.open import open_forge
from alphaloop.harness import ResearchWindows, WindowError, research_windows
from alphaloop.keys import bot_key
from alphaloop.llm import StructuredLLM
from alphaloop.policy import Policies, PolicyError, load_policies
from alphaloop.repo import GitError, GitRepo, Identity, commit_files, materialise_tree
from alphaloop.repo._parse import commits_with_trailer
from alphaloop.roles import (
    InSample,
    RoleServices,
    Team,
    TeamConfig,
    build_team,
    load_charters,
)
from alphaloop.sandbox import Limits, Sandbox, SandboxUnavailable, open_sandbox

__all__ = ["CycleContext", "build_context", "commit_files", "cycle_clock", "snapshot"]

_SNAPSHOT_PATHS = ("policies", "roles", "ledger", "task.md")


def snapshot(repo: GitRepo, sha: str, into: Path) -> Path:
    """Write the cycle's inputs at ``sha`` into ``into`` as stored (only paths that exist)."""
    present = set(repo.git("ls-tree", "--name-only", sha).lines())
    wanted = [p for p in _SNAPSHOT_PATHS if p in present]
    into.mkdir(parents=True, exist_ok=True)
    if wanted:
        materialise_tree(repo, sha, into, paths=wanted)
    return into


@dataclass
class CycleContext:
    repo: GitRepo
    options: CycleOptions
    cycle_id: str
    base_branch: str
    base_sha: str
    policies: Policies
    identities: dict[str, Identity]
    task_text: str
    ledger_entries: list[dict[str, Any]]
    data: MarketData
    windows: ResearchWindows
    clock: date
    market: MarketData
    """All the data there is (up to ``--until``): the bars after the clock are the ones a
    deployment trades live; research never sees them."""
    deployments: DeploymentState
    sandbox: Sandbox
    evaluator: Evaluator
    forge: Forge
    run_store: RunStore
    team: Team
    llm: StructuredLLM | None = None
    """The model the roles think with (None: offline); its meter holds the cycle's costs."""

    @property
    def in_sample(self) -> InSample:
        """The proposer's view: the data up to the end of the in-sample window."""
        return InSample.of(self.data, self.windows)

    def ledger_entry(self, records: Mapping[str, Mapping[str, Any]],
                     created: datetime | None = None) -> tuple[str, bytes]:
        previous = self.ledger_entries[-1]["digest"] if self.ledger_entries else None
        entry = LedgerEntry.create(self.cycle_id, records, created=created, previous=previous)
        return Ledger.relative_path(self.cycle_id), entry.to_bytes()

    def landed_report(self, since: str) -> str | None:
        """The report commit of this cycle if it already reached the base branch.

        A cycle killed after its report commit landed finds it again on ``--resume`` by
        its ``AlphaLoop-Cycle`` trailer and the ledger entry it carries, instead of
        committing a second time. Only commits after ``since`` (the base commit the cycle
        planned on) count, so an older commit of a reused cycle id is never taken for
        this one.
        """
        path = Ledger.relative_path(self.cycle_id)
        log = self.repo.git("log", "--first-parent", "--format=%x1e%H%x1f%B",
                            f"{since}..refs/heads/{self.base_branch}").text
        for sha in commits_with_trailer(log, CYCLE_TRAILER, self.cycle_id):
            if self.repo.git("cat-file", "-e", f"{sha}:{path}", ok=(0, 128)).status == 0:
                return sha
        return None

    def journal_report(self, commit: str) -> None:
        """Note in the bot's journal (outside history) which entry ``commit`` carried."""
        raw = self.repo.read_file(commit, Ledger.relative_path(self.cycle_id))
        entry = LedgerEntry.parse(raw, file_name=Ledger.relative_path(self.cycle_id))
        Journal(self.repo.common_dir, bot_key()).record(
            cycle_id=self.cycle_id, digest=entry.digest, commit=commit,
            branch=self.base_branch)

    def commit_to_base(self, files: Mapping[str, bytes], message: str) -> str:
        """Commit ``files`` on top of the base branch as the PM and advance it (ff-only).

        ``task.md`` is left out if a human changed it on the branch since the cycle
        started, so their edit is never overwritten.
        """
        repo, branch = self.repo, self.base_branch
        tip = repo.branch_sha(branch)
        if tip is None:
            raise CycleError(f"the branch {branch!r} disappeared during the cycle")
        writes = dict(files)
        if tip != self.base_sha and "task.md" in writes:
            try:
                changed = repo.read_file(tip, "task.md") != repo.read_file(self.base_sha,
                                                                           "task.md")
            except GitError:
                changed = True
            if changed:
                writes.pop("task.md")
        return commit_files(repo, branch, tip, writes, message, self.identities["pm"],
                            retry_hint="then run `alphaloop cycle --resume`")


def cycle_clock(market: MarketData, deployed: date | None, asked: date | None) -> date:
    """Where the loop stands: the last bar a deployment traded, else ``asked`` (``--clock``),
    else the last day of the data. ``asked`` may move the clock forward, never back: the
    bars before a deployment's clock were traded live and seen by every later cycle."""
    last = market.dates[-1].date()
    if deployed is not None and asked is not None and asked < deployed:
        raise CycleError(f"--clock {asked} is before the clock the deployments reached "
                         f"({deployed}); the clock never goes back. Leave --clock out, or "
                         "give a later date")
    clock = max(d for d in (deployed, asked) if d is not None) \
        if (deployed or asked) is not None else last
    if clock > last and deployed is not None and (asked is None or asked <= deployed):
        raise CycleError(f"the clock is at {deployed} (where the deployments reached) but "
                         f"the data ends on {last}; give data that reaches the clock")
    return min(clock, last)


def _cycle_id(repo: GitRepo, ledger: Ledger, resume: bool) -> str:
    running = RunStore.in_progress(repo.common_dir)
    if running:
        if not resume:
            raise CycleError(
                f"cycle {running[-1]} was interrupted and is unfinished; run "
                "`alphaloop cycle --resume` to finish it (its finished stages are kept), "
                "or `alphaloop cycle --abandon` to close it")
        return running[-1]
    try:
        return ledger.next_cycle_id()
    except (LedgerCorrupt, LedgerError) as exc:
        raise CycleError(str(exc)) from None


def build_context(path: Path, options: CycleOptions, *, resume: bool = False,
                  workdir: Path | None = None, allow_halted: bool = False) -> CycleContext:
    repo = open_repository(path)
    base_branch = base_branch_of(repo, options.base_branch)
    base_sha = repo.branch_sha(base_branch)
    if base_sha is None:
        raise CycleError(f"the branch {base_branch!r} has no commit yet: commit the project "
                         "(strategy/, policies/, roles/ and task.md) there first")
    inputs = snapshot(repo, base_sha, (workdir or Path(tempfile.mkdtemp(
        prefix="alphaloop-inputs-"))))
    try:
        policies = load_policies(inputs)
        charters = load_charters(inputs)
    except PolicyError as exc:
        raise CycleError(f"{exc} (read from {base_branch} at {base_sha[:10]})") from None
    task_file = inputs / "task.md"
    if not task_file.is_file():
        raise CycleError(f"task.md is missing on {base_branch}: commit a backlog there "
                         "(see docs/task-format.md for the format)")
    try:
        task_text = task_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CycleError(f"task.md on {base_branch} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start}); save it as UTF-8 and commit it") from None
    ledger = Ledger(inputs)
    try:
        entries = [e.model_dump(mode="json") for e in ledger.entries()]
    except (LedgerCorrupt, LedgerError) as exc:
        raise CycleError(str(exc)) from None
    cycle_id = _cycle_id(repo, ledger, resume)
    try:
        deployments = DeploymentLedger(repo, base_branch).state()
    except DeployError as exc:
        raise CycleError(str(exc)) from None
    if deployments.halt is not None and not allow_halted:
        halt = deployments.halt
        raise CycleError(f"deployments are halted ({halt.id}, by {halt.decided_by}: "
                         f"{halt.reason}); no cycle or deploy starts until a person runs "
                         "`alphaloop resume --reason ...`")
    try:
        market = open_source(options.data).load()
        if options.until is not None:  # the loop never receives a row after the cut-off
            market = market.slice(end=options.until)
        clock = cycle_clock(market, deployments.clock, options.clock)
        data = market.slice(end=clock)
        windows = research_windows(data, holdout_days=options.holdout_days,
                                   n_folds=options.n_folds, warmup_days=options.warmup_days)
    except (DataError, WindowError) as exc:
        raise CycleError(str(exc)) from None
    try:
        sandbox = open_sandbox(options.sandbox, limits=Limits(wall_seconds=options.wall_seconds),
                               allow_unsandboxed=options.allow_unsandboxed)
    except SandboxUnavailable as exc:
        raise CycleError(str(exc)) from None
    settings = EvalSettings(profile=options.profile, frequency=options.frequency,
                            reward_lambda=policies.risk.process.reward_lambda)
    llm, model = open_role_model(options.llm, repo.alphaloop_dir, charters,
                                 run_dir=RunStore(repo.common_dir, cycle_id).directory)
    try:
        fan_out = read_performance_policy(repo.work_tree).executor
        # who answers a strategy's questions to a model: the committed policy decides
        strategy_llm = read_strategy_llm_policy(inputs)
        executor = open_executor(options.executor, workers=fan_out.workers,
                                 address=fan_out.address)
    except (PolicyError, ExecutorError) as exc:
        raise CycleError(str(exc)) from None
    evaluator = Evaluator(repo, sandbox, settings, executor=executor,
                          answerer=strategy_answerer(llm, strategy_llm),
                          model_limits=strategy_llm.limits)
    forge = open_forge(repo, options.forge, approvers=policies.merge.approvers)
    identities = {name: c.identity for name, c in charters.items()}
    services = RoleServices(repo=repo, forge=forge, evaluator=evaluator, policies=policies,
                            identities=identities, model=model)
    try:
        team = build_team(TeamConfig.from_policies(
            policies, structural_every=options.structural_every), services)
    except PolicyError as exc:
        evaluator.close()
        raise CycleError(f"{exc} (read from {base_branch} at {base_sha[:10]})") from None
    return CycleContext(
        repo=repo, options=options, cycle_id=cycle_id, base_branch=base_branch,
        base_sha=base_sha, policies=policies, identities=identities,
        task_text=task_text, ledger_entries=entries, data=data,
        windows=windows, clock=data.dates[-1].date(), market=market,
        deployments=deployments, sandbox=sandbox,
        evaluator=evaluator, forge=forge, run_store=RunStore(repo.common_dir, cycle_id),
        team=team, llm=llm)
