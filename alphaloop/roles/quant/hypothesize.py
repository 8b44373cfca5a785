"""From a review to one hypothesis: the reward, the search, and the statement.

The parametric hypotheses come from the calibration search (:mod:`.search`): ranked by
the surrogate and the diagnosis, then scheduled so that moves of the tunables the task's
goal points at (by the tags the strategy declares) come first, and moves large enough to
measure before smaller ones; a move that needs a human's approval is proposed where no
move the merge policy lets merge alone would be large enough to measure. Structural
ones (code patches, :mod:`.structural`) are proposed when the diagnosis points at a
weakness a tunable cannot fix and the patch has not been tried. Nothing tried before is
proposed again: every change has a key, and the ledger remembers the keys; nor is a move
back to a parameter vector already measured (such as an earlier ``main``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from alphaloop.evaluation.space import ParamSpace
from alphaloop.policy import SearchSteering
from alphaloop.records import (
    Hypothesis,
    ParamEdit,
    PerformanceReview,
    TaskRef,
    Trial,
    point_key,
)
from alphaloop.roles.quant.claims import claim_for_task
from alphaloop.roles.quant.prune import pruning_note
from alphaloop.roles.quant.rationale import aim, task_sentence
from alphaloop.roles.quant.review import GOAL_METRICS, task_focus
from alphaloop.roles.quant.search import (
    MEASURABLE,
    Candidate,
    change_key,
    propose_candidates,
    rank_candidates,
    schedule,
)
from alphaloop.roles.quant.structural import StructuralChange, applicable_changes

__all__ = ["choose_hypothesis", "slugify"]


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "change"


def _moves(trials: Sequence[Trial], values: Mapping[str, float | int | str]) -> Counter[str]:
    """How many measured points differ from ``values`` in each tunable."""
    return Counter(name for t in trials for name, value in t.values.items()
                   if name in values
                   and point_key({name: value}) != point_key({name: values[name]}))


def _autonomous(c: Candidate, limit: float | None) -> bool:
    """Whether the merge policy lets this move merge without a human (numeric moves of at
    most ``limit`` of their value; a switch of a choice always needs one)."""
    if limit is None:
        return True
    return all((change := e.relative_change) is not None and change <= limit
               for e in c.edits)


def _needs_human_sentence(c: Candidate, spec_range: str, limit: float,
                          measurable_alone: bool) -> str:
    """Why this move asks for a person, in the rationale."""
    if measurable_alone:
        return (f"Every move the merge policy lets merge alone (at most {limit:.0%} of a "
                "value) near main has been tried, so this one needs a human's approval.")
    return (f"A move the merge policy lets merge alone (at most {limit:.0%} of the value) "
            f"would shift {c.edits[0].name} by less than {MEASURABLE:.0%} of its range "
            f"{spec_range}, too little to change a walk-forward figure beyond noise; this "
            f"one moves it by {c.size:.0%} of the range and needs a human's approval.")


def _expected_effect(c: Candidate, review: PerformanceReview, trials: Sequence[Trial],
                     steering: SearchSteering) -> str:
    """What the surrogate expects of a move, in the objective's own terms."""
    name = steering.goal
    sign = 1.0 if steering.direction == "maximize" else -1.0
    observed = [y for t in trials if (y := steering.score(t.figures())) is not None]
    if len(observed) < 2:
        return (f"No history near this point yet; main's walk-forward reward is "
                f"{review.reward:.3f}. Expected: a small change of either sign, "
                "judged by Risk on folds and held-out data.")
    estimate = f"{sign * c.mean:.3f} +/- {c.std:.3f}"
    best = f"best seen {sign * max(observed):.3f}"
    if name == "reward":
        main = f"main {review.reward:.3f}"
        better = c.mean > review.reward
    else:
        here = [y for t in trials if t.key.startswith("main:")
                and (y := steering.score(t.figures())) is not None]
        main = f"main {sign * here[-1]:.3f}" if here else "main not yet measured on it"
        better = bool(here) and c.mean > here[-1]
    if better:
        return f"Surrogate estimate of the walk-forward {name}: {estimate} ({main}, {best})."
    return (f"The surrogate expects no gain in the walk-forward {name} here ({estimate}; "
            f"{main}): the move explores a tunable the review points at, and Risk judges "
            "it on folds and held-out data.")


