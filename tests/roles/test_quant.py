"""The Quant's pieces: tunable edits, the calibration search, structural changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphaloop.checks.ast_policy import check_strategy_package
from alphaloop.contract import PortfolioState, validate_weights
from alphaloop.data import SyntheticConfig, SyntheticSource
from alphaloop.evaluation.space import ParamSpace, ParamSpec
from alphaloop.evaluation.tunables import (
    TUNABLES_PATH,
    EditError,
    apply_edits,
    read_tunables,
    write_edits,
)
from alphaloop.policy import load_policies
from alphaloop.records import Hypothesis, ParamEdit, PerformanceReview, RunMetrics, Trial
from alphaloop.roles.quant.hypothesize import choose_hypothesis
from alphaloop.roles.quant.review import GOAL_METRICS, diagnose, task_focus
from alphaloop.roles.quant.search import (
    MEASURABLE,
    change_key,
    propose_candidates,
    rank_candidates,
    schedule,
)
from alphaloop.roles.quant.structural import (
    ACTIVE,
    CATALOGUE,
    active_overlays,
    applicable_changes,
    apply_structural,
    patched_sources,
    render_active,
)
from alphaloop.sandbox import SandboxedStrategy, open_sandbox

PROJECT = Path(__file__).resolve().parents[2]


def _finsage_space() -> ParamSpace:
    """FinSage's declared space as the sandbox reports it (specs as JSON, current values)."""
    from strategy.parameters import PARAMETER_SPACE, current_values

    specs = {name: ParamSpec.model_validate(spec.model_dump(mode="json"))
             for name, spec in PARAMETER_SPACE.items()}
    return ParamSpace(specs=specs, values={k: v for k, v in current_values().items()
                                           if k in specs})

SPACE = ParamSpace(
    specs={
        "LOOKBACK": ParamSpec(name="LOOKBACK", kind="int", low=20, high=250, description="d"),
        "TILT": ParamSpec(name="TILT", kind="float", low=0.0, high=1.0, description="t"),
        "METHOD": ParamSpec(name="METHOD", kind="choice", choices=("a", "b", "c"),
                            description="m"),
    },
    values={"LOOKBACK": 100, "TILT": 0.5, "METHOD": "a"},
)


def _review(**changes: object) -> PerformanceReview:
    metrics = RunMetrics(label="in_sample", start="2010-01-01", end="2015-01-01", sharpe=0.8,
                         annual_return=0.07, annual_volatility=0.10, max_drawdown=0.12,
                         calmar=0.6, var_95=0.01, turnover=1.0, reward=0.2, n_days=1260)
    base = {"sha": "0" * 40, "tree_hash": "t", "data_hash": "d", "metrics": metrics,
            "folds": [], "reward": 0.2, "attribution": {"asset_class": {}}, "diagnosis": [],
            "cached": False, "duration_s": 0.0}
    return PerformanceReview.model_validate({**base, **changes})


def test_edits_change_only_the_literal() -> None:
    source = 'A = 1  # first\nB = 0.5  # second, keep me\nC = "x"\n'
    out = apply_edits(source, [ParamEdit(name="B", old=0.5, new=0.35),
                               ParamEdit(name="C", old="x", new="y")])
    assert out == 'A = 1  # first\nB = 0.35  # second, keep me\nC = "y"\n'
    with pytest.raises(EditError, match="MISSING"):
        apply_edits(source, [ParamEdit(name="MISSING", old=1, new=2)])


def test_the_tunables_file_is_read_and_written_in_one_place(tmp_path: Path) -> None:
    from strategy.parameters import current_values

    assert read_tunables((PROJECT / TUNABLES_PATH).read_bytes()) == current_values()
    assert read_tunables(b"A = 1\nB = f(2)\nC = True\nD = -0.5\n") == {"A": 1, "D": -0.5}
    assert read_tunables("not python (") == {}
    (tmp_path / "strategy").mkdir()
    (tmp_path / TUNABLES_PATH).write_text("RISK = 3.0  # kept\nDAYS = 126\n")
    write_edits(tmp_path, [ParamEdit(name="DAYS", old=126, new=107)])
    assert (tmp_path / TUNABLES_PATH).read_text() == "RISK = 3.0  # kept\nDAYS = 107\n"


