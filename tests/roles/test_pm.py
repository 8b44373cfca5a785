"""The PM: picking tasks, escalating deadlocks, closing met goals, reporting a cycle."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alphaloop.contract import AssetInfo
from alphaloop.cycle.ledger import LedgerEntry
from alphaloop.data.panel import MarketData
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.forge.records import PullRequest
from alphaloop.harness import research_windows
from alphaloop.policy import load_policies
from alphaloop.records import (
    CycleSummary,
    Escalation,
    Hypothesis,
    Implementation,
    MergeRecord,
    Outcome,
    PerformanceReview,
    PlanRecord,
    RiskReviewRecord,
    RunMetrics,
    TaskRef,
)
from alphaloop.repo import GitRepo, Identity
from alphaloop.report.cycle_plots import Curve
from alphaloop.report.taskfile import TaskFileError, parse_task_file
from alphaloop.roles.pm import ProjectManager, deadlocked_cycles
from alphaloop.sandbox import open_sandbox

BASE = "a" * 40
HEAD = "b" * 40
CLOCK = date(2024, 4, 26)
TODAY = date(2026, 11, 22)
#: The reward's lambda, as the project's risk policy sets it.
LAMBDA = load_policies(Path(__file__).resolve().parents[2]).risk.process.reward_lambda
BACKLOG = """\
# Backlog

Prose the PM must keep. <!-- and this comment -->

## T-001: Cut drawdown
- priority: high
- status: todo
- goal: max_drawdown < 15%

Notes under the list.

## T-002: Lift the reward
- priority: medium
- status:  todo
- goal: reward > 0.25

## T-003: Lower turnover
- priority: high
- status: todo
- goal: turnover < 2.5
"""


def _metrics(label: str, *, sharpe: float = 0.97, mdd: float = 0.21,
             turnover: float = 4.1) -> RunMetrics:
    return RunMetrics(label=label, start=date(2005, 1, 3), end=date(2022, 5, 23), sharpe=sharpe,
                      annual_return=0.09, annual_volatility=0.095, max_drawdown=mdd, calmar=0.43,
                      var_95=0.009, turnover=turnover, reward=sharpe - 5 * mdd, n_days=4400)


def _cycle(number: int, task_id: str | None, outcome: Outcome, *, veto: str = "",
           needs_human: bool = False, merged: bool = False, review: RunMetrics | None = None,
           branch: RunMetrics | None = None, escalated: Sequence[str] = ()) -> dict[str, Any]:
    """A cycle's sealed ledger envelope, as the ledger writes it."""
    cid = f"c{number:04d}"
    task = TaskRef(id=task_id, title="t", priority="high") if task_id else None
    records: dict[str, Any] = {"plan": PlanRecord(
        cycle_id=cid, task=task, reason="r", base_branch="main", base_sha=BASE, clock=CLOCK,
        escalations=[Escalation(task_id=t, vetoes=3, reasons=["x"]) for t in escalated])}
    if task_id:
        main = review or _metrics("in_sample")
        records["quant_review"] = PerformanceReview(
            sha=BASE, tree_hash="c" * 40, data_hash="d", metrics=main, folds=[],
            reward=main.reward, attribution={}, diagnosis=[], cached=True, duration_s=0.1)
        records["hypothesis"] = Hypothesis(
            key=f"k{number}", kind="parameters", slug=f"s{number}", statement=f"idea {number}",
            rationale="why", expected_effect="better", task_id=task_id)
        records["implement"] = Implementation(branch=f"alphaloop/{cid}-s", base_sha=BASE,
                                              head_sha=HEAD, pr_number=number,
                                              changed_files=["strategy/tunables.py"])
        records["risk_review"] = RiskReviewRecord(
            verdict="veto" if veto else "approve", severity=3 if veto else 0,
            summary=veto or "clean", findings=[], head_sha=HEAD,
            main_metrics={"in_sample": main},
            branch_metrics={"in_sample": branch} if branch else {})
        records["merge"] = MergeRecord(merged=merged, merge_sha="e" * 40 if merged else None,
                                       needs_human=needs_human,
                                       reasons=["moved a parameter 40%"] if needs_human else [])
    records["summary"] = CycleSummary(cycle_id=cid, outcome=outcome, task_id=task_id,
                                      hypothesis=None, pr_number=number if task_id else None,
                                      message=veto, timings={})
    plain = {k: v.model_dump(mode="json") for k, v in records.items()}
    return LedgerEntry.create(cid, plain, created=datetime(2024, 4, min(number, 28), tzinfo=UTC)
                              ).model_dump(mode="json")


