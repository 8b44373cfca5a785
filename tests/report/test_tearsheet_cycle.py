"""A whole cycle writes the tear sheet: benchmarks, stress, charts, from its own backtests."""

from __future__ import annotations

import re
from pathlib import Path

from support.cycle_repos import OPTIONS, engine_patch, git, make_repo, patch_hypothesis

from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.records import Outcome
from alphaloop.report.cycle_plots import PLOT_CAPTIONS
from alphaloop.report.markdown import format_percent

PNG = b"\x89PNG\r\n\x1a\n"


def _rows(page: str, heading: str) -> list[list[str]]:
    """The body rows of the first table under ``heading``, as stripped cells."""
    section = page.split(heading, 1)[1].split("\n### ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")][2:]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines]


def test_a_cycle_writes_a_tear_sheet_with_benchmarks_stress_and_charts(
        tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    patch = engine_patch(repo, {"* (1.0 - tunables.CASH_BUFFER)":
                                "* (1.0 - tunables.CASH_BUFFER) * 0.75"})
    source = patch_hypothesis("more-cash", patch, "Hold a quarter more cash")
    [summary] = run_cycles(repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.MERGED, summary.message
    risk = Ledger(repo).entries()[0].model_dump(mode="json")["records"]["risk_review"]
    page = (repo / "walkthrough.md").read_text()
    sheet = page.split("## Tear sheet", 1)[1].split("\n## ", 1)[0]

    assert "- **equal weight**: an equal share of each of the" in sheet
    assert re.search(r"- \*\*60/40\*\*: 60% in \d+ stocks? and 40% in \d+ bonds?", sheet)
    assert "rebalanced monthly" in sheet and "commission 0.10%" in sheet

    relative = _rows(sheet, "### Against the benchmarks")
    assert {(r[0], r[1], r[2]) for r in relative} == {
        (w, p, b) for w in ("in-sample", "held-out") for p in ("main", "branch")
        for b in ("equal weight", "60/40")}
    # the tear sheet's returns are the backtests Risk judged, not a second run
    for side in ("main", "branch"):
        recorded = risk[f"{side}_metrics"]["holdout"]["annual_return"]
        shown = {r[3] for r in relative if r[0] == "held-out" and r[1] == side}
        assert shown == {format_percent(recorded, 2)}

    stress = _rows(sheet, "### Stress scenarios")
    assert sorted(r[0] for r in stress) == sorted(risk["stress"])
    for row in stress:  # both sides found for every scenario Risk ran
        assert "n/a" not in row[3:], row
        assert row[7] == format_percent(risk["stress"][row[0]]["max_drawdown"], 2)

    years = _rows(sheet, "### Calendar years")
    assert len(years) >= 5 and all(len(r) == 6 for r in years)  # main, branch, diff, 2 benchmarks
    for name, caption in PLOT_CAPTIONS.items():
        assert f"![{caption}](reports/{name})" in sheet
        assert (repo / "reports" / name).read_bytes()[:8] == PNG
    assert git(repo, "status", "--porcelain") == ""
