"""Diff size and scope: a change a reviewer can read, inside its author's paths.

A change larger than the engineering policy allows (lines added plus deleted, or files
touched) is sent back to be split. A file outside the paths its author's role may write
(``policies/paths.toml``) is out of the change's scope; a change whose author has no
role there (a person's branch) is held to the size limits only.
"""

from __future__ import annotations

from alphaloop.checks import Severity
from alphaloop.policy import Policies
from alphaloop.records import EngineerFinding
from alphaloop.roles.engineer.change import Change

__all__ = ["diff_size", "out_of_scope"]


def diff_size(change: Change, policies: Policies) -> list[EngineerFinding]:
    """A finding when the change is larger than the policy's limits."""
    limits = policies.engineering
    lines = change.stat.insertions + change.stat.deletions
    findings: list[EngineerFinding] = []
    evidence = {"lines_added": change.stat.insertions, "lines_deleted": change.stat.deletions,
                "files": len(change.files),
                "largest": sorted(((f.added + f.deleted, f.path) for f in change.stat.files),
                                  reverse=True)[:5]}
    if lines > limits.max_changed_lines:
        findings.append(EngineerFinding(
            check="engineer.size", rule="max-changed-lines", severity=Severity.RESTRICT,
            message=f"the change adds and deletes {lines} lines, more than the "
                    f"{limits.max_changed_lines} a reviewer reads as one change; split it",
            evidence=evidence | {"limit": limits.max_changed_lines}))
    if len(change.files) > limits.max_changed_files:
        findings.append(EngineerFinding(
            check="engineer.size", rule="max-changed-files", severity=Severity.RESTRICT,
            message=f"the change touches {len(change.files)} files, more than "
                    f"{limits.max_changed_files}; split it",
            evidence=evidence | {"limit": limits.max_changed_files}))
    return findings


def out_of_scope(change: Change, policies: Policies,
                 author: str | None) -> list[EngineerFinding]:
    """One finding per file outside the paths ``author``'s role may write."""
    rules = policies.paths.roles.get(author) if author else None
    if rules is None:
        return []
    allowed = ", ".join(rules.allow) or "nothing"
    return [EngineerFinding(
        check="engineer.scope", rule="outside-scope", severity=Severity.RESTRICT, path=path,
        message=f"{path} is outside what the {author} role changes ({allowed}); move it to "
                "a change of its own",
        evidence={"role": author, "allowed": list(rules.allow), "denied": list(rules.deny)})
        for path in change.paths if not policies.paths.may_write(author, path)]
