"""Checks made before a cycle starts, so a mistake costs seconds, not a cycle.

:func:`preflight` looks at everything a cycle depends on that can be wrong before any
stage runs, and reads only: the repository (a git work tree with a base branch that has
a commit), the AlphaLoop project committed on that branch (``strategy/``, ``policies/``,
``roles/``, ``task.md``), the policies, the backlog (``task.md`` reads, and the tunables
its tasks and ``policies/search.toml`` pin or exclude exist), the ``--profile`` (against
the profiles the strategy declares), the ``--data`` source's name, an interrupted
cycle, and the user's uncommitted files. The first problem found is raised as a
:class:`PreflightError` whose message names it and says how to fix it; the command line
exits with code 2.

Why uncommitted files matter: a cycle reads the *committed* base branch, never the
work tree. Edits to ``strategy/``, ``task.md`` or any file the cycle's roles may write
would be silently ignored, and a merge or report that touches the same files would
stop at the very end, after the whole cycle ran. So they are refused up front. Edits to
``policies/`` and ``roles/`` are only warned about: the cycle uses the committed ones,
and never writes there.
"""

from __future__ import annotations

import ast
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alphaloop.cycle.ledger import RunStore
from alphaloop.cycle.lock import CycleLock, CycleLocked
from alphaloop.cycle.options import CycleError, CycleOptions
from alphaloop.data import DataError, open_source
from alphaloop.evaluation.tunables import TUNABLES_PATH, read_tunables
from alphaloop.policy import Policies, PolicyError, load_policies
from alphaloop.repo import GitError, GitRepo, materialise_tree
from alphaloop.report.taskfile import TaskFileError, parse_task_file
from alphaloop.roles import TeamConfig

__all__ = [
    "PROJECT_PATHS",
    "Preflight",
    "PreflightError",
    "base_branch_of",
    "changed_options",
    "declared_profiles",
    "open_repository",
    "preflight",
]

#: What a committed AlphaLoop project holds at its root.
PROJECT_PATHS = ("strategy", "policies", "roles", "task.md")
#: Where the strategy declares its profile names (a literal ``PROFILES`` tuple).
PROFILES_FILE = "strategy/config.py"
#: Options a resume may change: they bound the run without changing what it computes.
RESUME_MAY_CHANGE = frozenset({"wall_seconds", "executor"})
_SHOWN_FILES = 10


class PreflightError(CycleError):
    """The cycle did not start: a mistake in the options or the repository's state.

    The message names the problem and the fix. Nothing was written.
    """


@dataclass(frozen=True)
class Preflight:
    """What the checks found: the repository, the base branch and its commit, and
    warnings to show (problems that do not stop the cycle)."""

    repo: GitRepo
    base_branch: str
    base_sha: str
    warnings: tuple[str, ...] = ()


def open_repository(path: Path) -> GitRepo:
    """The git repository holding ``path``; :class:`PreflightError` if there is none."""
    try:
        return GitRepo.open(path)
    except GitError as exc:
        raise PreflightError(str(exc)) from None


def base_branch_of(repo: GitRepo, requested: str | None) -> str:
    """The branch a cycle improves: ``requested``, else ``main``, else the checked-out one."""
    if requested:
        if not repo.branch_exists(requested):
            raise PreflightError(f"there is no branch {requested!r} to improve; pass --base "
                                 "with an existing branch")
        return requested
    if repo.branch_exists("main"):
        return "main"
    try:
        return repo.current_branch()
    except GitError as exc:
        raise PreflightError(f"{exc} (there is no 'main' branch either; pass --base)") from None