def test_candidates_stay_in_range_and_are_never_repeated() -> None:
    candidates = propose_candidates(SPACE, tried=set())
    assert candidates
    for c in candidates:
        [edit] = c.edits
        spec = SPACE.specs[edit.name]
        if spec.kind == "choice":
            assert edit.new in spec.choices and edit.new != edit.old
        else:
            assert spec.low <= float(edit.new) <= spec.high and edit.new != edit.old
            if spec.kind == "int":
                assert isinstance(edit.new, int)
    odd = ParamSpace(specs=SPACE.specs, values={**SPACE.values, "TILT": 0.5234})
    moves = [c.edits[0].new for c in propose_candidates(odd, set()) if c.edits[0].name == "TILT"]
    assert moves and all(float(f"{m:.3g}") == m for m in moves)  # as a person writes them
    tried = {c.key for c in candidates[:3]}
    again = propose_candidates(SPACE, tried=tried)
    assert not tried & {c.key for c in again}
    assert len(again) == len(candidates) - 3
    assert change_key(candidates[0].edits) == candidates[0].key


def test_search_prefers_the_promising_region() -> None:
    # reward rises with TILT in the history: the surrogate should propose raising it
    trials = [Trial(key=f"t{i}", values={**SPACE.values, "TILT": t}, reward=r)
              for i, (t, r) in enumerate([(0.1, 0.0), (0.3, 0.2), (0.5, 0.4), (0.55, 0.45)])]
    ranked = rank_candidates(SPACE, propose_candidates(SPACE, tried=set()), trials)
    best = ranked[0].edits[0]
    assert best.name == "TILT" and float(best.new) > 0.5
    assert ranked[0].acquisition >= ranked[-1].acquisition


def test_focus_breaks_ties_without_history() -> None:
    ranked = rank_candidates(SPACE, propose_candidates(SPACE, set(), {"METHOD": 1.0}), [])
    assert ranked[0].edits[0].name == "METHOD"


def test_diagnosis_and_task_point_at_drawdown_controls() -> None:
    review = _review(folds=[{"label": "f1", "sharpe": 0.5, "max_drawdown": 0.25,
                             "reward": -0.7}])
    space = _finsage_space()
    notes, focus = diagnose(review, space=space, target_volatility=0.12,
                            drawdown_trigger=0.15)
    assert any("drawdown" in n for n in notes)
    assert focus["DRAWDOWN_DERISK_FACTOR"] == 1.0
    assert "DRAWDOWN_DERISK_FACTOR" in task_focus("max_drawdown < 15%", space)
    assert task_focus("turnover < 2", space) and not task_focus("", space)


#: FinSage's tunables each weakness and goal points at, found through the tags the
#: strategy declares (the Quant names none of them).
_WEAK = {
    "drawdown": {"DRAWDOWN_DERISK_FACTOR", "DRAWDOWN_COOLDOWN_DAYS",
                 "VOLATILITY_SCALING_STRENGTH", "REGIME_TILT_STRENGTH", "HEDGE_VAR_TRIGGER",
                 "HEDGE_VIX_TRIGGER", "HEDGE_MAX_RATIO"},
    "volatility": {"VOLATILITY_SCALING_STRENGTH", "RISK_AVERSION", "EXPERT_TILT_STRENGTH"},
    "turnover": {"REBALANCE_THRESHOLD", "COVARIANCE_LOOKBACK_DAYS", "VOLATILITY_LOOKBACK_DAYS"},
    "unstable": {"MOMENTUM_LOOKBACK_DAYS", "COVARIANCE_LOOKBACK_DAYS"},
}
_GOALS = {
    "max_drawdown": _WEAK["drawdown"],
    "annual_volatility": {"VOLATILITY_SCALING_STRENGTH", "RISK_AVERSION"},
    "turnover": {"REBALANCE_THRESHOLD", "COVARIANCE_LOOKBACK_DAYS", "MOMENTUM_LOOKBACK_DAYS"},
    "sharpe": {"EXPERT_TILT_STRENGTH", "MOMENTUM_LOOKBACK_DAYS", "RISK_AVERSION"},
    "reward": {"EXPERT_TILT_STRENGTH", "DRAWDOWN_DERISK_FACTOR", "RISK_AVERSION"},
    "annual_return": {"EXPERT_TILT_STRENGTH", "STOCK_WEIGHT_MOMENTUM", "RISK_AVERSION"},
    "calmar": {"DRAWDOWN_DERISK_FACTOR", "EXPERT_TILT_STRENGTH"},
}
_DRIVERS = {
    "stocks": {"STOCK_WEIGHT_MOMENTUM", "STOCK_WEIGHT_VALUE", "STOCK_WEIGHT_PROFITABILITY"},
    "bonds": {"BOND_WEIGHT_CARRY", "BOND_WEIGHT_MOMENTUM", "BOND_WEIGHT_VALUE"},
    "commodities": {"COMMODITY_WEIGHT_TERM_STRUCTURE", "COMMODITY_WEIGHT_MOMENTUM"},
    "reits": {"REITS_WEIGHT_NAV_DISCOUNT", "REITS_WEIGHT_SECTOR_OUTLOOK"},
    "crypto": {"CRYPTO_WEIGHT_CRASH_RISK", "CRYPTO_WEIGHT_NETWORK_EFFECT"},
}


