"""Dependency changes: a change to a file that declares dependencies needs a human.

The files are the engineering policy's ``dependency_files`` (``pyproject.toml``,
``requirements*.txt``, ...). What a new dependency brings in (its licence, its upkeep,
what it may run when installed) is not a question of code quality, so the Engineer
never approves one alone: the finding asks for a human, whatever else the review
finds. For ``pyproject.toml`` the finding names the requirements added and removed.
"""

from __future__ import annotations

import tomllib
from typing import Any

from alphaloop.checks import Severity
from alphaloop.policy.engineering import EngineeringPolicy
from alphaloop.records import EngineerFinding
from alphaloop.repo import GitRepo, RefNotFound
from alphaloop.roles.engineer.change import Change, added_lines

__all__ = ["dependency_changes", "requirements"]


def requirements(pyproject: bytes | None) -> set[str]:
    """Every requirement ``pyproject.toml`` declares, as ``table: requirement`` (the
    build system's, the project's, its optional groups' and the dependency groups')."""
    if pyproject is None:
        return set()
    try:
        data: dict[str, Any] = tomllib.loads(pyproject.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {"(pyproject.toml does not parse)"}
    found: set[str] = set()

    def add(table: str, items: object) -> None:
        if isinstance(items, list):
            found.update(f"{table}: {item}" for item in items if isinstance(item, str))

    add("build-system.requires", data.get("build-system", {}).get("requires"))
    project = data.get("project", {})
    add("project.dependencies", project.get("dependencies"))
    for group, items in (project.get("optional-dependencies") or {}).items():
        add(f"project.optional-dependencies.{group}", items)
    for group, items in (data.get("dependency-groups") or {}).items():
        add(f"dependency-groups.{group}", items)
    return found


def _read(repo: GitRepo, rev: str, path: str) -> bytes | None:
    try:
        return repo.read_file(rev, path)
    except RefNotFound:
        return None


def _describe(repo: GitRepo, change: Change, path: str) -> tuple[str, dict[str, Any]]:
    if path.rsplit("/", 1)[-1] != "pyproject.toml":
        return f"{path} declares dependencies and the change edits it", {}
    before = requirements(_read(repo, change.base, path))
    after = requirements(_read(repo, change.head, path))
    added, removed = sorted(after - before), sorted(before - after)
    if not added and not removed:
        return (f"{path} changes (no requirement added or removed, yet the project file "
                "declares the dependencies)"), {}
    parts = ([f"adds {', '.join(added)}"] if added else []) + (
        [f"removes {', '.join(removed)}"] if removed else [])
    return f"{path} {'; '.join(parts)}", {"added": added, "removed": removed}


def dependency_changes(repo: GitRepo, change: Change,
                       policy: EngineeringPolicy) -> list[EngineerFinding]:
    """One finding per changed dependency file, each asking for a human."""
    findings: list[EngineerFinding] = []
    for path in change.paths:
        if not policy.declares_dependencies(path):
            continue
        what, evidence = _describe(repo, change, path)
        lines = added_lines(repo, change.base, change.head, path)
        findings.append(EngineerFinding(
            check="engineer.dependencies", rule="dependency-change", severity=Severity.WARN,
            path=path, line=min(lines, default=None), needs_human=True,
            message=f"{what}: dependencies are a human's decision; a maintainer must approve",
            evidence=evidence))
    return findings