def _from_pins(moves: Mapping[str, float | int | str], space: ParamSpace,
               review: PerformanceReview, task: TaskRef | None, lam: float) -> Hypothesis:
    """Moving pinned tunables to their pins: what a person asked for, proposed first."""
    edits = tuple(ParamEdit(name=name, old=space.values[name], new=value)
                  for name, value in sorted(moves.items()))
    shown = ", ".join(f"{e.name} from {e.old!r} to {e.new!r}" for e in edits)
    where = f"task {task.id}" if task is not None and _steers(task, moves) \
        else "policies/search.toml"
    title = f"Set {shown}"
    return Hypothesis(
        key=change_key(edits), kind="parameters",
        slug=slugify("pin-" + "-".join(e.name for e in edits)),
        statement=f"{title} to {aim(task, lam)}", title=title,
        rationale=(f"{where} pins {', '.join(f'{e.name} = {e.new!r}' for e in edits)}; "
                   "the search holds pinned tunables at their pins, so it moves them there "
                   "before anything else. " + (task_sentence(task, review) or "")).strip(),
        expected_effect=(f"Whatever the pins do to main's walk-forward reward "
                         f"({review.reward:.3f}); Risk judges the change on folds and "
                         "held-out data like any other."),
        edits=list(edits), search={"policy": "pinned", "pins": dict(moves)})


def _steers(task: TaskRef, names: Collection[str]) -> bool:
    """Whether ``task``'s own lines pin or exclude any of ``names``."""
    return bool(set(names) & set(task.search.names))


def _from_candidate(c: Candidate, space: ParamSpace, review: PerformanceReview,
                    trials: Sequence[Trial], lam: float, considered: int,
                    autonomy_limit: float | None, task: TaskRef | None = None, *,
                    aimed: Collection[str] = (),
                    measurable_alone: bool = True,
                    steering: SearchSteering | None = None) -> Hypothesis:
    edit = c.edits[0]
    spec = space.specs[edit.name]
    direction = ("switch" if spec.kind == "choice" else
                 "raise" if float(edit.new) > float(edit.old) else "lower")
    title = f"{direction.capitalize()} {edit.name} from {edit.old!r} to {edit.new!r}"
    statement = f"{title} to {aim(task, lam)}"
    why = [sentence for sentence in (task_sentence(task, review),) if sentence]
    why.append(f"{edit.name}: {spec.description}.")
    if edit.name in aimed and task is not None:
        levers = ", ".join(t for t in spec.tags if t in GOAL_METRICS and t in task.goal)
        why.append(f"The strategy declares {edit.name} a lever on {levers}, which "
                   f"{task.id}'s goal names.")
    if review.focus.get(edit.name, 0.0) > 0:
        why.append("The review points here: " + "; ".join(review.diagnosis) + ".")
    needs_human = not _autonomous(c, autonomy_limit)
    if needs_human:
        assert autonomy_limit is not None
        why.append(_needs_human_sentence(c, f"{spec.low:g}-{spec.high:g}", autonomy_limit,
                                         measurable_alone))
    effect = _expected_effect(c, review, trials, steering or SearchSteering())
    return Hypothesis(
        key=c.key, kind="parameters", slug=slugify(f"{direction}-{edit.name}"),
        statement=statement, title=title, rationale=" ".join(why), expected_effect=effect,
        edits=list(c.edits),
        search={"policy": "gaussian-process expected improvement",
                "surrogate": "scikit-learn GaussianProcessRegressor, kernel fitted by "
                             "maximum likelihood", "kernel": c.kernel,
                "objective": (steering or SearchSteering()).goal,
                "acquisition": c.acquisition, "prior": c.prior, "mean": c.mean,
                "std": c.std, "trials_observed": len(trials), "candidates": considered,
                "range_share": c.size, "aimed": edit.name in aimed,
                "needs_human": needs_human})


def _from_structural(change: StructuralChange, review: PerformanceReview) -> Hypothesis:
    return Hypothesis(
        key=change_key(patch_name=change.name), kind="patch", slug=slugify(change.name),
        statement=change.statement, rationale=change.rationale + " Review: "
        + "; ".join(review.diagnosis) + ".", expected_effect=change.expected_effect,
        patch_name=change.name, search={"policy": "structural catalogue"})


