"""walkthrough.md: the figures given appear, formatted, in a stable structure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from alphaloop.forge.records import Review
from alphaloop.records import Outcome, ParamEdit
from alphaloop.report.history import load_history
from alphaloop.report.markdown import format_delta, format_metric, format_number, table
from alphaloop.report.taskfile import parse_task_file
from alphaloop.report.walkthrough import WaitingPR, render_walkthrough

MakeCycle = Callable[..., dict[str, Any]]
HEAD = "b" * 40
PATCH = """\
--- a/strategy/risk/controller.py
+++ b/strategy/risk/controller.py
@@ -10,3 +10,4 @@
-    keep = 0.5
+    keep = 0.4
+    cooldown = 10
     return keep
"""
TASKS = """\
# Backlog

## T-001: Cut drawdown
- priority: high
- status: in-progress
- goal: max_drawdown < 15%

## T-002: Lower turnover
- priority: low
- status: blocked
- goal: turnover < 2.5
- escalated: 2024-04-02 by c0004: vetoed 3 cycles in a row | c0001: VaR above 3%
"""


def _review(reviewer: str, verdict: str, sha: str, findings: tuple[dict[str, Any], ...] = (),
            severity: int = 0) -> Review:
    return Review(pr_number=3, id=1, reviewer=reviewer, commit_sha=sha, verdict=verdict,
                  severity=severity, summary=f"{reviewer} looked at it", findings=findings,
                  created_at=datetime(2024, 4, 3, tzinfo=UTC))


@pytest.fixture
def page(make_cycle: MakeCycle) -> str:
    history = load_history([
        make_cycle(1, outcome=Outcome.VETOED, verdict="veto",
                   risk_summary="VaR 3.4% above the 3% limit", reasons=["vetoed by Risk"]),
        make_cycle(2, outcome=Outcome.AWAITING_HUMAN, needs_human=True,
                   reasons=["DRAWDOWN_DERISK_FACTOR moved 40% (more than 20%)"]),
        make_cycle(3, outcome=Outcome.MERGED, merged=True, main_is=(1.0, 0.2),
                   branch_is=(1.2, 0.14), holdout=(0.61, 0.74),
                   edits=[ParamEdit(name="DRAWDOWN_DERISK_FACTOR", old=0.5, new=0.4)],
                   patch=PATCH,
                   findings=[{"check": "stress.equity_crash", "severity": 1,
                              "message": "drawdown 19% in the crash window"}]),
    ])
    reviews = [
        _review("qa", "approve", HEAD),
        _review("engineer", "request_changes", "f" * 40, severity=2, findings=(
            {"check": "ast.imports", "severity": 2, "message": "import of os",
             "path": "strategy/x.py", "line": 3},)),
    ]
    waiting = [WaitingPR(number=2, title="Halve risky exposure faster", branch="alphaloop/c0002",
                         cycle_id="c0002",
                         reasons=("DRAWDOWN_DERISK_FACTOR moved 40% (more than 20%)",))]
    return render_walkthrough(history=history, tasks=parse_task_file(TASKS), reviews=reviews,
                              waiting=waiting, generated=date(2024, 4, 26),
                              plots={"Equity of main and the branch": "reports/equity.png",
                                     "Drawdown of main and the branch": "reports/drawdown.png"})


def _headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def test_sections_come_in_a_stable_order(page: str) -> None:
    assert _headings(page) == [
        "# AlphaLoop walkthrough", "## Needs a human", "## Latest cycle: c0003 (merged)",
        "### Hypothesis", "### The change", "### Reviews",
        "### Performance: main and the branch", "### Decision", "## Tear sheet",
        "### Charts", "## History",
        "## Backlog", "## Running the loop"]
    assert "after cycle c0003 on 2024-04-26; 3 cycles so far" in page
    assert page.endswith("\n") and not page.endswith("\n\n")


def test_the_latest_cycle_shows_its_story_and_figures(page: str) -> None:
    latest = page.split("## Latest cycle", 1)[1].split("## Tear sheet", 1)[0]
    assert "**T-001** Cut drawdown (priority high, goal `max_drawdown < 15%`)" in latest
    assert "> Halve risky exposure faster in drawdowns (trial 3)" in latest
    assert "**Why:** drawdown comes from slow de-risking" in latest
    assert re.search(r"\| `DRAWDOWN_DERISK_FACTOR` \| +0\.5 \| +0\.4 \| +20\.0% \|", latest)
    assert re.search(r"\| `strategy/risk/controller\.py` \| +\+2 \| +-1 \|", latest)
    row = next(line for line in latest.splitlines() if line.startswith("| max_drawdown"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "max_drawdown", "20.00%", "14.00%", "-6.00 pp", "12.00%", "10.00%", "-2.00 pp"]
    row = next(line for line in latest.splitlines() if line.startswith("| reward, walk"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "reward, walk-forward folds", "0.250", "0.500", "+0.250", "", "", ""]
    row = next(line for line in latest.splitlines() if line.startswith("| reward, whole"))
    assert [c.strip() for c in row.strip("|").split("|")][1:4] == ["0.000", "0.500", "+0.500"]
    assert "The Quant aims at its mean over the walk-forward folds" in latest
    assert "deflated Sharpe probability 0.97" in latest
    assert "probability of backtest overfitting 21.0%, over 3 trials" in latest
    assert "Merged into `main` as `eeeeeeee`" in latest and "Outcome: **merged**" in latest


def test_the_attribution_of_main_is_shown_largest_first(make_cycle: MakeCycle) -> None:
    attribution = {
        "asset_class": {"stocks": 0.0432, "bonds": 0.0103, "crypto": -0.0297},
        "expert": {"Bond Expert": 0.0093, "Stock Expert": -0.0038},
        "factor": {f"stocks.f{i}": i / 10 for i in range(7)},
    }
    history = load_history([make_cycle(1, outcome=Outcome.VETOED, attribution=attribution)])
    latest = render_walkthrough(history=history).split("## Latest cycle", 1)[1]
    lines = latest.split("Attribution of main (in-sample):", 1)[1].strip().splitlines()[:3]
    assert lines == [
        "- Return by asset class (annualised contribution): stocks 4.32%, crypto -2.97%, "
        "bonds 1.03%",
        "- Expert tilts (average change of their class's weight): Bond Expert 0.93 pp, "
        "Stock Expert -0.38 pp",
        "- Strongest factor exposures of the holdings (z-scores): stocks.f6 0.60, "
        "stocks.f5 0.50, stocks.f4 0.40, stocks.f3 0.30, stocks.f2 0.20"]
    bare = render_walkthrough(history=load_history([make_cycle(1, outcome=Outcome.VETOED)]))
    assert "Attribution of main" not in bare


def test_every_review_is_listed_with_its_findings(page: str) -> None:
    reviews = page.split("### Reviews", 1)[1].split("###", 1)[0]
    rows = [line for line in reviews.splitlines() if line.startswith("| ")][2:]
    assert [r.split("|")[1].strip() for r in rows] == ["risk", "qa", "engineer"]
    assert "ffffffff (not the head)" in rows[2] and "bbbbbbbb " in rows[1]
    assert "- [2] ast.imports strategy/x.py:3: import of os" in reviews
    assert "- [1] stress.equity_crash: drawdown 19% in the crash window" in reviews


def test_humans_see_waiting_prs_and_escalations_first(page: str) -> None:
    attention = page.split("## Needs a human", 1)[1].split("## Latest", 1)[0]
    assert re.search(r"\| #2 +\| Halve risky exposure faster \| c0002 \| DRAWDOWN_DERISK",
                     attention)
    assert "`alphaloop pr approve N`" in attention
    assert "- **T-002** Lower turnover: 2024-04-02 by c0004: vetoed 3 cycles in a row" \
        in attention


def test_history_lists_every_cycle_newest_first(page: str) -> None:
    history = page.split("## History", 1)[1].split("## Backlog", 1)[0]
    rows = [line for line in history.splitlines() if re.match(r"\| c\d", line)]
    assert [r.split("|")[1].strip() for r in rows] == ["c0003", "c0002", "c0001"]
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1:3] == ["2024-04-03", "T-001"]
    assert cells[3].startswith("Halve risky exposure faster in drawdowns")
    assert cells[4:] == ["merged", "0.250 → 0.500", "0.610 → 0.740"]
    assert [c.strip() for c in rows[2].strip("|").split("|")][4] == "vetoed"


def test_tables_are_aligned_and_no_nan_leaks(page: str) -> None:
    for block in re.findall(r"(?:^\|.*\|\n)+", page, flags=re.MULTILINE):
        widths = {len(line) for line in block.splitlines()}
        assert len(widths) == 1, block
    assert "nan" not in page.lower().replace("finance", "")
    assert "![Equity of main and the branch](reports/equity.png)" in page
    assert "![Drawdown of main and the branch](reports/drawdown.png)" in page


def test_before_any_cycle_the_page_says_how_to_start() -> None:
    page = render_walkthrough(history=(), tasks=parse_task_file(TASKS))
    assert "No cycle has run yet." in page and "`alphaloop cycle`" in page
    assert _headings(page) == ["# AlphaLoop walkthrough", "## Needs a human", "## Backlog"]


def test_an_idle_cycle_renders_without_a_change(make_cycle: MakeCycle) -> None:
    history = load_history([make_cycle(1, task_id=None, outcome=Outcome.IDLE)])
    page = render_walkthrough(history=history)
    assert "## Latest cycle: c0001 (idle)" in page
    assert "- Task: none" in page and "No backtest was recorded" in page
    assert "### Hypothesis" not in page and "## Tear sheet" not in page


def test_formatting_helpers() -> None:
    assert format_metric("max_drawdown", 0.12345) == "12.35%"
    assert format_metric("sharpe", float("nan")) == "n/a"
    assert format_metric("turnover", 4.126) == "4.13x/yr"
    assert format_number(-0.001) == "0.00"
    assert format_delta("annual_return", 0.05, 0.071) == "+2.10 pp"
    assert format_delta("sharpe", 1.2, 0.9) == "-0.300"
    assert format_metric("reward", 0.3408) == "0.341"
    assert format_delta("sharpe", None, 0.9) == "n/a"
    text = table(["a", "num"], [["x|y", 1.5], ["long cell", 10]], ["left", "right"])
    assert text.splitlines() == ["| a         | num |", "| --------- | --: |",
                                 "| x\\|y      | 1.5 |", "| long cell |  10 |"]
    with pytest.raises(ValueError, match="2 cells, expected 3"):
        table(["a", "b", "c"], [["1", "2"]])


def test_the_backlog_shows_mains_figure_beside_each_goal(page: str) -> None:
    backlog = page.split("## Backlog", 1)[1]
    assert "main now" in backlog and "as the Quant measured them in c0003" in backlog
    # the latest review of main (c0003): max drawdown 20%, turnover 4x a year
    [t1] = [line for line in backlog.splitlines() if line.startswith("| T-001")]
    assert "max_drawdown 20.00%" in t1 and "| no  |" in t1
    [t2] = [line for line in backlog.splitlines() if line.startswith("| T-002")]
    assert "turnover 4" in t2 and "| no  |" in t2


def test_a_backlog_before_any_review_says_so() -> None:
    page = render_walkthrough(history=(), tasks=parse_task_file(TASKS))
    assert "no review of `main` yet" in page
