"""What every deterministic check returns: findings graded 0-3, gathered in a report.

Severity follows Risk-MAS: 0 pass, 1 warn, 2 restrict (must be adjusted), 3 block.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

__all__ = ["CheckReport", "Finding", "Severity", "max_severity"]


class Severity(IntEnum):
    """How serious a finding is; reviews block at :attr:`BLOCK`."""

    PASS = 0
    WARN = 1
    RESTRICT = 2
    BLOCK = 3


class Finding(BaseModel):
    """One problem a check found, located as precisely as the check can."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str = Field(description="the check that produced it, e.g. 'paths' or 'ast.imports'")
    severity: Severity
    message: str = Field(min_length=1, description="what is wrong and what to do")
    path: str | None = Field(default=None, description="repository-relative file")
    line: int | None = Field(default=None, ge=1)
    evidence: dict[str, Any] = Field(default_factory=dict,
                                     description="rule id, offending snippet, values")

    def location(self) -> str:
        """``path:line``, ``path`` or ``-`` when the finding has no file."""
        if self.path is None:
            return "-"
        return f"{self.path}:{self.line}" if self.line else self.path


def max_severity(findings: Iterable[Finding]) -> Severity:
    """The highest severity among ``findings`` (:attr:`Severity.PASS` when none)."""
    return max((f.severity for f in findings), default=Severity.PASS)


class CheckReport(BaseModel):
    """The findings of every check run over one change, with what ran and how long."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    findings: tuple[Finding, ...] = ()
    checks_run: tuple[str, ...] = ()
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per check")
    base_sha: str | None = None
    head_sha: str | None = None
    role: str | None = None
    policy_digest: str | None = None
    changed_paths: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        # ``max_severity`` is written to JSON for readers but always recomputed on load.
        if isinstance(data, dict) and "max_severity" in data:
            data = {k: v for k, v in data.items() if k != "max_severity"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_severity(self) -> Severity:
        return max_severity(self.findings)

    @property
    def blocked(self) -> bool:
        """Whether any finding blocks the change."""
        return self.max_severity >= Severity.BLOCK

    def by_check(self, check: str) -> tuple[Finding, ...]:
        """The findings of one check (``check`` or any of its sub-checks, e.g. ``ast``)."""
        return tuple(f for f in self.findings
                     if f.check == check or f.check.startswith(check + "."))

    def summary(self) -> str:
        """A few plain lines for a PR comment or a log."""
        head = (f"{len(self.findings)} finding(s), max severity "
                f"{int(self.max_severity)} ({self.max_severity.name.lower()}); "
                f"checks: {', '.join(self.checks_run) or 'none'}")
        lines = [head]
        for f in sorted(self.findings, key=lambda f: (-f.severity, f.path or "", f.line or 0)):
            lines.append(f"  [{int(f.severity)}] {f.check} {f.location()}: {f.message}")
        return "\n".join(lines)