def test_each_weakness_finds_finsage_tunables_by_their_tags() -> None:
    space = _finsage_space()
    fold = {"label": "f1", "sharpe": 0.5, "max_drawdown": 0.05, "reward": 0.3}
    cases = {
        "drawdown": _review(folds=[{**fold, "max_drawdown": 0.25}]),
        "volatility": _review(metrics={**_review().metrics.model_dump(),
                                       "annual_volatility": 0.2}),
        "turnover": _review(metrics={**_review().metrics.model_dump(), "turnover": 3.0}),
        "unstable": _review(folds=[{**fold, "reward": 0.9}, {**fold, "reward": -0.8}]),
    }
    for weakness, review in cases.items():
        _, focus = diagnose(review, space=space, target_volatility=0.12,
                            drawdown_trigger=0.15)
        assert set(focus) == _WEAK[weakness], weakness
    for asset_class, drivers in _DRIVERS.items():
        review = _review(attribution={"asset_class": {asset_class: -0.02, "cash": 0.0}})
        _, focus = diagnose(review, space=space, target_volatility=0.12,
                            drawdown_trigger=0.15)
        assert focus == {**dict.fromkeys(drivers, 1.0), "EXPERT_TILT_STRENGTH": 0.6}
    assert set(GOAL_METRICS) == set(_GOALS)
    for metric, names in _GOALS.items():
        assert set(task_focus(f"{metric} > 0", space)) == names, metric


def test_the_focus_follows_the_tags_not_the_names() -> None:
    """A tunable the strategy renames is still found by its tag; an untagged space gets
    no focus, and the search then explores evenly."""
    space = _finsage_space()
    specs, values = dict(space.specs), dict(space.values)
    specs["DERISK"] = specs.pop("DRAWDOWN_DERISK_FACTOR").model_copy(update={"name": "DERISK"})
    values["DERISK"] = values.pop("DRAWDOWN_DERISK_FACTOR")
    moved = ParamSpace(specs=specs, values=values)
    assert "DERISK" in task_focus("max_drawdown < 10%", moved)
    untagged = ParamSpace(specs={k: v.model_copy(update={"tags": ()})
                                 for k, v in space.specs.items()}, values=space.values)
    review = _review(folds=[{"label": "f1", "sharpe": 0.5, "max_drawdown": 0.25,
                             "reward": -0.7}])
    notes, focus = diagnose(review, space=untagged, target_volatility=0.12,
                            drawdown_trigger=0.15)
    assert notes and focus == {} and task_focus("max_drawdown < 10%", untagged) == {}


def test_finsage_declares_only_tags_of_its_vocabulary() -> None:
    from strategy.parameters import PARAMETER_SPACE, TAGS, ParameterSpec

    used = {tag for spec in PARAMETER_SPACE.values() for tag in spec.tags}
    asked = {*GOAL_METRICS, "drawdown", "conviction", "rebalancing", "risk-window",
             "smoothing", "driver"}  # every tag the Quant's review asks for
    assert used <= set(TAGS) and asked <= used
    with pytest.raises(ValueError, match="unknown tag"):
        ParameterSpec(name="X", kind="float", low=0, high=1, description="x",
                      tags=("drawdwon",))


