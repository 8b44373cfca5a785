"""Path ownership: a role may change only its own paths, and nobody the protected ones."""

from __future__ import annotations

from collections.abc import Iterable

from alphaloop.checks.diff import ChangedFile
from alphaloop.checks.findings import Finding, Severity
from alphaloop.policy import Policies, normalize_repo_path, path_matches

__all__ = ["GIT_METADATA_FILES", "check_file_modes", "check_git_metadata", "check_paths"]

#: Files that tell git how to read, convert or fetch other files: a change to one could
#: make what git shows differ from what it stores, so the bot never merges one.
GIT_METADATA_FILES = {".gitattributes": "git-attributes", ".gitmodules": "git-modules"}
_ODD_RULES = {"120000": "symlink", "160000": "submodule"}


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
                evidence={"rule": _ODD_RULES.get(changed.new_mode, "file-mode"),
                          "mode": changed.new_mode}))
    return findings


def check_git_metadata(files: Iterable[ChangedFile]) -> list[Finding]:
    """Block a change that adds, edits or deletes a ``.gitattributes`` or ``.gitmodules``.

    Attributes change how git exports, converts, diffs and merges files (``export-subst``
    can turn a reviewed comment into merged code); modules make git fetch other
    repositories. Humans change these, never the bot.
    """
    findings = []
    for changed in files:
        name = changed.path.rsplit("/", 1)[-1]
        rule = GIT_METADATA_FILES.get(name.lower())
        if rule is not None:
            findings.append(Finding(
                check="paths", severity=Severity.BLOCK, path=changed.path,
                message=(f"{changed.path} is git metadata ({name}): it changes how git "
                         "reads other files, so the bot never merges it; drop it from the "
                         "change (a maintainer edits it by hand)"),
                evidence={"rule": rule, "status": changed.status}))
    return findings