def choose_hypothesis(*, review: PerformanceReview, space: ParamSpace, trials: Sequence[Trial],
                      tried: set[str], lam: float, exclude: Sequence[str] = (),
                      structural_every: int = 3, cycle_number: int = 1,
                      sources: dict[str, str] | None = None,
                      task: TaskRef | None = None,
                      autonomy_limit: float | None = None,
                      pruned: Mapping[str, str] | None = None,
                      capabilities: Collection[str] | None = None,
                      steering: SearchSteering | None = None) -> Hypothesis | None:
    """The next hypothesis, or None when the whole neighbourhood has been tried.

    Moves of the tunables ``task``'s goal points at come first (see
    :func:`~.search.schedule`), and moves large enough to measure before smaller ones.
    ``autonomy_limit`` is the merge policy's largest relative move of a tunable that
    merges without a human: a tunable's measurable moves within it are proposed before
    its larger ones (and switches of a choice), so an unattended loop keeps going; a
    tunable no move within it can shift measurably (a small value in a wide range) gets
    its measurable move at once, marked as needing a human's approval.
    ``pruned`` are tunables the data cannot move, with the reason (see :mod:`.prune`):
    left out of the search, and named in the rationale. ``capabilities`` (the data's
    tags) keep out structural changes that read data the panel lacks.
    ``steering`` (a task's and the search policy's, see
    :class:`~alphaloop.policy.SearchSteering`) pins and excludes tunables and names the
    objective: a pinned tunable away from its pin is moved there first, and never
    otherwise; an excluded one is never moved.
    """
    steering = steering or SearchSteering()
    pruned = dict(pruned or {})
    off_pin = {name: value for name, value in steering.pins.items()
               if name in space.values
               and point_key({name: value}) != point_key({name: space.values[name]})}
    if off_pin:
        pinned = _from_pins(off_pin, space, review, task, lam)
        if pinned.key not in tried:
            return pinned.model_copy(update={
                "task_id": task.id if task else None,
                "claim": claim_for_task(task, review.metrics)})
    exclude = (*exclude, *pruned, *steering.exclude, *steering.pins)
    if sources is not None and structural_every and cycle_number % structural_every == 0:
        for change in applicable_changes(sources, review.diagnosis, capabilities):
            if change_key(patch_name=change.name) not in tried:
                return _from_structural(change, review).model_copy(
                    update={"task_id": task.id if task else None,
                            "claim": claim_for_task(task, review.metrics, change.claim)})
    usable = ParamSpace(specs={k: v for k, v in space.specs.items() if k not in exclude},
                        values={k: v for k, v in space.values.items() if k not in exclude})
    # The task's goal sets the prior of the tunables it points at, all alike (the strategy
    # declares each a lever on the goal's metric); the review's diagnosis weighs the rest.
    aimed = task_focus(task.goal if task else "", usable)
    focus = {**review.focus, **aimed}
    moved = _moves(trials, space.values)  # ... less for a tunable tried again and again
    focus = {name: weight / (1 + moved[name]) for name, weight in focus.items()}
    # A move back to a point already measured (an earlier main, say) teaches nothing.
    seen = {point_key(t.values) for t in trials}
    candidates = [c for c in propose_candidates(usable, tried, focus)
                  if point_key({**space.values, **{e.name: e.new for e in c.edits}}) not in seen]
    ranked = schedule(rank_candidates(space, candidates, trials, steering=steering),
                      aimed=aimed,
                      autonomous=lambda c: _autonomous(c, autonomy_limit))
    if not ranked:
        return None
    best = ranked[0]
    # Could this tunable move measurably without a human at all (tried or not)?
    measurable_alone = any(c.edits[0].name == best.edits[0].name and c.size >= MEASURABLE
                           and _autonomous(c, autonomy_limit)
                           for c in propose_candidates(usable, set()))
    hypothesis = _from_candidate(best, space, review, trials, lam, len(ranked),
                                 autonomy_limit, task, aimed=aimed,
                                 measurable_alone=measurable_alone, steering=steering)
    note = " ".join(part for part in (pruning_note(pruned), _steering_note(steering)) if part)
    return hypothesis.model_copy(update={
        "task_id": task.id if task else None,
        "claim": claim_for_task(task, review.metrics),
        "rationale": f"{hypothesis.rationale} {note}".strip(),
        "search": {**hypothesis.search, "pruned": dict(sorted(pruned.items())),
                   "steering": steering.model_dump(mode="json")}})


def _steering_note(steering: SearchSteering) -> str:
    """The rationale's sentence on how people steered the search ("" when they did not)."""
    shown = steering.describe()
    return f"Search steered by the task and policies/search.toml: {shown}." if shown else ""
