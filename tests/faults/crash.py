"""Crash tests: whole cycles on real repositories, killed by real signals in a child.

The child is a fork of the test process (the cycle's imports are already loaded, so a
kill point costs only the work of the cycle), killed with SIGKILL either as a stage
starts or right after its Nth git command (``ALPHALOOP_FAULT_KILL_AT_GIT_CALL``, see
:mod:`alphaloop.repo._command`). The reference run records every git command, so each
kill point can be named by the command it follows.
"""

from __future__ import annotations

import os
import shutil
import signal
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, engine_patch, git, make_repo, patch_hypothesis

from alphaloop.audit import verify_repository
from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.records import CycleSummary
from alphaloop.repo import GitRepo, _command, gitrepo

KEY = "test-fault-key"


def more_cash(repo: Path) -> Callable[..., object]:
    """A change Risk approves and the gate merges: every stage of a cycle does real work."""
    patch = engine_patch(repo, {"* (1.0 - tunables.CASH_BUFFER)":
                                "* (1.0 - tunables.CASH_BUFFER) * 0.75"})
    return patch_hypothesis("more-cash", patch, "Hold a quarter more cash")


def in_child(body: Callable[[], None], *, env: dict[str, str] | None = None) -> int:
    """Run ``body`` in a forked child and return its exit code (``-signal`` if killed)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test process
        code = 1
        try:
            os.environ.update(env or {})
            _command._fault_calls[0] = 0
            body()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def kill_before(stage: str) -> Callable[[str, str], None]:
    def on_stage(current: str, note: str) -> None:
        if current == stage:
            os.kill(os.getpid(), signal.SIGKILL)
    return on_stage


@dataclass(frozen=True)
class Reference:
    """An uninterrupted cycle: what every interrupted one must end up as."""

    repo: Path
    summary: CycleSummary
    state: dict[str, object]
    commands: list[tuple[str, ...]]  # every git command, in the order the hook counts them

    def kill_point(self, command: str, occurrence: int) -> int:
        """The number of the git call that is the ``occurrence``-th ``command``."""
        words = tuple(command.split())
        hits = [n for n, args in enumerate(self.commands, 1)
                if _words(args)[:len(words)] == words]
        return hits[occurrence - 1]


def _words(args: tuple[str, ...]) -> tuple[str, ...]:
    """The subcommand and its operands: options and ``-c name=value`` pairs dropped."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not arg.startswith("-"):
            kept.append(arg)
    return tuple(kept)


def state_of(repo: Path) -> dict[str, object]:
    """What a finished cycle leaves, free of timestamps: refs, history, forge, ledger."""
    forge = LocalForge(GitRepo.open(repo))
    prs = forge.list_prs()
    entries = Ledger(repo).entries()
    worktrees = [line for line in git(repo, "worktree", "list", "--porcelain").splitlines()
                 if line.startswith("worktree ")]
    return {
        "refs": sorted(git(repo, "for-each-ref", "--format=%(refname)").split()),
        "main": git(repo, "log", "--first-parent", "--format=%an|%s", "main").splitlines(),
        "quant_commits": len(git(repo, "log", "--all", "--format=%H",
                                 "--author=Quant").split()),
        "prs": [(p.number, p.state, p.head_branch, sorted(p.labels)) for p in prs],
        "reviews": [(r.reviewer, r.verdict) for p in prs for r in forge.reviews(p.number)],
        "ledger": [(e.cycle_id, e.records["summary"]["outcome"],
                    e.records.get("hypothesis", {}).get("key"),
                    (e.records.get("risk_review") or {}).get("verdict")) for e in entries],
        "worktrees": len(worktrees),
        "runs": sorted(p.name for p in (repo / ".git" / "alphaloop" / "runs").glob("*")),
        "scratch": sorted(p.name for p in (repo / ".git" / "alphaloop" / "tmp").glob("*")),
    }


def fresh_repo(where: Path, warm: Path) -> Path:
    """A new project whose backtest cache is ``warm``'s (same trees, same data), so
    a kill point costs the cycle's git and gate work, not its backtests again."""
    repo = make_repo(where)
    shutil.copytree(warm / ".git" / "alphaloop" / "cache" / "backtests",
                    repo / ".git" / "alphaloop" / "cache" / "backtests")
    return repo


def audit_problems(repo: Path) -> list[str]:
    report = verify_repository(GitRepo.open(repo), key=KEY.encode())
    return [f"{f.check}: {f.subject}: {f.problem}" for f in report.findings]


@pytest.fixture(autouse=True)
def review_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHALOOP_REVIEW_KEY", KEY)


def make_reference(root: Path) -> Reference:
    """Run the reference cycle under ``root``: once cold (filling the backtest cache the
    kill points reuse), then warm with every git command recorded."""
    commands: list[tuple[str, ...]] = []
    real = gitrepo.run_git

    def recording(args, **kwargs):  # type: ignore[no-untyped-def]
        commands.append(tuple(args))
        return real(args, **kwargs)

    cold = make_repo(root / "cold")
    run_cycles(cold, OPTIONS, hypothesis_source=more_cash(cold))
    repo = fresh_repo(root / "project", cold)
    gitrepo.run_git = recording
    try:
        [summary] = run_cycles(repo, OPTIONS, hypothesis_source=more_cash(repo))
    finally:
        gitrepo.run_git = real
    return Reference(repo=repo, summary=summary, state=state_of(repo), commands=commands)


def killed_then_resumed(where: Path, reference: Reference, *, stage: str | None = None,
                        call: int | None = None) -> list[str]:
    """Kill a cycle as ``stage`` starts or after git call ``call``, resume it, and return
    how the result differs from the reference (empty when it does not)."""
    repo = fresh_repo(where, reference.repo)
    source = more_cash(repo)
    env = {_command.FAULT_KILL_AT: str(call)} if call else {}
    code = in_child(lambda: run_cycles(repo, OPTIONS, hypothesis_source=source,
                                       on_stage=kill_before(stage) if stage else None),
                    env=env)
    if code != -signal.SIGKILL:
        return [f"the cycle was not killed (exit {code})"]
    problems: list[str] = []
    if (repo / ".git" / "alphaloop" / "runs" / "c0001").exists():
        try:
            run_cycles(repo, OPTIONS, hypothesis_source=source)
            problems.append("a new cycle started over an interrupted one")
        except CycleError as exc:
            if "--resume" not in str(exc):
                problems.append(f"the refusal does not say --resume: {exc}")
    [summary] = run_cycles(repo, OPTIONS, resume=True, hypothesis_source=source)
    got = (summary.outcome, summary.hypothesis, summary.pr_number)
    want = (reference.summary.outcome, reference.summary.hypothesis,
            reference.summary.pr_number)
    if got != want:
        problems.append(f"outcome {got} instead of {want}")
    state = state_of(repo)
    problems += [f"{key}: {state[key]!r} instead of {value!r}"
                 for key, value in reference.state.items() if state[key] != value]
    problems += audit_problems(repo)
    return problems


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALPHALOOP_REVIEW_KEY", KEY)
        yield make_reference(tmp_path_factory.mktemp("reference"))
