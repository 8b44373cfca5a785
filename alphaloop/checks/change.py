"""Run every deterministic check over the files changed between two commits.

:func:`check_change` is what the Risk role runs first, before any backtest. It reads
the change from git (``git diff --raw`` between the two commits), writes the head
commit's tree to a temporary folder exactly as git stores it
(:func:`~alphaloop.repo.materialise_tree`: no attributes, filters or hooks, so what is
checked is byte for byte what merges; uncommitted edits in a worktree cannot affect the
verdict, and the repository is only read), and runs, in order:

- ``paths``       the role may change these paths; no protected path; regular files
                  only; no ``.gitattributes`` or ``.gitmodules``
- ``ast``         the AST policy over changed strategy files, and no native-code files
- ``ruff``        over changed Python files, with the repository's root configuration
- ``bandit``      over changed Python files (``assert`` allowed in tests)
- ``formatting``  for a role limited to formatting: the code did not change
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from alphaloop.checks.ast_policy import (
    check_strategy_file_types,
    check_strategy_files,
    is_strategy_file,
)
from alphaloop.checks.diff import ChangedFile, changed_files
from alphaloop.checks.findings import CheckReport, Finding
from alphaloop.checks.formatting import check_formatting_only
from alphaloop.checks.paths import check_file_modes, check_git_metadata, check_paths
from alphaloop.checks.tools import DEFAULT_TIMEOUT, run_bandit, run_ruff
from alphaloop.policy import Policies, path_matches
from alphaloop.repo import GitRepo, materialise_tree

__all__ = ["TEST_PATHS", "check_change", "export_tree"]

TEST_PATHS = ("tests/**",)


def export_tree(repo: GitRepo, commit: str, destination: Path) -> None:
    """Write the regular files of ``commit``'s tree into ``destination`` as stored (see
    :func:`~alphaloop.repo.materialise_tree`; the repository is only read)."""
    materialise_tree(repo, commit, destination)


def _timed(timings: dict[str, float], name: str,
           run: Callable[[], list[Finding]]) -> list[Finding]:
    start = time.perf_counter()
    try:
        return run()
    finally:
        timings[name] = round(time.perf_counter() - start, 6)


def check_change(worktree: Path | str, base_sha: str, head_sha: str, role: str,
                 policies: Policies, *, ruff_command: Sequence[str] | None = None,
                 bandit_command: Sequence[str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 roles_by_email: Mapping[str, str] | None = None) -> CheckReport:
    """Every deterministic check over the change ``base_sha..head_sha`` proposed by ``role``.

    ``worktree`` is any checkout of the repository holding both commits; ``policies``
    must be the trusted ones (loaded from ``main``, never from the branch under review).
    ``ruff_command``/``bandit_command`` replace how the tools are started (default:
    the current interpreter's ``-m ruff``/``-m bandit``). With ``roles_by_email`` (a
    role's commit identity -> the role), each path is checked against the paths of every
    role whose commits touched it (QA's generated tests against QA's paths), a commit by
    anyone else against ``role``'s.
    """
    repo = GitRepo.open(worktree)
    base, head = repo.rev_parse(base_sha), repo.rev_parse(head_sha)
    files = changed_files(repo, base, head)
    paths = [f.path for f in files]
    present = [f.path for f in files if not f.deleted and f.odd_mode() is None]
    python = [p for p in present if p.endswith(".py")]
    timings: dict[str, float] = {}
    findings: list[Finding] = []
    ran: list[str] = ["paths"]
    by_role = _paths_by_role(repo, base, head, paths, role, roles_by_email)
    findings += _timed(timings, "paths",
                       lambda: ([f for r, mine in by_role.items()
                                 for f in check_paths(mine, r, policies)]
                                + check_file_modes(files) + check_git_metadata(files)))
    with tempfile.TemporaryDirectory(prefix="alphaloop-checks-") as tmp:
        root = Path(tmp)
        export_tree(repo, head, root)
        strategy = [p for p in python if is_strategy_file(p, policies)]
        ran.append("ast")
        findings += _timed(timings, "ast", lambda: (
            check_strategy_file_types(present, policies)
            + check_strategy_files(root, strategy, policies)))
        if python:
            ran += ["ruff", "bandit"]
            findings += _timed(timings, "ruff", lambda: run_ruff(
                python, root=root, command=ruff_command, timeout=timeout))
            findings += _timed(timings, "bandit", lambda: _bandit(
                python, root, bandit_command, timeout))
        if policies.paths.role(role).formatting_only and files:
            ran.append("formatting")
            findings += _timed(timings, "formatting",
                               lambda: _formatting(repo, base, files, root))
    return CheckReport(findings=tuple(findings), checks_run=tuple(ran), timings=timings,
                       base_sha=base, head_sha=head, role=role,
                       policy_digest=policies.digest, changed_paths=tuple(paths))


def _paths_by_role(repo: GitRepo, base: str, head: str, paths: list[str], role: str,
                   roles_by_email: Mapping[str, str] | None) -> dict[str, list[str]]:
    """The changed paths grouped by the role whose commits touched them (``role`` for a
    commit by anyone ``roles_by_email`` does not name); a path two roles touched is in
    both groups."""
    if not roles_by_email:
        return {role: paths}
    grouped: dict[str, list[str]] = {}
    author = role
    log = repo.git("log", "--format=%x00%ae", "--name-only", "--no-renames", f"{base}..{head}")
    for line in log.lines():
        if line.startswith("\0"):
            author = roles_by_email.get(line[1:].strip().lower(), role)
        elif line.strip() in paths and line.strip() not in grouped.setdefault(author, []):
            grouped[author].append(line.strip())
    touched = {p for mine in grouped.values() for p in mine}
    grouped.setdefault(role, []).extend(p for p in paths if p not in touched)
    return {r: mine for r, mine in grouped.items() if mine}


def _bandit(python: list[str], root: Path, command: Sequence[str] | None,
            timeout: float) -> list[Finding]:
    tests = [p for p in python if any(path_matches(p, g) for g in TEST_PATHS)]
    code = [p for p in python if p not in tests]
    return (run_bandit(code, root=root, command=command, timeout=timeout)
            + run_bandit(tests, root=root, skip=("B101",), command=command, timeout=timeout))


def _formatting(repo: GitRepo, base: str, files: list[ChangedFile],
                root: Path) -> list[Finding]:
    changes: dict[str, tuple[str | None, str | None]] = {}
    for changed in files:
        if changed.odd_mode() is not None:
            continue  # links and submodules are blocked by the paths check
        old = None if changed.status == "A" else _text(repo.read_file(base, changed.path))
        new = None if changed.deleted else _text((root / changed.path).read_bytes())
        changes[changed.path] = (old, new)
    return check_formatting_only(changes)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")
