"""ruff's findings the change introduces: lint, complexity (C901) and unused names.

ruff runs (``python -m ruff check``, the base's configuration) over the changed Python
files at the head, with three rules added whatever the configuration selects: C901 at
the engineering policy's ``max_complexity``, and F401/F841 (unused imports and
variables). It runs over the same files at the base too, and a head finding counts only
when the base has no finding of the same rule and message on a line of the same text:
a line that merely moved is not new, while a finding on a line the change edited, in a
file it added, or one its edit caused elsewhere (an import it left unused, a function
it made more complex) is. A tool that cannot run is a finding, never a pass.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from alphaloop.checks import Finding, Severity, run_ruff
from alphaloop.records import EngineerFinding
from alphaloop.roles.engineer.change import Change
from alphaloop.roles.engineer.trees import Trees

__all__ = ["COMPLEXITY_RULE", "DEAD_CODE_RULES", "introduced_lint", "ruff_options"]

COMPLEXITY_RULE = "C901"
DEAD_CODE_RULES = frozenset({"F401", "F841"})
_COMPLEXITY = re.compile(r"`(?P<name>[^`]+)` is too complex \((?P<value>\d+) > (?P<max>\d+)\)")


def ruff_options(max_complexity: int) -> list[str]:
    """The options laid over the repository's ruff configuration."""
    return ["--extend-select", ",".join([COMPLEXITY_RULE, *sorted(DEAD_CODE_RULES)]),
            "--config", f"lint.mccabe.max-complexity = {max_complexity}"]


def _line(root: Path, finding: Finding) -> str:
    if finding.path is None or finding.line is None:
        return ""
    try:
        lines = (root / finding.path).read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[finding.line - 1].strip() if finding.line <= len(lines) else ""


def _key(finding: Finding, root: Path) -> tuple[str, str, str, str]:
    return (finding.path or "", str(finding.evidence.get("rule")), finding.message,
            _line(root, finding))


def _complexities(findings: Sequence[Finding]) -> dict[tuple[str, str], int]:
    """(file, function) -> complexity, from C901 findings (at threshold 0: every function)."""
    out: dict[tuple[str, str], int] = {}
    for finding in findings:
        match = _COMPLEXITY.search(finding.message)
        if finding.evidence.get("rule") == COMPLEXITY_RULE and match:
            out[(finding.path or "", match["name"])] = int(match["value"])
    return out


def _engineer_finding(finding: Finding, snippet: str,
                      base_complexity: dict[tuple[str, str], int]) -> EngineerFinding:
    rule = str(finding.evidence.get("rule") or "ruff")
    evidence = {"snippet": snippet, "column": finding.evidence.get("column"),
                "url": finding.evidence.get("url")}
    message = finding.message.removeprefix(f"{rule}: ")
    match = _COMPLEXITY.search(message)
    if rule == COMPLEXITY_RULE and match:
        before = base_complexity.get((finding.path or "", match["name"]))
        evidence |= {"complexity": int(match["value"]), "max_complexity": int(match["max"]),
                     "base_complexity": before}
        was = f", {before} at the base" if before is not None else ", new in this change"
        check, message = "engineer.complexity", (
            f"{message}{was}; split it into smaller functions")
    elif rule in DEAD_CODE_RULES:
        check, message = "engineer.dead_code", f"{message}; remove it"
    else:
        check = "engineer.lint"
    return EngineerFinding(check=check, rule=rule, severity=Severity.RESTRICT,
                           message=message, path=finding.path, line=finding.line,
                           evidence=evidence)


def _tool_failure(finding: Finding) -> EngineerFinding:
    return EngineerFinding(check="engineer.tool", rule="could-not-verify",
                           severity=Severity.RESTRICT, message=finding.message,
                           evidence=dict(finding.evidence))


def introduced_lint(change: Change, trees: Trees, *, max_complexity: int,
                    timeout: float) -> list[EngineerFinding]:
    """The ruff findings at the head that the base does not have."""
    options = ruff_options(max_complexity)
    head = run_ruff(change.python_files, root=trees.head, options=options, timeout=timeout)
    base = run_ruff(change.modified_python, root=trees.base, options=options,
                    timeout=timeout)
    failed = [f for f in (*head, *base) if f.evidence.get("rule") == "could-not-verify"]
    if failed:
        return [_tool_failure(failed[0])]
    seen = Counter(_key(f, trees.base) for f in base)
    complexity = _complexities(run_ruff(
        change.modified_python, root=trees.base, timeout=timeout,
        options=["--select", COMPLEXITY_RULE, "--config", "lint.mccabe.max-complexity = 0"]))
    out: list[EngineerFinding] = []
    for finding in sorted(head, key=lambda f: (f.path or "", f.line or 0)):
        key = _key(finding, trees.head)
        if seen[key] > 0:
            seen[key] -= 1
            continue
        out.append(_engineer_finding(finding, key[3], complexity))
    return out
