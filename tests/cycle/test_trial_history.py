"""What the search learns from the ledger: measured points, never a stale one."""

from __future__ import annotations

from datetime import date
from typing import Any

from alphaloop.records import (
    CycleSummary,
    Hypothesis,
    Implementation,
    Outcome,
    ParamEdit,
    RiskReviewRecord,
    RunMetrics,
)
from alphaloop.records.history import read_history

MAIN = {"TILT": 0.5, "LOOKBACK": 100}


def _metrics(label: str, reward: float) -> RunMetrics:
    return RunMetrics(label=label, start=date(2010, 1, 4), end=date(2015, 1, 2), sharpe=0.8,
                      annual_return=0.07, annual_volatility=0.1, max_drawdown=0.12, calmar=0.6,
                      var_95=0.01, turnover=1.0, reward=reward, n_days=1260)


def _entry(number: int, *, outcome: Outcome, main_reward: float, branch_reward: float,
           edit: ParamEdit | None = None, base: dict[str, Any] | None = None,
           patch: str | None = None) -> dict[str, Any]:
    base = base or MAIN
    edits = [edit] if edit else []
    values = {**base, **{e.name: e.new for e in edits}}
    hypothesis = Hypothesis(key=f"k{number}", kind="patch" if patch else "parameters",
                            slug="s", statement="s", rationale="r", expected_effect="e",
                            edits=edits, patch_name=patch, search={"values": values})
    review = RiskReviewRecord(
        verdict="approve", severity=0, summary="ok", findings=[], head_sha=f"{number:040d}",
        branch_metrics={"walk_forward": _metrics("walk_forward", branch_reward)},
        main_metrics={"walk_forward": _metrics("walk_forward", main_reward)})
    impl = Implementation(branch=f"b{number}", base_sha=f"base{number}",
                          head_sha=f"{number:040d}", pr_number=number, changed_files=[])
    summary = CycleSummary(cycle_id=f"c{number:04d}", outcome=outcome, task_id="T-001",
                           hypothesis="s", pr_number=number, message="", timings={})
    records = {"hypothesis": hypothesis, "risk_review": review, "implement": impl,
               "summary": summary}
    return {"records": {k: v.model_dump(mode="json") for k, v in records.items()}}


def test_the_base_of_every_branch_is_a_measured_point() -> None:
    history = read_history([
        _entry(1, outcome=Outcome.MERGED, main_reward=0.30, branch_reward=0.32,
               edit=ParamEdit(name="TILT", old=0.5, new=0.45)),
        _entry(2, outcome=Outcome.VETOED, main_reward=0.32, branch_reward=0.31,
               edit=ParamEdit(name="LOOKBACK", old=100, new=90), base={**MAIN, "TILT": 0.45}),
    ])
    points = {(t.values["TILT"], t.values["LOOKBACK"]): t.reward for t in history.trials}
    # c0001's branch and base, c0002's branch; c0002's base is c0001's branch, measured
    # again there (0.32 both times) and counted once.
    assert points == {(0.45, 100): 0.32, (0.5, 100): 0.30, (0.45, 90): 0.31}
    assert len(history.trials) == 3 and history.tried == {"k1", "k2"}


def test_a_merged_code_change_makes_earlier_points_stale() -> None:
    history = read_history([
        _entry(1, outcome=Outcome.VETOED, main_reward=0.30, branch_reward=0.25,
               edit=ParamEdit(name="TILT", old=0.5, new=0.45)),
        _entry(2, outcome=Outcome.MERGED, main_reward=0.30, branch_reward=0.40,
               patch="trend-filter"),
        _entry(13, outcome=Outcome.VETOED, main_reward=0.40, branch_reward=0.38,
               edit=ParamEdit(name="TILT", old=0.5, new=0.55)),
    ])
    assert sorted(t.reward for t in history.trials) == [0.38, 0.40]
    assert {"k1", "k2", "k13"} == history.tried  # nothing tried is ever proposed again