def _pr(number: int, *, labels: tuple[str, ...] = ()) -> PullRequest:
    now = datetime(2024, 4, 1, tzinfo=UTC)
    return PullRequest(number=number, title=f"idea {number}", head_branch=f"alphaloop/c{number}",
                       base_branch="main", author_role="quant", labels=labels,
                       created_at=now, updated_at=now)


def _plan(text: str, ledger: Sequence[dict[str, Any]] = (), prs: Sequence[PullRequest] = (),
          *, cycle: int = 99, threshold: int = 3):
    return ProjectManager().choose_task(text, ledger, prs, cycle_id=f"c{cycle:04d}",
                                        base_branch="main", base_sha=BASE, clock=CLOCK,
                                        deadlock_vetoes=threshold, today=TODAY)


def _diff(before: str, after: str) -> list[str]:
    return [row for row in difflib.ndiff(before.splitlines(keepends=True),
                                         after.splitlines(keepends=True))
            if row.startswith(("- ", "+ "))]


# -- plan -----------------------------------------------------------------------------
def test_picks_by_priority_then_file_order_and_marks_it_in_progress() -> None:
    record, text = _plan(BACKLOG)
    assert record.task is not None and record.task.id == "T-001"
    assert record.task.goal == "max_drawdown < 15%"
    assert record.cycle_id == "c0099" and record.clock == CLOCK and record.base_sha == BASE
    assert _diff(BACKLOG, text) == ["- - status: todo\n", "+ - status: in-progress\n"]
    assert "T-001 is the most urgent open task" in record.reason


def test_an_in_progress_task_comes_before_higher_priority_todo() -> None:
    text = BACKLOG.replace("- status:  todo", "- status:  in-progress")
    record, after = _plan(text)
    assert record.task is not None and record.task.id == "T-002"
    assert after == text and "continuing it" in record.reason


def test_three_vetoes_in_a_row_escalate_instead_of_looping() -> None:
    ledger = [_cycle(n, "T-001", Outcome.VETOED, veto=f"VaR {3 + n / 10:.1f}% above 3%")
              for n in (1, 2, 3)]
    record, text = _plan(BACKLOG, ledger, cycle=4)
    assert record.task is not None and record.task.id == "T-003"
    assert [e.task_id for e in record.escalations] == ["T-001"]
    assert record.escalations[0].vetoes == 3
    assert record.escalations[0].reasons == ["c0001: VaR 3.1% above 3%",
                                             "c0002: VaR 3.2% above 3%",
                                             "c0003: VaR 3.3% above 3%"]
    task = parse_task_file(text).task("T-001")
    assert task.status == "blocked"
    # dated the day the PM wrote it, not by the data's clock
    assert task.escalations[0].startswith("2026-11-22 by c0004: vetoed 3 cycles in a row")
    assert "c0002: VaR 3.2% above 3%" in task.escalations[0]
    changes = _diff(BACKLOG, text)
    assert changes[:2] == ["- - status: todo\n", "+ - status: blocked\n"]
    assert changes[2].startswith("+ - escalated: 2026-11-22 by c0004")
    assert changes[3:] == ["- - status: todo\n", "+ - status: in-progress\n"]  # T-003 picked
    assert "T-001 escalated to a human after 3 vetoes" in record.reason


@pytest.mark.parametrize(("outcomes", "threshold", "deadlocked"), [
    ([Outcome.VETOED] * 2, 3, False),
    ([Outcome.VETOED, Outcome.MERGED, Outcome.VETOED, Outcome.VETOED], 3, False),
    ([Outcome.MERGED, Outcome.VETOED, Outcome.VETOED, Outcome.VETOED], 3, True),
    ([Outcome.VETOED, Outcome.AWAITING_HUMAN], 2, False),
    ([Outcome.VETOED, Outcome.VETOED], 2, True),
    ([Outcome.VETOED], 1, True),
])
def test_only_an_unbroken_run_of_vetoes_is_a_deadlock(outcomes: list[Outcome], threshold: int,
                                                      deadlocked: bool) -> None:
    ledger = [_cycle(10 * n, "T-001", outcome, veto="no" if outcome == Outcome.VETOED else "")
              for n, outcome in enumerate(outcomes, 1)]
    # a cycle of another task in between neither breaks nor extends T-001's run
    ledger.append(_cycle(15, "T-002", Outcome.VETOED, veto="other"))
    record, _ = _plan(BACKLOG, ledger, threshold=threshold)
    assert ("T-001" in [e.task_id for e in record.escalations]) is deadlocked