def test_choose_hypothesis_describes_the_change() -> None:
    hypothesis = choose_hypothesis(review=_review(), space=SPACE, trials=[], tried=set(),
                                   lam=5.0)
    assert hypothesis is not None and hypothesis.kind == "parameters"
    [edit] = hypothesis.edits
    assert edit.name in hypothesis.statement and hypothesis.slug
    # The one-line headline (PR titles, commit subjects) is the move itself.
    assert hypothesis.headline == hypothesis.title
    assert hypothesis.headline.endswith(f"{edit.name} from {edit.old!r} to {edit.new!r}")
    assert hypothesis.statement.startswith(hypothesis.headline + " to lift")
    every = {c.key for c in propose_candidates(SPACE, set())}
    assert choose_hypothesis(review=_review(), space=SPACE, trials=[], tried=every,
                             lam=5.0) is None


def test_a_move_back_to_a_measured_point_is_not_proposed() -> None:
    # main moved TILT from 0.55 to 0.5; going back to 0.55 would measure a known point.
    trials = [Trial(key="old-main", values={**SPACE.values, "TILT": 0.55}, reward=0.1),
              Trial(key="main", values=dict(SPACE.values), reward=0.2)]
    back = next(c for c in propose_candidates(SPACE, set())
                if c.edits[0].name == "TILT" and c.edits[0].new == 0.55)
    others = {c.key for c in propose_candidates(SPACE, set())} - {back.key}
    assert choose_hypothesis(review=_review(), space=SPACE, trials=trials, tried=others,
                             lam=5.0) is None
    assert choose_hypothesis(review=_review(), space=SPACE, trials=trials[1:],
                             tried=others, lam=5.0).key == back.key


def test_a_tunable_moved_before_loses_some_of_its_pull() -> None:
    review = _review(focus={"TILT": 1.0, "LOOKBACK": 0.6})

    def first_move(trials: list[Trial]) -> str:
        found = choose_hypothesis(review=review, space=SPACE, trials=trials, tried=set(),
                                  lam=5.0)
        assert found is not None
        return found.edits[0].name

    assert first_move([]) == "TILT"
    # One measured point already moved TILT: the review's second pointer gets its turn.
    assert first_move([Trial(key="old", values={**SPACE.values, "TILT": 0.4}, reward=0.1)]) \
        == "LOOKBACK"


def test_moves_that_merge_without_a_human_come_first() -> None:
    numeric = ParamSpace(specs={k: v for k, v in SPACE.specs.items() if k != "METHOD"},
                         values={k: v for k, v in SPACE.values.items() if k != "METHOD"})
    # The history pulls hard toward a much larger TILT: the unconstrained search proposes
    # a step beyond 20% (a quarter of the range: +50%), which the merge policy would send
    # to a human.
    trials = [Trial(key=f"t{i}", values={**numeric.values, "TILT": t}, reward=r)
              for i, (t, r) in enumerate([(0.3, 0.0), (0.5, 0.3), (0.65, 0.9)])]

    def choose(tried: set[str], limit: float | None) -> Hypothesis:
        found = choose_hypothesis(review=_review(), space=numeric, trials=trials,
                                  tried=tried, lam=5.0, autonomy_limit=limit)
        assert found is not None
        return found

    assert choose(set(), None).edits[0].relative_change > 0.2
    within = choose(set(), 0.2)
    assert within.edits[0].relative_change <= 0.2 and within.search["needs_human"] is False
    # Once every small move is tried, a larger one is proposed and says it needs a human.
    small = {c.key for c in propose_candidates(numeric, set())
             if c.edits[0].relative_change <= 0.2}
    gated = choose(small, 0.2)
    assert gated.edits[0].relative_change > 0.2 and gated.search["needs_human"] is True
    assert "needs a human's approval" in gated.rationale


#: A rebalance band of 0.02 in 0-0.2 (small against its range) beside a tilt at 0.5 in
#: 0-1, tagged as levers on turnover and on the Sharpe ratio.
BAND_SPACE = ParamSpace(
    specs={
        "BAND": ParamSpec(name="BAND", kind="float", low=0.0, high=0.2, description="band",
                          tags=("rebalancing", "turnover")),
        "TILT": ParamSpec(name="TILT", kind="float", low=0.0, high=1.0, description="tilt",
                          tags=("conviction", "sharpe")),
    },
    values={"BAND": 0.02, "TILT": 0.5},
)


