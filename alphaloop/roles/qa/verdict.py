"""QA's verdict and record from what the suite and the mutants showed.

Severity 3 (veto) when a test fails on the head commit; 2 (request changes) when
changed strategy lines were not run by any test; 1 (warn) for a flaky test, a change
no kept test can tell from its mutants, or tests that could not be committed; 0 else.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.checks.findings import Finding, Severity, max_severity
from alphaloop.records import QADiscardedTest, QAKeptTest, QAMutant, QAReviewRecord, QATestResult

__all__ = ["QAOutcome", "qa_record"]


class QAOutcome(BaseModel):
    """Everything QA found, before it is graded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_sha: str
    head_sha: str
    tests_path: str | None = None
    tests_commit: str | None = None
    commit_note: str = ""
    generated: list[str] = Field(default_factory=list)
    kept: list[QAKeptTest] = Field(default_factory=list)
    discarded: list[QADiscardedTest] = Field(default_factory=list)
    mutants: list[QAMutant] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    failures: list[QATestResult] = Field(default_factory=list)
    flaky: list[str] = Field(default_factory=list)
    repinned: dict[str, dict[str, list[float]]] = Field(default_factory=dict)
    changed_lines: dict[str, list[int]] = Field(default_factory=dict)
    uncovered_lines: dict[str, list[int]] = Field(default_factory=dict)
    coverage_note: str = ""
    model_notes: list[str] = Field(default_factory=list)
    """The model's tests that were left out, and why (they never veto)."""
    isolation: str = ""
    duration_s: float = 0.0


def _findings(o: QAOutcome) -> list[Finding]:
    out = [Finding(check="qa.failure", severity=Severity.BLOCK, path=f.test.split("::")[0],
                   message=f"{f.test} {f.outcome} on the head commit",
                   evidence={"test": f.test, "output": f.output}) for f in o.failures]
    out += [Finding(check="qa.coverage", severity=Severity.RESTRICT, path=path, line=lines[0],
                    message=f"no test runs {path} line(s) {', '.join(map(str, lines))} the "
                            "change adds; add a test that reaches them",
                    evidence={"lines": lines}) for path, lines in o.uncovered_lines.items()]
    out += [Finding(check="qa.flaky", severity=Severity.WARN, message=f"{name} gave different "
                    "outcomes on two runs of the same commit; it was not kept",
                    evidence={"test": name}) for name in o.flaky]
    out += [Finding(check="qa.discarded", severity=Severity.PASS, path=o.tests_path,
                    message=f"{d.test} was discarded: it passed on every mutant",
                    evidence={"test": d.test, "survived": d.survived}) for d in o.discarded]
    out += [Finding(check="qa.kept", severity=Severity.PASS, path=o.tests_path,
                    message=f"{k.test} kills {', '.join(k.kills)}",
                    evidence={"test": k.test, "kills": k.kills}) for k in o.kept]
    out += [Finding(check="qa.mutant_refused", severity=Severity.PASS, path=m.path,
                    message=f"the strategy refuses to be built with the mutant {m.id} "
                            f"({m.description}): {m.refused}",
                    evidence={"mutant": m.id}) for m in o.mutants if m.refused]
    if o.mutants and not o.kept and not o.failures:
        out.append(Finding(check="qa.mutants", severity=Severity.WARN,
                           message="no generated test tells the change from its mutants",
                           evidence={"mutants": [m.id for m in o.mutants]}))
    out += [Finding(check="qa.model_test", severity=Severity.WARN,
                    message=f"a test the model wrote was left out: {note}")
            for note in o.model_notes]
    if o.commit_note:
        out.append(Finding(check="qa.commit", severity=Severity.WARN, message=o.commit_note))
    for path, moved in o.repinned.items():
        out.append(Finding(check="qa.repinned", severity=Severity.WARN, path=path,
                           message="the change moves figures an earlier change pinned: "
                                   + ", ".join(f"{k} {a:.6g} -> {b:.6g}"
                                               for k, (a, b) in moved.items()),
                           evidence={"figures": moved}))
    return out


def _summary(o: QAOutcome, severity: int) -> str:
    c = o.counts
    suite = f"{c.get('passed', 0)}/{c.get('collected', 0)} tests pass on the head"
    if severity >= Severity.BLOCK:
        return (f"vetoed: {len(o.failures)} test(s) fail on the head commit "
                f"({', '.join(f.test.split('::')[-1] for f in o.failures[:3])})")
    if severity >= Severity.RESTRICT:
        missed = sum(len(v) for v in o.uncovered_lines.values())
        return f"changes requested: {missed} changed line(s) no test runs; {suite}"
    if not o.generated:
        return f"approved: the change moves no strategy value or line; {suite}"
    return (f"approved: {suite}; {len(o.kept)} generated test(s) kept, each killing a "
            f"mutant; {len(o.discarded)} discarded")


def qa_record(outcome: QAOutcome) -> QAReviewRecord:
    """The graded record of ``outcome``, with the markdown report as its last finding."""
    findings = _findings(outcome)
    severity = int(max_severity(findings))
    record = QAReviewRecord(
        verdict="veto" if severity >= Severity.RESTRICT else "approve", severity=severity,
        summary=_summary(outcome, severity), findings=[],
        **outcome.model_dump(exclude={"commit_note", "model_notes"}))
    report = Finding(check="qa.report", severity=Severity.PASS, path=outcome.tests_path,
                     message=record.markdown())
    return record.model_copy(update={"findings": [f.model_dump(mode="json")
                                                  for f in [*findings, report]]})
