"""Findings and reports: severities, JSON round trip, summaries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from alphaloop.checks import CheckReport, Finding, Severity, max_severity


def finding(severity: int, check: str = "ruff", line: int | None = 1) -> Finding:
    return Finding(check=check, severity=severity, message="m", path="a.py", line=line)


def test_severity_is_bounded_to_zero_through_three() -> None:
    for bad in (-1, 4):
        with pytest.raises(ValidationError):
            finding(bad)
    assert finding(3).severity is Severity.BLOCK


def test_report_max_severity_and_blocked() -> None:
    assert CheckReport().max_severity is Severity.PASS
    report = CheckReport(findings=(finding(1), finding(2, "ast.imports")))
    assert report.max_severity is Severity.RESTRICT and not report.blocked
    assert CheckReport(findings=(finding(3),)).blocked
    assert max_severity([]) == 0


def test_report_round_trips_through_json_with_its_derived_severity() -> None:
    report = CheckReport(
        findings=(finding(3, "ast.imports"), finding(1)), checks_run=("paths", "ast"),
        timings={"ast": 0.01}, base_sha="a" * 40, head_sha="b" * 40, role="quant",
        policy_digest="c" * 64, changed_paths=("strategy/a.py",))
    text = report.model_dump_json()
    assert '"max_severity":3' in text
    assert CheckReport.model_validate_json(text) == report
    with pytest.raises(ValidationError):
        CheckReport.model_validate({"findings": [], "surprise": 1})


def test_by_check_groups_sub_checks() -> None:
    report = CheckReport(findings=(finding(3, "ast.imports"), finding(3, "ast.limits"),
                                   finding(1, "astral")))
    assert len(report.by_check("ast")) == 2
    assert len(report.by_check("ast.limits")) == 1


def test_summary_lists_the_worst_first() -> None:
    report = CheckReport(findings=(finding(1, line=9), finding(3, "paths", line=None)),
                         checks_run=("paths", "ruff"))
    lines = report.summary().splitlines()
    assert lines[0] == "2 finding(s), max severity 3 (block); checks: paths, ruff"
    assert lines[1].startswith("  [3] paths a.py:")
    assert lines[2] == "  [1] ruff a.py:9: m"
