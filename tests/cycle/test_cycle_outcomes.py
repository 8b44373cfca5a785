"""Whole cycles in real git repositories: merge, veto, overfitting, escalation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support.cycle_repos import (
    OPTIONS,
    engine_patch,
    fixed_hypothesis,
    git,
    make_repo,
    patch_hypothesis,
)

from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.data import open_source
from alphaloop.forge import LocalForge
from alphaloop.harness import research_windows
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo


def _ledger(repo: Path) -> list[dict]:
    return [e.model_dump(mode="json") for e in Ledger(repo).entries()]


def _more_cash(repo: Path) -> str:
    """A real improvement of the reward: a quarter less risk cuts the drawdown the reward
    penalises while the Sharpe ratio stays where it was."""
    return engine_patch(repo, {"* (1.0 - tunables.CASH_BUFFER)":
                               "* (1.0 - tunables.CASH_BUFFER) * 0.75"})


def test_improving_change_merges(cycle_repo: Path) -> None:
    before = git(cycle_repo, "rev-parse", "main")
    source = patch_hypothesis("more-cash", _more_cash(cycle_repo), "Hold a quarter more cash")
    [summary] = run_cycles(cycle_repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.MERGED, summary.message
    assert "* 0.75" in (cycle_repo / "strategy" / "engine.py").read_text()
    # main moved forward: the squash merge, the SRE's deployment event, then the PM's
    # report commit on top of them.
    assert git(cycle_repo, "merge-base", "--is-ancestor", before, "main") == ""
    log = git(cycle_repo, "log", "--format=%an|%cn|%s", "main").splitlines()
    assert log[0].startswith("AlphaLoop PM|AlphaLoop PM|c0001: merged")
    # The data ends at the clock: the deployment waits for its first live bar.
    assert log[1].startswith("AlphaLoop SRE|AlphaLoop SRE|c0001: deploy: ")
    assert log[1].endswith("waiting for live bars")
    # The squash is the Quant's change, committed by the gate, never by a role that did
    # not review it.
    assert log[2].startswith("AlphaLoop Quant|AlphaLoop Merge Gate|Hold a quarter more cash")
    quant_commits = git(cycle_repo, "log", "--all", "--format=%an", "--author=Quant")
    assert "AlphaLoop Quant" in quant_commits
    forge = LocalForge(GitRepo.open(cycle_repo))
    [pr] = forge.list_prs()
    assert pr.state == "merged" and pr.hypothesis is not None
    [review] = forge.reviews(pr.number)
    assert review.reviewer == "risk" and review.verdict == "approve"
    # The merge commit names the approval it rests on: role, review and commit.
    trailers = git(cycle_repo, "log", "-1", "--format=%(trailers:key=AlphaLoop-Approval)",
                   "main~2")
    assert trailers == f"AlphaLoop-Approval: risk, review {review.id}, commit " \
                       f"{review.commit_sha}"
    entry = _ledger(cycle_repo)[0]
    records = entry["records"]
    risk = records["risk_review"]
    assert risk["verdict"] == "approve"
    assert risk["branch_metrics"]["holdout"]["reward"] >= risk["main_metrics"]["holdout"]["reward"]
    # the merge rests on the paired test of the claim, quoted with its statistics
    reward = risk["walk_forward_test"]["metrics"]["reward"]
    assert reward["superior"] and reward["ci_low"] > reward["min_effect"] > 0
    [claim] = [f for f in risk["findings"] if f["check"] == "improvement.claim"]
    assert claim["severity"] == 0 and "claim met: reward up" in claim["message"]
    assert "interval [" in claim["message"] and "p 0.0" in claim["message"]
    assert set(risk["stress"]) == {"synthetic_crash", "synthetic_vol_shock",
                                   "synthetic_rates_shock", "synthetic_crypto_crash"}
    assert "bubblewrap" in risk["isolation"]
    assert set(records["summary"]["timings"]) >= {"plan", "quant_review", "risk_review",
                                                  "deploy"}
    deploy = records["deploy"]
    assert deploy["deployed"] and deploy["grade"] == "pending"
    assert deploy["commit"] == git(cycle_repo, "rev-parse", "main~2")
    walkthrough = (cycle_repo / "walkthrough.md").read_text()
    assert "c0001" in walkthrough and "merged" in walkthrough
    for plot in ("reports/equity.png", "reports/drawdown.png"):
        assert (cycle_repo / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    task_md = (cycle_repo / "task.md").read_text()
    assert "- status: in-progress" in task_md
    assert "Free text a human wrote stays as it is." in task_md
    assert git(cycle_repo, "status", "--porcelain") == ""
    assert not GitRepo.open(cycle_repo).worktree_of(pr.head_branch)


def test_limit_breaking_change_is_vetoed_before_running(cycle_repo: Path) -> None:
    before = git(cycle_repo, "rev-parse", "main")
    [summary] = run_cycles(cycle_repo, OPTIONS,
                           hypothesis_source=fixed_hypothesis("MAX_SINGLE_ASSET", 0.12, 0.30))
    assert summary.outcome == Outcome.VETOED
    risk = _ledger(cycle_repo)[0]["records"]["risk_review"]
    assert risk["severity"] == 3 and risk["branch_metrics"] == {}
    blocking = [f for f in risk["findings"] if f["severity"] == 3]
    assert any(f["path"] == "strategy/tunables.py" and "0.3" in f["message"] for f in blocking)
    # main only gained the PM's report commit; the strategy is untouched.
    assert git(cycle_repo, "rev-parse", "main^") == before
    assert "MAX_SINGLE_ASSET = 0.12" in (cycle_repo / "strategy/tunables.py").read_text()
    [pr] = LocalForge(GitRepo.open(cycle_repo)).list_prs()
    assert pr.state == "closed" and "vetoed" in pr.labels


def _lookahead_patch(repo: Path) -> str:
    """A change fitted to the in-sample history: sit in cash before the months it knows
    will lose (dates hard-coded from the in-sample data, nothing after it)."""
    data = open_source(OPTIONS.data).load()
    windows = research_windows(data, holdout_days=OPTIONS.holdout_days,
                               n_folds=OPTIONS.n_folds, warmup_days=OPTIONS.warmup_days)
    seen = data.slice(end=windows.in_sample.end)
    prices = seen.price_frame().mean(axis=1)
    month_ends = prices.groupby(prices.index.to_period("M")).tail(1)
    ahead = month_ends.shift(-1) / month_ends - 1.0
    losing = sorted(str(d.date()) for d, r in ahead.items() if r < -0.005)
    assert losing, "the fixture data should have losing months"
    anchor = "    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision:\n"
    return engine_patch(repo, {
        anchor: anchor + "        if str(view.as_of.date()) in _AVOID:\n"
                         "            return Decision(weights={})\n",
        "class TiltedInverseVol:": f"_AVOID = frozenset({losing!r})\n\n\n"
                                   "class TiltedInverseVol:",
    })


def test_overfit_change_is_vetoed(cycle_repo: Path) -> None:
    source = patch_hypothesis("avoid-losing-months", _lookahead_patch(cycle_repo),
                              "Hold cash in the months that lost")
    [summary] = run_cycles(cycle_repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED
    risk = _ledger(cycle_repo)[0]["records"]["risk_review"]
    in_sample_gain = (risk["branch_metrics"]["walk_forward"]["reward"]
                      - risk["main_metrics"]["walk_forward"]["reward"])
    assert in_sample_gain > 0.1  # it looks like a big improvement in-sample ...
    # ... but it acts only on the history it was fitted to: nothing on the held-out
    # window confirms it
    [unconfirmed] = [f for f in risk["findings"] if f["check"] == "improvement.holdout"]
    assert unconfirmed["severity"] >= 2 and "unconfirmed" in unconfirmed["message"]
    assert "_AVOID" not in (cycle_repo / "strategy/engine.py").read_text()


def test_strategy_crash_is_a_recorded_veto(cycle_repo: Path) -> None:
    patch = engine_patch(cycle_repo, {
        "        prices = view.prices\n":
            "        prices = view.prices\n"
            "        if view.as_of.year >= 2009:\n"
            "            raise ArithmeticError('volatility estimate blew up')\n"})
    source = patch_hypothesis("crash", patch, "A change that crashes")
    [summary] = run_cycles(cycle_repo, OPTIONS, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED
    risk = _ledger(cycle_repo)[0]["records"]["risk_review"]
    [crash] = [f for f in risk["findings"] if f["check"] == "sandbox.strategy"]
    assert "volatility estimate blew up" in crash["message"]
    assert "2009-" in crash["message"]  # names the date it failed on


def test_deadlock_escalates_instead_of_looping(cycle_repo: Path) -> None:
    risk_toml = cycle_repo / "policies" / "risk.toml"
    risk_toml.write_text(risk_toml.read_text().replace("deadlock_vetoes = 3",
                                                       "deadlock_vetoes = 2"))
    git(cycle_repo, "commit", "-qam", "escalate after two vetoes")
    source = fixed_hypothesis("MAX_SINGLE_ASSET", 0.12, 0.30)
    summaries = run_cycles(cycle_repo, OPTIONS, count=3, hypothesis_source=source)
    assert [s.task_id for s in summaries] == ["T-001", "T-001", "T-002"]
    assert all(s.outcome == Outcome.VETOED for s in summaries)
    task_md = (cycle_repo / "task.md").read_text()
    first = task_md.split("## T-002")[0]
    assert "- status: blocked" in first and "escalated" in first
    plan = _ledger(cycle_repo)[2]["records"]["plan"]
    assert plan["escalations"][0]["task_id"] == "T-001"
    assert "T-001" in (cycle_repo / "walkthrough.md").read_text()


@pytest.mark.slow
def test_ten_cycles_never_merge_a_worse_holdout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    risk_toml = repo / "policies" / "risk.toml"
    risk_toml.write_text(risk_toml.read_text().replace("deadlock_vetoes = 3",
                                                       "deadlock_vetoes = 50"))
    git(repo, "commit", "-qam", "let the search run")
    summaries = run_cycles(repo, OPTIONS, count=10)
    assert len(summaries) == 10
    entries = _ledger(repo)
    assert [e["cycle_id"] for e in entries] == [f"c{i:04d}" for i in range(1, 11)]
    keys = [e["records"]["hypothesis"]["key"] for e in entries]
    assert len(set(keys)) == len(keys)  # never the same hypothesis twice
    held_out = []  # main's held-out reward, as it moves with each merge
    for entry in entries:
        risk = entry["records"]["risk_review"]
        if not risk["main_metrics"]:
            continue
        main_reward = risk["main_metrics"]["holdout"]["reward"]
        if held_out:
            assert main_reward == pytest.approx(held_out[-1], abs=1e-9)
        else:
            held_out.append(main_reward)
        if entry["records"]["summary"]["outcome"] == "merged":
            branch_reward = risk["branch_metrics"]["holdout"]["reward"]
            assert branch_reward >= main_reward
            held_out.append(branch_reward)
    assert held_out == sorted(held_out)
    trial_counts = [e["records"]["risk_review"]["n_trials"] for e in entries]
    assert trial_counts == sorted(trial_counts) and trial_counts[-1] >= 10
    assert np.isfinite([e["records"]["quant_review"]["reward"] for e in entries]).all()
    assert json.loads((repo / "ledger/cycles/c0010.json").read_text())["cycle_id"] == "c0010"