def test_a_task_a_human_reopened_is_not_escalated_again_at_once() -> None:
    ledger = [_cycle(n, "T-001", Outcome.VETOED, veto="VaR") for n in (1, 2, 3)]
    ledger.append(_cycle(4, "T-003", Outcome.MERGED, merged=True, escalated=["T-001"]))
    record, _ = _plan(BACKLOG, ledger, cycle=5)
    assert record.escalations == [] and record.task is not None
    assert record.task.id == "T-001"
    ledger += [_cycle(n, "T-001", Outcome.VETOED, veto="again") for n in (5, 6, 7)]
    record, _ = _plan(BACKLOG, ledger, cycle=8)
    assert [e.task_id for e in record.escalations] == ["T-001"]


def test_tasks_whose_goal_the_latest_review_meets_are_done() -> None:
    ledger = [_cycle(1, "T-001", Outcome.VETOED, veto="x", review=_metrics("in_sample")),
              _cycle(2, "T-001", Outcome.MERGED, merged=True,
                     review=_metrics("in_sample", sharpe=0.7, mdd=0.12, turnover=2.0))]
    record, text = _plan(BACKLOG, ledger, cycle=3)
    parsed = parse_task_file(text)
    assert parsed.task("T-001").status == "done" and parsed.task("T-003").status == "done"
    assert record.task is not None and record.task.id == "T-002"
    assert "T-001 done: goal `max_drawdown < 15%` met (max_drawdown 12.00%)" in record.reason


def test_a_task_whose_pr_waits_for_a_human_is_skipped() -> None:
    ledger = [_cycle(7, "T-001", Outcome.AWAITING_HUMAN, needs_human=True)]
    record, _ = _plan(BACKLOG, ledger, [_pr(7), _pr(8)])
    assert record.task is not None and record.task.id == "T-003"
    assert record.open_prs == [7, 8]
    assert "T-001 skipped: PR #7 waits for a human" in record.reason
    closed = _pr(7).model_copy(update={"state": "closed", "closed_at": datetime.now(UTC)})
    record, _ = _plan(BACKLOG, ledger, [closed])
    assert record.task is not None and record.task.id == "T-001" and record.open_prs == []


def test_no_open_task_gives_an_idle_plan_and_leaves_the_file_alone() -> None:
    text = BACKLOG.replace("status: todo", "status: done").replace("status:  todo",
                                                                   "status:  blocked")
    record, after = _plan(text)
    assert record.task is None and after == text
    assert "no open task in task.md (2 done, 1 blocked)" in record.reason


def test_a_broken_backlog_stops_the_plan_with_its_problems() -> None:
    with pytest.raises(TaskFileError, match=r"task.md:7: status 'soon'"):
        _plan(BACKLOG.replace("- status: todo", "- status: soon", 1))


def test_deadlocked_cycles_refuses_a_zero_threshold() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        deadlocked_cycles("T-001", [], 0)


# -- report ---------------------------------------------------------------------------
def _records(entry: dict[str, Any]) -> dict[str, Any]:
    return entry["records"]


