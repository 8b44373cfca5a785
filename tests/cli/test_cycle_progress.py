"""The one line ``alphaloop cycle`` prints for each finished stage."""

from __future__ import annotations

from datetime import date

from alphaloop.cycle.progress import stage_label, stage_line
from alphaloop.records import MergeRecord, PlanRecord, ReviewRecord, TaskRef


def test_each_stage_is_told_by_its_key_figure() -> None:
    plan = PlanRecord(cycle_id="c0001", task=TaskRef(id="T-001", title="Cut drawdown",
                                                     priority="high"),
                      reason="most urgent", base_branch="main", base_sha="a" * 40,
                      clock=date(2024, 4, 26))
    assert stage_line("plan", plan) == "picked T-001: Cut drawdown"
    review = ReviewRecord(verdict="veto", severity=2, summary="claim not met",
                          findings=[], head_sha="b" * 40)
    assert stage_line("qa_review", review) == "veto (severity 2): claim not met"
    vetoed = MergeRecord(merged=False, needs_human=True, reasons=["risk vetoed"])
    assert stage_line("merge", vetoed) == "not merged (a human must approve too): risk vetoed"
    assert stage_line("merge", MergeRecord(merged=True, merge_sha="c" * 40)) == \
        "merged as cccccccccc"
    assert stage_line("hypothesis", None) == "no untried hypothesis near main"
    assert stage_label("risk_review") == "Risk review"
    assert stage_label("quant_review") == "Quant review of main"


def test_a_long_line_is_shortened() -> None:
    review = ReviewRecord(verdict="approve", severity=0, summary="word " * 100,
                          findings=[], head_sha="d" * 40)
    assert len(stage_line("risk_review", review)) <= 110
