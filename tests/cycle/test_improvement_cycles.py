"""Whole cycles judged by the paired improvement test: what merges is a measured
improvement of what the change claims; what is vetoed says why, with the statistics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.cycle_repos import OPTIONS, engine_patch, fixed_hypothesis, make_repo

from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.records import Claim, Hypothesis, Outcome
from alphaloop.roles.quant.claims import NO_EFFECT, claim_for_task
from alphaloop.roles.quant.search import change_key

FAST = OPTIONS.model_copy(update={"data": "synthetic:years=4", "holdout_days": 252})

DRAWDOWN_TASKS = """# Backlog

## T-001: Cut the drawdown
- priority: high
- status: todo
- goal: max_drawdown < 4%
"""


def _risk(repo: Path) -> dict:
    return Ledger(repo).entries()[-1].model_dump(mode="json")["records"]["risk_review"]


def _finding(risk: dict, check: str) -> dict:
    [finding] = [f for f in risk["findings"] if f["check"] == check]
    return finding


def _patch_source(name: str, patch: str, *, claim: Claim | None = None,
                  from_task: bool = False) -> Callable[..., Hypothesis]:
    """A code change whose claim is given, or derived from the task as the Quant does."""

    def source(**kwargs: object) -> Hypothesis:
        review, task = kwargs["review"], kwargs.get("task")
        made = claim_for_task(task, review.metrics) if from_task else (claim or Claim())
        return Hypothesis(key=change_key(patch_name=name), kind="patch", slug=name,
                          statement=name.replace("-", " "), rationale="test hypothesis",
                          expected_effect="see the review", patch_name=name, patch=patch,
                          claim=made, task_id=getattr(task, "id", None))

    return source


def _scale(repo: Path, factor: str) -> str:
    return engine_patch(repo, {"* (1.0 - tunables.CASH_BUFFER)":
                               f"* (1.0 - tunables.CASH_BUFFER) * {factor}"})


def test_noise_move_is_vetoed_with_the_statistics(cycle_repo: Path) -> None:
    source = fixed_hypothesis("MOMENTUM_TILT", 0.5, 0.55)
    [summary] = run_cycles(cycle_repo, FAST, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED, summary.message
    risk = _risk(cycle_repo)
    reward = risk["walk_forward_test"]["metrics"]["reward"]
    assert reward["ci_low"] < 0 < reward["ci_high"]  # the interval straddles 0
    claim = _finding(risk, "improvement.claim")
    assert claim["severity"] == 2 and claim["message"].startswith("claim not met: reward up")
    for quoted in ("interval [", "p ", "paired days", "resamples", "above alpha"):
        assert quoted in claim["message"]
    assert claim["evidence"]["n_trials"] == risk["distinct_trials"] == 1


def test_change_meeting_its_goal_with_non_inferior_reward_merges(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", tasks=DRAWDOWN_TASKS)
    source = _patch_source("trim-risk", _scale(repo, "0.8"), from_task=True)
    [summary] = run_cycles(repo, FAST, hypothesis_source=source)
    assert summary.outcome == Outcome.MERGED, summary.message
    risk = _risk(repo)
    assert risk["claim"]["metric"] == "max_drawdown" and risk["claim"]["direction"] == "decrease"
    assert "task goal 'max_drawdown < 4%'" in risk["claim"]["source"]
    assert _finding(risk, "improvement.claim")["message"].startswith(
        "claim met: max_drawdown down")
    assert _finding(risk, "improvement.reward")["severity"] == 0
    reward = risk["walk_forward_test"]["metrics"]["reward"]
    assert reward["noninferior"]  # superiority is not asked of it, only of the drawdown


def test_identical_to_main_with_a_reward_claim_is_no_effect(cycle_repo: Path) -> None:
    patch = engine_patch(cycle_repo, {"        prices = view.prices\n":
                                      "        prices = view.prices  # the closes\n"})
    [summary] = run_cycles(cycle_repo, FAST, hypothesis_source=_patch_source("tidy", patch))
    assert summary.outcome == Outcome.VETOED
    risk = _risk(cycle_repo)
    assert risk["identical_to_main"] and risk["walk_forward_test"]["identical"]
    finding = _finding(risk, "improvement.identical")
    assert finding["severity"] == 2
    assert "identical to main" in finding["message"] and "no effect, claim not met" in \
        finding["message"]
    assert "stress synthetic_vol_shock" in finding["message"]  # every window Risk ran


def test_comment_only_change_claiming_no_effect_merges(cycle_repo: Path) -> None:
    patch = engine_patch(cycle_repo, {"        prices = view.prices\n":
                                      "        # closes up to the decision date, never after\n"
                                      "        prices = view.prices\n"})
    source = _patch_source("explain-prices", patch, claim=NO_EFFECT)
    [summary] = run_cycles(cycle_repo, FAST, hypothesis_source=source)
    assert summary.outcome == Outcome.MERGED, summary.message
    risk = _risk(cycle_repo)
    assert risk["identical_to_main"]
    assert "the no-effect claim holds" in _finding(risk, "improvement.identical")["message"]
    # an identical branch is not a trial: the next comparison is not deflated by it
    assert risk["walk_forward_test"]["metrics"]["reward"]["estimate"] == 0.0


def test_a_limit_broken_only_in_a_stress_scenario_is_vetoed(cycle_repo: Path) -> None:
    anchor = "        return Decision(weights=dict(zip("
    patch = engine_patch(cycle_repo, {anchor: (
        "        if 'VIX' in view.macro_series and view.macro('VIX')[-1] > 50:\n"
        "            weights[int(np.argmax(weights))] = 0.16\n" + anchor)})
    source = _patch_source("lean-in-when-vix-spikes", patch)
    [summary] = run_cycles(cycle_repo, FAST, hypothesis_source=source)
    assert summary.outcome == Outcome.VETOED
    risk = _risk(cycle_repo)
    blocks = [f for f in risk["findings"] if f["check"] == "risk.single_asset"]
    assert blocks and all(f["severity"] == 3 for f in blocks)
    assert {f["evidence"]["window"] for f in blocks} <= {"stress synthetic_crash",
                                                          "stress synthetic_vol_shock"}
    assert "16.00%" in blocks[0]["message"]
    # in-sample and held-out it decides exactly as main: the limit breaks only under stress
    assert risk["branch_metrics"]["in_sample"] == {**risk["main_metrics"]["in_sample"]}
