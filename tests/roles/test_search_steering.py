"""People steer the Quant's search: pins, exclusions, the objective, and the surrogate it
fits to the trials."""

from __future__ import annotations

import pytest
from roles.test_quant import SPACE, _review

from alphaloop.policy import SearchPolicy, SearchSteering
from alphaloop.records import TaskRef, Trial
from alphaloop.roles.quant.hypothesize import choose_hypothesis
from alphaloop.roles.quant.search import change_key, propose_candidates, rank_candidates
from alphaloop.roles.quant.steering import SteeringError, check_steering

TASK = TaskRef(id="T-009", title="t", priority="high", goal="turnover < 1")


def _choose(steering: SearchSteering, tried: set[str] | None = None,
            trials: list[Trial] | None = None):
    return choose_hypothesis(review=_review(), space=SPACE, trials=trials or [],
                             tried=tried or set(), lam=5.0, task=TASK, steering=steering)


def test_a_pin_away_from_main_is_proposed_first() -> None:
    pinned = _choose(SearchSteering(pins={"TILT": 0.8, "LOOKBACK": 100}))
    assert pinned is not None
    # LOOKBACK already sits at its pin: only TILT moves, and the rationale says why.
    assert [(e.name, e.old, e.new) for e in pinned.edits] == [("TILT", 0.5, 0.8)]
    assert pinned.search["policy"] == "pinned"
    assert "pins TILT = 0.8" in pinned.rationale
    assert pinned.task_id == "T-009"


def test_pinned_and_excluded_tunables_are_never_moved_otherwise() -> None:
    steering = SearchSteering(pins={"TILT": 0.8}, exclude=("METHOD",))
    tried = {change_key(_choose(steering).edits)}  # the pin move was tried (and vetoed)
    every: set[str] = set(tried)
    names = []
    while (found := _choose(steering, tried=every)) is not None:
        names.append(found.edits[0].name)
        every.add(found.key)
    assert names and set(names) == {"LOOKBACK"}
    assert "excluded METHOD" in _choose(SearchSteering(exclude=("METHOD",))).rationale


def test_the_objective_decides_which_way_the_search_goes() -> None:
    # Reward rises with TILT while turnover rises with it too: maximising the reward
    # raises TILT, minimising turnover lowers it.
    trials = [Trial(key=f"t{i}", values={**SPACE.values, "TILT": t}, reward=r,
                    metrics={"turnover": 1 + 2 * t, "sharpe": 0.5})
              for i, (t, r) in enumerate([(0.2, 0.0), (0.35, 0.1), (0.5, 0.2), (0.6, 0.3)])]
    candidates = [c for c in propose_candidates(SPACE, set()) if c.edits[0].name == "TILT"]

    def best_tilt(steering: SearchSteering) -> float:
        return float(rank_candidates(SPACE, candidates, trials, steering=steering)[0]
                     .edits[0].new)

    assert best_tilt(SearchSteering()) > 0.5
    assert best_tilt(SearchSteering(objective="turnover")) < 0.5
    chosen = _choose(SearchSteering(objective="turnover"), trials=trials)
    assert chosen is not None and chosen.search["objective"] == "turnover"
    assert "walk-forward turnover" in chosen.expected_effect


def test_the_surrogate_fits_its_kernel_and_reports_a_real_uncertainty() -> None:
    trials = [Trial(key=f"t{i}", values={**SPACE.values, "TILT": t, "LOOKBACK": lb},
                    reward=r)
              for i, (t, lb, r) in enumerate([(0.2, 60, 0.05), (0.4, 100, 0.2),
                                              (0.6, 140, 0.1), (0.8, 200, -0.1)])]
    ranked = rank_candidates(SPACE, propose_candidates(SPACE, set()), trials)
    stds = {round(c.std, 6) for c in ranked}
    assert len(stds) > 1 and min(stds) > 0  # not one constant "+/- 0.000"
    assert "Matern" in ranked[0].kernel and "WhiteKernel" in ranked[0].kernel
    assert "length_scale=0.25" not in ranked[0].kernel  # fitted, not the starting value


def test_a_task_lays_its_steering_over_the_policy() -> None:
    policy = SearchPolicy(objective="sharpe", exclude=("METHOD",), pins={"TILT": 0.3},
                          budget=8).steering()
    task = SearchSteering(pins={"TILT": 0.7}, exclude=("LOOKBACK",), budget=3)
    merged = task.under(policy)
    assert merged.pins == {"TILT": 0.7} and merged.exclude == ("METHOD", "LOOKBACK")
    assert merged.objective == "sharpe" and merged.budget == 3
    assert SearchSteering().under(policy).budget == 8
    assert SearchPolicy().steering().budget is None


@pytest.mark.parametrize(("steering", "phrase"), [
    (SearchSteering(exclude=("TILTT",)), "TILTT (did you mean TILT?) is not a tunable"),
    (SearchSteering(pins={"TILT": 1.5}), "TILT = 1.5 is outside its declared range 0-1"),
    (SearchSteering(pins={"METHOD": "z"}), "METHOD = 'z' is not one of a, b, c"),
    (SearchSteering(pins={"LOOKBACK": 99.5}), "LOOKBACK = 99.5 is not a whole number"),
])
def test_steering_that_does_not_fit_the_strategy_is_refused(steering: SearchSteering,
                                                            phrase: str) -> None:
    with pytest.raises(SteeringError) as caught:
        check_steering(steering, SPACE, task=TASK)
    assert phrase in str(caught.value)
    assert "task T-009" in str(caught.value) and "LOOKBACK, METHOD, TILT" in str(caught.value)
