"""A task's budget of cycles: once spent without meeting the goal, a human decides."""

from __future__ import annotations

from roles.test_pm import BACKLOG, BASE, CLOCK, TODAY, _cycle, _plan

from alphaloop.policy import SearchSteering
from alphaloop.records import Outcome
from alphaloop.report.history import load_history
from alphaloop.report.taskfile import parse_task_file
from alphaloop.roles.pm import ProjectManager, budget_spent

BUDGETED = BACKLOG.replace("- goal: max_drawdown < 15%\n",
                           "- goal: max_drawdown < 15%\n- budget: 2\n")


def test_a_spent_budget_hands_the_task_to_a_human() -> None:
    ledger = [_cycle(1, "T-001", Outcome.MERGED), _cycle(2, "T-001", Outcome.VETOED)]
    record, text = _plan(BUDGETED, ledger, cycle=3)
    assert record.task is not None and record.task.id == "T-003"
    [escalation] = record.escalations
    assert (escalation.task_id, escalation.kind, escalation.vetoes) == ("T-001", "budget", 2)
    assert escalation.reasons == ["c0001: merged", "c0002: vetoed"]
    task = parse_task_file(text).task("T-001")
    assert task.status == "blocked"
    assert task.escalations[0].startswith(f"{TODAY.isoformat()} by c0003: its budget of 2 "
                                          "cycles is spent without meeting the goal")
    assert "T-001 escalated to a human after its budget of 2 cycles was spent" in record.reason


def test_a_budget_with_cycles_left_keeps_the_task() -> None:
    record, _ = _plan(BUDGETED, [_cycle(1, "T-001", Outcome.VETOED)], cycle=2)
    assert record.task is not None and record.task.id == "T-001"
    assert record.escalations == []


def test_the_policy_default_budget_applies_to_every_task() -> None:
    ledger = [_cycle(n, "T-001", Outcome.VETOED) for n in (1, 2)]
    pm = ProjectManager(search_defaults=SearchSteering(budget=2))
    record, _ = pm.choose_task(BACKLOG, ledger, [], cycle_id="c0003", base_branch="main",
                               base_sha=BASE, clock=CLOCK, deadlock_vetoes=3, today=TODAY)
    assert [(e.task_id, e.kind) for e in record.escalations] == [("T-001", "budget")]
    # Without a budget the same two vetoes are not yet a deadlock (three are).
    record, _ = _plan(BACKLOG, ledger, cycle=3)
    assert record.escalations == []


def test_the_budget_counts_again_after_an_escalation() -> None:
    ledger = [_cycle(1, "T-001", Outcome.VETOED), _cycle(2, "T-001", Outcome.VETOED),
              _cycle(3, None, Outcome.IDLE, escalated=["T-001"]),
              _cycle(4, "T-001", Outcome.VETOED)]
    history = load_history(ledger)
    assert budget_spent("T-001", history, 2) == []
    assert [e.cycle_id for e in budget_spent("T-001", history, 1)] == ["c0004"]
    assert budget_spent("T-001", history, None) == []