def test_a_small_value_moves_by_a_measurable_part_of_its_range() -> None:
    moves = {float(c.edits[0].new): c for c in propose_candidates(BAND_SPACE, set())
             if c.edits[0].name == "BAND"}
    # Steps of the value alone stay within 0.014-0.026: 3% of the range at most.
    assert max(c.size for v, c in moves.items() if 0.014 <= v <= 0.026) < MEASURABLE
    # Steps of the range reach a quarter of it, and say so.
    assert moves[0.07].size == pytest.approx(0.25) and moves[0.07].inward
    assert moves[0.04].size == pytest.approx(0.1) and moves[0.0].size == pytest.approx(0.1)
    assert not moves[0.0].inward  # toward the edge of the range
    assert all(0.0 <= v <= 0.2 for v in moves)
    # Without history the larger inward move leads the band's moves.
    assert rank_candidates(BAND_SPACE, list(moves.values()), [])[0].edits[0].new == 0.07


def test_a_tasks_goal_puts_its_tunables_first() -> None:
    # The review points hard at TILT; the task asks for less turnover.
    from alphaloop.records import TaskRef
    review = _review(focus={"TILT": 1.0})
    task = TaskRef(id="T-004", title="Trade less", priority="low", goal="turnover < 1.5")
    found = choose_hypothesis(review=review, space=BAND_SPACE, trials=[], tried=set(),
                              lam=5.0, task=task, autonomy_limit=0.2)
    assert found is not None and found.edits[0].name == "BAND"
    assert found.search["aimed"] is True and found.search["range_share"] >= MEASURABLE
    assert "declares BAND a lever on turnover, which T-004's goal names" in found.rationale
    assert "The review points here" not in found.rationale  # it points at TILT only
    # No move of the band within the 20% rule is measurable: its measurable move comes at
    # once, marked as needing a person, and the rationale says why.
    assert found.search["needs_human"] is True and found.edits[0].new == 0.07
    assert "too little to change a walk-forward figure beyond noise" in found.rationale
    # Where the review points at one of the task's levers, the levers still count alike:
    # the largest measurable move toward the middle of a range leads.
    tilt = BAND_SPACE.specs["TILT"].model_copy(update={"tags": ("turnover",)})
    both = ParamSpace(specs={**BAND_SPACE.specs, "TILT": tilt}, values=BAND_SPACE.values)
    alike = choose_hypothesis(review=review, space=both, trials=[], tried=set(), lam=5.0,
                              task=task, autonomy_limit=0.2)
    assert alike is not None and alike.edits[0].new == 0.07
    # Without a task the review's pointer leads, with a move that merges alone.
    free = choose_hypothesis(review=review, space=BAND_SPACE, trials=[], tried=set(),
                             lam=5.0, autonomy_limit=0.2)
    assert free is not None and free.edits[0].name == "TILT"
    assert free.search["needs_human"] is False and free.search["aimed"] is False
    # Once the band's moves are tried, the task's tunables are exhausted and others follow;
    # nothing tried is proposed again.
    band = {c.key for c in propose_candidates(BAND_SPACE, set()) if c.edits[0].name == "BAND"}
    after = choose_hypothesis(review=review, space=BAND_SPACE, trials=[], tried=band,
                              lam=5.0, task=task, autonomy_limit=0.2)
    assert after is not None and after.edits[0].name == "TILT" and after.key not in band


def test_the_schedule_orders_but_never_drops_a_candidate() -> None:
    ranked = rank_candidates(BAND_SPACE, propose_candidates(BAND_SPACE, set()), [])
    ordered = schedule(ranked, aimed={"TILT"}, autonomous=lambda c: c.edits[0].relative_change
                       is not None and c.edits[0].relative_change <= 0.2)
    assert sorted(c.key for c in ordered) == sorted(c.key for c in ranked)
    names = [c.edits[0].name for c in ordered]
    assert names == sorted(names, key=lambda n: n != "TILT")  # the aimed tunable first
    tilt = [c for c in ordered if c.edits[0].name == "TILT"]
    # TILT can move measurably within 20%: those moves come before its larger ones.
    first_gated = next(i for i, c in enumerate(tilt) if c.edits[0].relative_change > 0.2)
    assert all(c.edits[0].relative_change <= 0.2 for c in tilt[:first_gated])
    assert first_gated > 0


