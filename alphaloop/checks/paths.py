"""Path ownership: a role may change only its own paths, and nobody the protected ones."""

from __future__ import annotations

from collections.abc import Iterable

from alphaloop.checks.diff import ChangedFile
from alphaloop.checks.findings import Finding, Severity
from alphaloop.policy import Policies, normalize_repo_path, path_matches

__all__ = ["check_file_modes", "check_paths"]


def check_paths(changed_paths: Iterable[str], role: str, policies: Policies) -> list[Finding]:
    """Block (severity 3) every path outside ``role``'s paths or inside a protected path.

    Raises :class:`~alphaloop.policy.PolicyError` when ``policies/paths.toml`` has no
    rules for ``role``.
    """
    rules = policies.paths.role(role)
    allowed = ", ".join(rules.allow) or "nothing"
    findings: list[Finding] = []
    for raw in changed_paths:
        try:
            path = normalize_repo_path(raw)
        except ValueError as exc:
            findings.append(Finding(check="paths", severity=Severity.BLOCK, path=raw,
                                    message=f"invalid path: {exc}",
                                    evidence={"role": role, "rule": "invalid-path"}))
            continue
        protected = policies.paths.protected_pattern(path)
        if protected is not None:
            findings.append(Finding(
                check="paths", severity=Severity.BLOCK, path=path,
                message=(f"{path} is protected ({protected}): the bot never merges changes "
                         "to it; a human maintainer must make this change"),
                evidence={"role": role, "rule": "protected", "pattern": protected}))
        elif not rules.allows(path):
            denied = next((g for g in rules.deny if path_matches(path, g)), None)
            why = (f"is excluded from the {role} role's paths by {denied}" if denied
                   else f"is outside the {role} role's paths ({allowed})")
            findings.append(Finding(
                check="paths", severity=Severity.BLOCK, path=path,
                message=f"{path} {why}; drop this file from the change",
                evidence={"role": role, "rule": "not-owned", "allowed": list(rules.allow),
                          "denied_by": denied}))
    return findings


def check_file_modes(files: Iterable[ChangedFile]) -> list[Finding]:
    """Block symbolic links, submodules and other non-regular files added by a change.

    A link inside an allowed folder could point anywhere in the repository, so only
    regular files pass.
    """
    findings = []
    for changed in files:
        odd = changed.odd_mode()
        if odd is not None:
            findings.append(Finding(
                check="paths", severity=Severity.BLOCK, path=changed.path,
                message=(f"{changed.path} is a {odd}; changes may only add or modify regular "
                         "files, replace it with a regular file"),
                evidence={"rule": "file-mode", "mode": changed.new_mode}))
    return findings