def _listing(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _shown_paths(names: list[str]) -> str:
    """Project paths as a person reads them: folders with a trailing slash."""
    return _listing([name if "." in name else f"{name}/" for name in names])


def _is_are(names: list[str]) -> str:
    return "is" if len(names) == 1 else "are"


def _check_project(repo: GitRepo, branch: str, sha: str) -> None:
    """The project's files are committed on ``branch``; else say which are missing."""
    present = set(repo.git("ls-tree", "--name-only", sha).lines())
    missing = [name for name in PROJECT_PATHS if name not in present]
    if not missing:
        return
    where = f"{branch} ({sha[:10]})"
    everything = _shown_paths(list(PROJECT_PATHS))
    uncommitted = [name for name in missing if (repo.work_tree / name).exists()]
    absent = [name for name in missing if name not in uncommitted]
    if missing == ["task.md"]:
        fix = ("commit it" if uncommitted else
               "commit a backlog there (see docs/task-format.md for the format)")
        raise PreflightError(f"task.md is missing on {where}: {fix}")
    if len(absent) == len(PROJECT_PATHS):
        raise PreflightError(
            f"{repo.work_tree} is not an AlphaLoop project: {where} has none of {everything}."
            " Run alphaloop in a clone of an AlphaLoop project (its strategy, policies, role "
            "charters and backlog), or pass --repo with one")
    problems = []
    if uncommitted:
        problems.append(f"{_shown_paths(uncommitted)} {_is_are(uncommitted)} in the work "
                        "tree but not committed")
    if absent:
        problems.append(f"{_shown_paths(absent)} {_is_are(absent)} missing")
    fix = (f"`git add {' '.join(uncommitted)}` and commit" if not absent else
           "restore what is missing (e.g. from the clone you started from) and commit it")
    raise PreflightError(
        f"{' and '.join(problems)} on {where}: an AlphaLoop project commits {everything} "
        f"at its root, and the cycle reads only what is committed; {fix}, then run again")


def _check_backlog(repo: GitRepo, branch: str, sha: str, policies: Policies) -> None:
    """``task.md`` on ``branch`` reads, and every tunable its open tasks or
    ``policies/search.toml`` pin or exclude is one ``strategy/tunables.py`` declares."""
    where = f"{branch} at {sha[:10]}"
    try:
        text = repo.read_file(sha, "task.md").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PreflightError(f"task.md on {branch} is not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start}); save it as UTF-8 and commit it") from None
    try:
        tasks = parse_task_file(text)
    except TaskFileError as exc:
        raise PreflightError(f"{exc}\n(read from {where}; fix task.md and commit it)") from None
    try:
        known = sorted(read_tunables(repo.read_file(sha, TUNABLES_PATH)))
    except GitError:
        return  # a strategy without a tunables file: the Quant says what it can search
    steered = [("policies/search.toml", policies.search.steering())]
    steered += [(f"task {t.id} in task.md", t.search) for t in tasks.open_tasks()]
    problems = [f"{where_named} names {', '.join(unknown)}"
                for where_named, steering in steered
                if (unknown := steering.unknown(known))]
    if problems:
        raise PreflightError(
            f"{'; '.join(problems)}, which {TUNABLES_PATH} on {where} does not declare. "
            f"Its tunables are {', '.join(known)}; fix the pin or exclude line and commit it")


def _committed_policies(repo: GitRepo, branch: str, sha: str) -> Policies:
    with tempfile.TemporaryDirectory(prefix="alphaloop-preflight-") as scratch:
        materialise_tree(repo, sha, scratch, paths=["policies"])
        try:
            return load_policies(scratch)
        except PolicyError as exc:
            raise PreflightError(f"{exc} (read from {branch} at {sha[:10]}); fix the policy "
                                 "and commit it") from None


def declared_profiles(source: str) -> tuple[str, ...] | None:
    """The profile names a strategy's config module declares in a literal ``PROFILES``
    (read from its source, never imported); None when it declares none."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "PROFILES" for t in targets):
            try:
                value = ast.literal_eval(node.value) if node.value is not None else None
            except ValueError:
                return None
            if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
                return tuple(value)
    return None


def _check_profile(repo: GitRepo, branch: str, sha: str, profile: str) -> None:
    try:
        source = repo.read_file(sha, PROFILES_FILE).decode("utf-8", errors="replace")
    except GitError:
        return  # a strategy without that file: its factory checks the name when it runs
    profiles = declared_profiles(source)
    if profiles is not None and profile not in profiles:
        raise PreflightError(
            f"unknown profile {profile!r}: the strategy on {branch} declares "
            f"{_listing(list(profiles))} (PROFILES in {PROFILES_FILE}); pass --profile with "
            "one of them")


def _check_data_source(spec: str) -> None:
    """The source's name and settings parse (the data itself loads later, once)."""
    try:
        open_source(spec)
    except DataError as exc:
        raise PreflightError(f"--data {spec}: {exc}") from None


def changed_options(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """The options a resume changed, as ``name 'old' (now 'new')``; "" when none."""
    changed = sorted(k for k in {*current, *recorded} - RESUME_MAY_CHANGE
                     if current.get(k) != recorded.get(k))
    return ", ".join(f"{k} {recorded.get(k)!r} (now {current.get(k)!r})" for k in changed)


def _where_it_stopped(store: RunStore) -> str:
    failure = store.load("failure")
    if failure:
        first = (str(failure.get("message") or "").splitlines() or ["no message"])[0]
        return f" in {failure.get('stage', '?')} ({first[:200]})"
    done = [s for s in store.stages() if s not in ("options", "timings")]
    return f" after {done[-1]}" if done else ""


def _check_run_state(repo: GitRepo, options: CycleOptions, resume: bool) -> None:
    """An interrupted cycle is finished or abandoned before a new one starts, and
    resumed with the options it started with."""
    running = RunStore.in_progress(repo.common_dir)
    if not running:
        return
    try:  # a run folder of a cycle that is running right now is not an interrupted one
        with CycleLock(repo.common_dir):
            pass
    except CycleLocked as exc:
        raise PreflightError(str(exc)) from None
    cid = running[-1]
    store = RunStore(repo.common_dir, cid)
    if not resume:
        raise PreflightError(
            f"cycle {cid} was interrupted{_where_it_stopped(store)} and is unfinished: run "
            "`alphaloop cycle --resume` to finish it (its finished stages are kept), or "
            "`alphaloop cycle --abandon` to close it and start afresh")
    recorded = store.load("options")
    changed = changed_options(recorded, options.model_dump(mode="json")) if recorded else ""
    if changed:
        raise PreflightError(f"{cid} was started with other options: {changed}; resume it "
                             "with the options it started with, or `alphaloop cycle "
                             "--abandon` it")


def _uncommitted(repo: GitRepo, worktree: Path) -> list[str]:
    """Paths with uncommitted changes in ``worktree``: modified, staged, new, deleted."""
    fields = repo.git("status", "--porcelain=v1", "-z", "--untracked-files=all",
                      cwd=worktree).nul_fields()
    paths: list[str] = []
    skip = False
    for field in fields:
        if skip:  # the original name of a rename or copy
            skip = False
            continue
        paths.append(field[3:])
        skip = field[:1] in ("R", "C")
    return sorted(set(paths))


def _writers(policies: Policies) -> list[str]:
    """The roles of the cycle's team that have paths they may write."""
    team = TeamConfig.from_policies(policies)
    seats = [team.planner, team.proposer, *team.reviewers]
    return [seat.type for seat in seats if seat.type in policies.paths.roles]


def _check_work_tree(repo: GitRepo, branch: str, policies: Policies, *, strict: bool
                     ) -> list[str]:
    """Refuse uncommitted edits the cycle would ignore and might collide with; return
    warnings for those it only ignores. Only the work tree that has ``branch`` checked
    out matters: the cycle advances that branch there."""
    holder = repo.worktree_of(branch)
    if holder is None or holder.prunable or not holder.path.is_dir():
        return []
    dirty = _uncommitted(repo, holder.path)
    writers = _writers(policies)
    ours = [p for p in dirty if p.startswith("strategy/")
            or any(policies.paths.may_write(role, p) for role in writers)]
    protected = [p for p in dirty if p not in ours and policies.paths.protected_pattern(p)]
    warnings = []
    if protected:
        warnings.append(f"uncommitted edits to {_shown(protected)} are not used: the cycle "
                        f"reads the policies and charters committed on {branch}")
    if not ours:
        return warnings
    problem = (f"uncommitted changes to {_shown(ours)} in {holder.path}: the cycle reads "
               f"what is committed on {branch} (the strategy it improves, task.md), so these "
               "edits would be ignored, and a merge or report writing the same files would "
               "stop at the end of the cycle")
    if not strict:
        return [*warnings, problem]
    raise PreflightError(f"{problem}. Commit them (`git add` them, then `git commit`) or "
                         "stash them (`git stash --include-untracked`), then run again")


def _shown(paths: list[str]) -> str:
    more = len(paths) - _SHOWN_FILES
    return ", ".join(paths[:_SHOWN_FILES]) + (f" and {more} more" if more > 0 else "")


def preflight(path: Path, options: CycleOptions, *, resume: bool = False,
              dry_run: bool = False) -> Preflight:
    """Check everything a cycle on ``path`` with ``options`` depends on; write nothing.

    ``dry_run`` (the cycle changes nothing) turns refused uncommitted edits into a
    warning and ignores an interrupted cycle. Raises :class:`PreflightError`.
    """
    repo = open_repository(path)
    branch = base_branch_of(repo, options.base_branch)
    sha = repo.branch_sha(branch)
    if sha is None:
        raise PreflightError(
            f"{repo.work_tree} has no commit yet (its branch {branch!r} is empty): AlphaLoop "
            "improves a committed project. Run it in a clone of an AlphaLoop project, or "
            f"commit one here ({_shown_paths(list(PROJECT_PATHS))})")
    _check_project(repo, branch, sha)
    policies = _committed_policies(repo, branch, sha)
    _check_backlog(repo, branch, sha, policies)
    _check_profile(repo, branch, sha, options.profile)
    _check_data_source(options.data)
    if not dry_run:
        _check_run_state(repo, options, resume)
    warnings = _check_work_tree(repo, branch, policies, strict=not dry_run)
    return Preflight(repo=repo, base_branch=branch, base_sha=sha, warnings=tuple(warnings))