def test_on_finsage_a_turnover_goal_leads_to_a_measurable_turnover_lever() -> None:
    from alphaloop.records import TaskRef
    space = _finsage_space()
    task = TaskRef(id="T-004", title="Trade less", priority="low", goal="turnover < 1.5")
    found = choose_hypothesis(review=_review(), space=space, trials=[], tried=set(),
                              lam=5.0, task=task, autonomy_limit=0.2)
    assert found is not None
    [edit] = found.edits
    assert "turnover" in space.specs[edit.name].tags
    assert found.search["range_share"] >= MEASURABLE


def _finsage_copy(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(PROJECT / "strategy", root / "strategy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize("change", CATALOGUE, ids=lambda c: c.name)
def test_structural_changes_apply_to_finsage_and_pass_the_policy(tmp_path: Path,
                                                                 change) -> None:
    root = _finsage_copy(tmp_path)
    apply_structural(root, change.name)
    # the change plugs into the seam the strategy declares; the engine is not edited
    engine = (root / "strategy" / "engine.py").read_text()
    assert engine == (PROJECT / "strategy" / "engine.py").read_text()
    assert active_overlays((root / ACTIVE).read_text()) == (change.name,)
    assert (root / "strategy" / "overlays" / f"{change.name}.py").is_file()
    blocking = [f for f in check_strategy_package(root, load_policies(PROJECT))
                if f.severity >= 2]
    assert blocking == []


def test_structural_changes_compose_and_run_in_the_sandbox(tmp_path: Path) -> None:
    root = _finsage_copy(tmp_path)
    for change in CATALOGUE:
        apply_structural(root, change.name)
    sources = {p.relative_to(root).as_posix(): p.read_text()
               for p in (root / "strategy").rglob("*.py")}
    with pytest.raises(ValueError, match="no overlay seam"):
        patched_sources({}, CATALOGUE[0])
    with pytest.raises(ValueError, match="active already"):
        patched_sources(sources, CATALOGUE[0])
    data = SyntheticSource(SyntheticConfig(years=3)).load()
    weights = []
    with SandboxedStrategy(open_sandbox(), checkout=root, scratch=tmp_path / "s") as strat:
        for position in (400, 500, 600):
            view = data.view(position, 300)
            state = PortfolioState(as_of=view.as_of, weights={}, cash=1.0, value=1.0,
                                   peak_value=1.25)  # 20% below peak: the brake bites
            decision = strat.decide(view, state)
            weights.append(validate_weights(decision, data.tickers, as_of=view.as_of))
    assert all(np.isfinite(w).all() and 0 < w.sum() <= 1 for w in weights)
    assert all(w.sum() <= 0.6 * 1.0 + 1e-9 for w in weights)  # the drawdown brake's floor
    # each overlay module, the package and its registry, which lists them in order
    assert sum("overlays" in path for path in sources) == len(CATALOGUE) + 2
    assert active_overlays(sources[ACTIVE]) == tuple(c.name for c in CATALOGUE)
    assert pd.Timestamp(data.dates[600]) > pd.Timestamp(data.dates[400])


def test_overlays_apply_in_order_to_the_weights_the_engine_returns(tmp_path: Path) -> None:
    """The seam is what wrapping the engine's return was: overlay after overlay on the
    weights the engine would return without them."""
    import importlib.util

    plain, patched = _finsage_copy(tmp_path / "plain"), _finsage_copy(tmp_path / "patched")
    order = ("trend_filter", "drawdown_brake")
    for name in order:
        apply_structural(patched, name)
    modules = []
    for name in order:
        path = patched / "strategy" / "overlays" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"overlay_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    data = SyntheticSource(SyntheticConfig(years=3)).load()
    view = data.view(500, 300)
    state = PortfolioState(as_of=view.as_of, weights={}, cash=1.0, value=1.0, peak_value=1.2)
    with SandboxedStrategy(open_sandbox(), checkout=plain, scratch=tmp_path / "a") as strat:
        expected = dict(strat.decide(view, state).weights)
    for module in modules:
        expected = module.apply(expected, view, state)
    with SandboxedStrategy(open_sandbox(), checkout=patched, scratch=tmp_path / "b") as strat:
        assert dict(strat.decide(view, state).weights) == expected


def test_the_overlay_registry_is_read_and_written_as_data() -> None:
    declared = (PROJECT / ACTIVE).read_text()
    assert active_overlays(declared) == () and render_active(()) == declared
    for names in (("trend_filter",), ("trend_filter", "drawdown_brake"),
                  tuple(f"overlay_with_a_rather_long_name_{i}" for i in range(4))):
        assert active_overlays(render_active(names)) == names
        assert all(len(line) <= 100 for line in render_active(names).splitlines())
    for bad in ("ACTIVE = [trend_filter]\n", "OTHER = ()\n", "ACTIVE = (trend_filter, 1)\n"):
        with pytest.raises(ValueError, match="ACTIVE"):
            active_overlays(bad)
    # a strategy that declares no seam is offered no structural change
    assert applicable_changes({"strategy/engine.py": "..."}, ["drawdown"]) == []


# -- what the data can express --------------------------------------------------------------

def _tagged_space() -> ParamSpace:
    """A space with FinSage's requirement tags on a few tunables."""
    specs = {
        "HEDGE_VIX_TRIGGER": ParamSpec(name="HEDGE_VIX_TRIGGER", kind="float", low=12,
                                       high=60, requires=("macro:VIX",)),
        "CRYPTO_WEIGHT_ADOPTION": ParamSpec(
            name="CRYPTO_WEIGHT_ADOPTION", kind="float", low=0, high=3,
            requires=("class:crypto", "fundamental:adoption")),
        "STOCK_WEIGHT_VALUE": ParamSpec(
            name="STOCK_WEIGHT_VALUE", kind="float", low=0, high=3,
            requires=("class:stocks", "fundamental:book_to_market|fundamental:earnings_yield")),
        "STOCK_WEIGHT_SIZE": ParamSpec(name="STOCK_WEIGHT_SIZE", kind="float", low=0, high=3,
                                       requires=("class:stocks", "fundamental:market_cap|volume")),
        "FACTOR_WEIGHT": ParamSpec(name="FACTOR_WEIGHT", kind="float", low=0, high=1,
                                   requires=("llm",)),
        "SIZING_METHOD": ParamSpec(name="SIZING_METHOD", kind="choice",
                                   choices=("risk_parity", "kelly")),
        "KELLY_FRACTION": ParamSpec(name="KELLY_FRACTION", kind="float", low=0.05, high=1,
                                    acts_when={"SIZING_METHOD": ("kelly",)}),
        "TILT": ParamSpec(name="TILT", kind="float", low=0.0, high=1.0),
    }
    values = {"HEDGE_VIX_TRIGGER": 25.0, "CRYPTO_WEIGHT_ADOPTION": 1.0,
              "STOCK_WEIGHT_VALUE": 1.0, "STOCK_WEIGHT_SIZE": 0.5, "FACTOR_WEIGHT": 0.4,
              "SIZING_METHOD": "risk_parity", "KELLY_FRACTION": 0.5, "TILT": 0.5}
    return ParamSpace(specs=specs, values=values)


def _prices_only(data):
    """``data`` as a file of ETF prices would hold it: stocks and bonds, volume, nothing else."""
    from alphaloop.data.panel import MarketData
    keep = [i for i, a in enumerate(data.assets) if a.asset_class in ("stocks", "bonds")]
    return MarketData(dates=data.dates, assets=tuple(data.assets[i] for i in keep),
                      prices=data.prices[:, keep], volumes=data.volumes[:, keep],
                      source="prices-only")


def test_the_data_tags_name_classes_series_fields_and_volume() -> None:
    from alphaloop.roles.quant.prune import data_capabilities
    data = SyntheticSource(SyntheticConfig(years=2)).load()
    tags = data_capabilities(data)
    assert {"class:crypto", "macro:VIX", "fundamental:book_to_market", "volume"} <= tags
    assert "llm" not in tags and "llm" in data_capabilities(data, llm=True)
    narrow = data_capabilities(_prices_only(data))
    assert narrow == {"class:stocks", "class:bonds", "volume"}


def test_tunables_the_data_cannot_move_are_pruned_with_the_reason() -> None:
    from alphaloop.roles.quant.prune import data_capabilities, inert_tunables
    data = _prices_only(SyntheticSource(SyntheticConfig(years=2)).load())
    inert = inert_tunables(_tagged_space(), data_capabilities(data))
    assert inert == {
        "HEDGE_VIX_TRIGGER": "needs the macro series VIX, which the data lacks",
        "CRYPTO_WEIGHT_ADOPTION": "needs crypto assets, which the universe lacks",
        "STOCK_WEIGHT_VALUE": "needs one of fundamental:book_to_market, "
                              "fundamental:earnings_yield, which the data lacks",
        "FACTOR_WEIGHT": "acts only with an LLM (the engine runs factor-only here)",
        "KELLY_FRACTION": "acts only when SIZING_METHOD is kelly (now risk_parity)",
    }, "size keeps its volume proxy; TILT and SIZING_METHOD need nothing"
    full = SyntheticSource(SyntheticConfig(years=2)).load()
    assert set(inert_tunables(_tagged_space(), data_capabilities(full))) == {
        "FACTOR_WEIGHT", "KELLY_FRACTION"}


def test_the_search_leaves_pruned_tunables_alone_and_says_so() -> None:
    pruned = {"HEDGE_VIX_TRIGGER": "needs the macro series VIX, which the data lacks"}
    space = _tagged_space()
    every = {c.key for c in propose_candidates(space, set())
             if c.edits[0].name != "HEDGE_VIX_TRIGGER"}
    assert choose_hypothesis(review=_review(), space=space, trials=[], tried=every, lam=5.0,
                             pruned=pruned) is None, "only the pruned tunable was left"
    hypothesis = choose_hypothesis(review=_review(), space=space, trials=[], tried=set(),
                                   lam=5.0, pruned=pruned)
    assert hypothesis is not None and hypothesis.edits[0].name != "HEDGE_VIX_TRIGGER"
    assert "HEDGE_VIX_TRIGGER (needs the macro series VIX" in hypothesis.rationale
    assert hypothesis.search["pruned"] == pruned


def test_the_rationale_names_the_task_goal_and_mains_figure() -> None:
    from alphaloop.records import TaskRef
    task = TaskRef(id="T-001", title="Cut the drawdown", priority="high",
                   goal="max_drawdown < 10%")
    hypothesis = choose_hypothesis(review=_review(), space=SPACE, trials=[], tried=set(),
                                   lam=5.0, task=task)
    assert hypothesis is not None
    assert hypothesis.statement.endswith(
        "to move max_drawdown toward T-001's goal (max_drawdown < 10%)")
    assert hypothesis.rationale.startswith(
        "T-001 (Cut the drawdown) asks for max_drawdown < 10%; main's in-sample "
        "max_drawdown 12.0% (not met).")


def test_finsage_declares_its_requirements_in_the_known_vocabulary() -> None:
    from alphaloop.roles.quant.prune import inert_tunables
    from strategy.parameters import PARAMETER_SPACE
    space = ParamSpace(
        specs={n: ParamSpec.model_validate(s.model_dump(mode="json"))
               for n, s in PARAMETER_SPACE.items()},
        values={"SIZING_METHOD": "risk_parity"})
    real_like = {"class:stocks", "class:bonds", "class:commodities", "class:reits", "volume"}
    inert = inert_tunables(space, real_like)
    assert "HEDGE_VIX_TRIGGER" in inert and "CRYPTO_WEIGHT_CRASH_RISK" in inert
    assert "STOCK_WEIGHT_VALUE" in inert and "BOND_WEIGHT_CARRY" in inert
    assert "STOCK_WEIGHT_MOMENTUM" not in inert and "STOCK_WEIGHT_SIZE" not in inert
    assert "REBALANCE_THRESHOLD" not in inert and "KELLY_FRACTION" in inert


def test_structural_changes_that_read_missing_data_are_not_proposed() -> None:
    sources = {ACTIVE: render_active(())}
    every = {c.name for c in applicable_changes(sources, ["drawdown"])}
    assert every == {c.name for c in CATALOGUE}
    without_vix = {c.name for c in applicable_changes(sources, ["drawdown"],
                                                      {"class:stocks", "volume"})}
    assert "vol_regime_overlay" not in without_vix and without_vix
    with_vix = {c.name for c in applicable_changes(sources, ["drawdown"],
                                                   {"class:stocks", "macro:VIX"})}
    assert with_vix == every
