"""``alphaloop cycle --cycles N`` that stops early says why."""

from __future__ import annotations

from alphaloop.cli.cycle import stop_reason
from alphaloop.records import CycleSummary, Outcome


def summary(cid: str, outcome: Outcome, message: str = "") -> CycleSummary:
    return CycleSummary(cycle_id=cid, outcome=outcome, task_id=None, hypothesis=None,
                        pr_number=None, message=message, timings={})


def test_all_cycles_ran_says_nothing() -> None:
    assert stop_reason([summary("c0001", Outcome.MERGED)], 1) == ""
    assert stop_reason([], 3) == ""


def test_an_early_stop_names_the_cycle_the_outcome_and_the_reason() -> None:
    ran = [summary("c0001", Outcome.VETOED),
           summary("c0002", Outcome.IDLE, "every task is done or blocked")]
    text = stop_reason(ran, 5)
    assert text.startswith("Stopped after 2 of 5 cycles: c0002 ended idle because there "
                           "is no open task to work on (every task is done or blocked)")
    assert "ledger entry of c0002" in text