def test_report_returns_backlog_walkthrough_and_plots() -> None:
    ledger = [_cycle(n, "T-001", Outcome.VETOED, veto="VaR") for n in (1, 2)]
    current = _cycle(3, "T-001", Outcome.MERGED, merged=True,
                     branch=_metrics("in_sample", mdd=0.13))
    dates = tuple(d.date() for d in pd.bdate_range("2022-01-03", periods=60))
    rng = np.random.default_rng(5)
    curves = [Curve(label=name, dates=dates, returns=tuple(rng.normal(0.0004, 0.01, 60)))
              for name in ("main", "branch")]
    text = BACKLOG.replace("- status: todo", "- status: in-progress", 1)
    files = ProjectManager().write_report(cycle_id="c0003", records=_records(current),
                                    ledger_entries=ledger, task_text=text, open_prs=[],
                                    curves=curves, holdout_start=dates[40],
                                    created=datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    assert set(files) == {"task.md", "walkthrough.md", "reports/equity.png",
                          "reports/drawdown.png"}
    assert all(files[p].startswith(b"\x89PNG") for p in files if p.endswith(".png"))
    backlog = files["task.md"].decode()
    assert _diff(text, backlog) == ["- - status: in-progress\n", "+ - status: done\n"]
    page = files["walkthrough.md"].decode()
    assert "## Latest cycle: c0003 (merged)" in page
    assert "![Equity of main and the branch](reports/equity.png)" in page
    assert page.count("| c000") == 3
    # The page and the history date a cycle by when it ran, never by the data's clock.
    assert "after cycle c0003 on 2026-11-22" in page
    assert re.search(r"\| c0003 +\| 2026-11-22 \|", page)


def test_report_without_curves_writes_no_plot_and_keeps_a_goal_not_met() -> None:
    current = _cycle(1, "T-001", Outcome.MERGED, merged=True,
                     branch=_metrics("in_sample", mdd=0.18))
    files = ProjectManager().write_report(cycle_id="c0001", records=_records(current),
                                    ledger_entries=[], task_text=BACKLOG,
                                    open_prs=[_pr(9, labels=("needs-human",))])
    assert set(files) == {"task.md", "walkthrough.md"}
    assert files["task.md"] == BACKLOG.encode()
    page = files["walkthrough.md"].decode()
    assert "## Plots" not in page and "| #9 " in page


STRATEGY = """\
class Fixed:
    lookback = 5

    def decide(self, view, portfolio):
        return {"SPY": WEIGHT, "TLT": 0.3}


def create_strategy(profile="default", **overrides):
    return Fixed()
"""


def _panel(days: int = 160) -> MarketData:
    rng = np.random.default_rng(2)
    dates = pd.bdate_range("2021-01-04", periods=days)
    assets = (AssetInfo(ticker="SPY", asset_class="stocks"),
              AssetInfo(ticker="TLT", asset_class="bonds"))
    prices = 100 * np.cumprod(1 + rng.normal(0.0003, 0.01, (days, 2)), axis=0)
    return MarketData(dates=dates, assets=assets, prices=prices,
                      volumes=np.full((days, 2), 1e6), fundamentals={}, macro={})


def test_report_plots_the_cached_backtests_and_runs_none(tmp_path: Path) -> None:
    quant = Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid")
    repo = GitRepo.init(tmp_path / "repo")
    package = tmp_path / "repo" / "strategy" / "__init__.py"
    package.parent.mkdir()
    package.write_text(STRATEGY.replace("WEIGHT", "0.6"))
    base = repo.commit_all(tmp_path / "repo", "main strategy", quant)
    package.write_text(STRATEGY.replace("WEIGHT", "0.4"))
    head = repo.commit_all(tmp_path / "repo", "branch strategy", quant)
    evaluator = Evaluator(repo, open_sandbox("none", allow_unsandboxed=True),
                          EvalSettings(frequency="monthly", reward_lambda=LAMBDA),
                          cache_dir=tmp_path / "cache")
    data = _panel()
    windows = research_windows(data, holdout_days=40, n_folds=0)
    in_sample = data.slice(end=windows.in_sample.end)
    evaluator.backtest(base, in_sample, windows.in_sample)  # the Quant's review
    for sha in (base, head):  # Risk's review
        evaluator.backtest(sha, data, windows.holdout)
    evaluator.backtest(head, in_sample, windows.in_sample)
    assert evaluator.runs == 4

    current = _cycle(1, "T-001", Outcome.VETOED, veto="no")
    records = _records(current)
    records["plan"]["base_sha"] = base
    records["implement"]["head_sha"] = head
    files = ProjectManager().write_report(cycle_id="c0001", records=records, ledger_entries=[],
                                    task_text=BACKLOG, evaluator=evaluator, data=data,
                                    windows=windows)
    assert evaluator.runs == 4 and evaluator.hits == 4
    assert {"reports/equity.png", "reports/drawdown.png"} <= set(files)
    assert "](reports/drawdown.png)" in files["walkthrough.md"].decode()


def test_report_skips_plots_when_nothing_was_backtested(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    (tmp_path / "repo" / "strategy").mkdir()
    (tmp_path / "repo" / "strategy" / "__init__.py").write_text(STRATEGY.replace("WEIGHT", "0.5"))
    sha = repo.commit_all(tmp_path / "repo", "s",
                          Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid"))
    evaluator = Evaluator(repo, open_sandbox("none", allow_unsandboxed=True),
                          EvalSettings(reward_lambda=LAMBDA), cache_dir=tmp_path / "cache")
    data = _panel()
    records = _records(_cycle(1, "T-001", Outcome.VETOED, veto="paths"))
    records["plan"]["base_sha"] = records["implement"]["head_sha"] = sha
    files = ProjectManager().write_report(cycle_id="c0001", records=records, ledger_entries=[],
                                    task_text=BACKLOG, evaluator=evaluator, data=data,
                                    windows=research_windows(data, holdout_days=40, n_folds=0))
    assert set(files) == {"task.md", "walkthrough.md"} and evaluator.runs == 0
