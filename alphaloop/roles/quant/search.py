"""The calibration search: which move in the parameter space to try next.

This is the "action" step of the self-calibration loop (diagnosis -> reward -> action).
Candidates are moves of one tunable (and switches of a choice) away from the values on
``main``, of two kinds: steps relative to the current value (``STEPS``), and steps relative
to the tunable's declared range (``RANGE_STEPS``), so that a tunable whose value is small
next to its range (a rebalance band of 0.02 in 0-0.2) can still move by an amount that
shows in a backtest. Each candidate records its ``size``: the share of the range it moves.

The ledger's trials (parameter vectors and the in-sample walk-forward figures the Risk
review measured for them) train a Gaussian-process surrogate of the objective (the
reward unless a task or ``policies/search.toml`` names another figure) whose kernel is
fitted to them by maximum likelihood (scikit-learn), and the candidate with the largest
expected improvement over the best value seen so far wins; a prior bonus goes to
moves of the tunables the task's goal or the review's diagnosis points at (``focus``,
see :func:`~.hypothesize.choose_hypothesis`). :func:`schedule` then puts
the candidates in the order to try them: moves of the tunables the task aims at first,
moves large enough to measure before smaller ones, and a move that needs a human's
approval after the moves of the same tunable that do not, where those are large enough to
measure. A candidate whose change was tried before is never proposed again.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.stats import norm

from alphaloop.evaluation.space import ParamSpace, ParamSpec
from alphaloop.policy import SearchSteering
from alphaloop.records import ParamEdit, Trial

__all__ = ["MEASURABLE", "RANGE_STEPS", "STEPS", "Candidate", "change_key",
           "propose_candidates", "rank_candidates", "schedule"]

#: Steps relative to a numeric tunable's current value. The 30% moves pass the default
#: merge policy's 20% human-approval rule (see :func:`schedule`).
STEPS = (-0.15, 0.15, -0.10, 0.10, -0.30, 0.30)

#: Steps as shares of a numeric tunable's declared range, each way: a quarter of the
#: range to see whether the tunable matters at all, a tenth to refine. Moves of a few
#: percent of a value can be too small to change a walk-forward figure beyond noise
#: (``benchmarks/results/research-measure.md``).
RANGE_STEPS = (0.25, 0.10)

#: The smallest share of its range a move must span to count as measurable; smaller
#: moves are proposed only after every measurable one of the same standing.
MEASURABLE = 0.05


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    edits: tuple[ParamEdit, ...]
    size: float = 1.0
    """The share of its declared range the move spans (a switch of a choice: 1)."""
    inward: bool = True
    """Whether the move heads toward the middle of the range (a switch: True)."""
    prior: float = 0.0
    mean: float = 0.0
    std: float = 0.0
    acquisition: float = 0.0
    kernel: str = ""
    """The surrogate's kernel as fitted to the trials ("" before two trials)."""


def change_key(edits: Iterable[ParamEdit] = (), patch_name: str | None = None) -> str:
    """Identity of a change: the same edits (or patch) give the same key."""
    body = {"edits": sorted((e.name, e.new) for e in edits), "patch": patch_name}
    return hashlib.sha256(json.dumps(body, default=str).encode()).hexdigest()[:16]


def _moved(spec: ParamSpec, value: float | int | str, step: float) -> float | int | None:
    """``value`` moved by ``step`` of itself (from zero: by that share of the range); an
    int moves by at least one."""
    assert spec.low is not None and spec.high is not None
    base = float(value)
    target = base * (1 + step) if base != 0 else spec.low + (spec.high - spec.low) * abs(step)
    if spec.kind == "int":
        rounded = round(min(max(target, spec.low), spec.high))
        if rounded == int(base):
            rounded = int(base) + (1 if step > 0 else -1)
        return int(rounded) if spec.low <= rounded <= spec.high else None
    return _person(spec, target, base)


def _person(spec: ParamSpec, target: float, base: float) -> float | int | None:
    """``target`` clamped to the range and written as a person would (an int rounded,
    a float to three significant digits); None when that is no move at all."""
    assert spec.low is not None and spec.high is not None
    target = min(max(target, spec.low), spec.high)
    if spec.kind == "int":
        rounded = round(target)
        return None if rounded == round(base) else int(rounded)
    target = min(max(float(f"{target:.3g}"), spec.low), spec.high)
    if math.isclose(target, base, rel_tol=1e-9, abs_tol=1e-12):
        return None
    return target


def _shifted(spec: ParamSpec, value: float | int | str, share: float) -> float | int | None:
    """``value`` moved by ``share`` of the declared range (negative: down)."""
    assert spec.low is not None and spec.high is not None
    base = float(value)
    return _person(spec, base + share * (spec.high - spec.low), base)


def _size(spec: ParamSpec, old: float | int | str, new: float | int | str) -> tuple[float,
                                                                                      bool]:
    """The share of the range a numeric move spans, and whether it heads inward."""
    if spec.kind == "choice" or spec.low is None or spec.high is None \
            or spec.high <= spec.low:
        return 1.0, True
    middle = (spec.low + spec.high) / 2
    span = abs(float(new) - float(old)) / (spec.high - spec.low)
    return span, abs(float(new) - middle) < abs(float(old) - middle)


def propose_candidates(space: ParamSpace, tried: set[str],
                       focus: Mapping[str, float] | None = None) -> list[Candidate]:
    """Every single-tunable move from the current values not tried before: the steps of
    the value and of the range, each target once."""
    focus = focus or {}
    out: list[Candidate] = []
    for name, spec in sorted(space.specs.items()):
        current = space.values.get(name)
        if current is None:
            continue
        if spec.kind == "choice":
            targets: list[float | int | str] = [c for c in spec.choices if c != current]
        else:
            targets = [t for s in STEPS if (t := _moved(spec, current, s)) is not None]
            targets += [t for share in RANGE_STEPS for sign in (1, -1)
                        if (t := _shifted(spec, current, sign * share)) is not None]
        for target in dict.fromkeys(targets):
            edits = (ParamEdit(name=name, old=current, new=target),)
            key = change_key(edits)
            if key in tried:
                continue
            size, inward = _size(spec, current, target)
            out.append(Candidate(key=key, edits=edits, size=size, inward=inward,
                                 prior=focus.get(name, 0.0)))
    return out


def _fit_gp(x_train: np.ndarray, y_train: np.ndarray,
            x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Posterior mean and standard deviation at ``x_test`` of a Gaussian process whose
    kernel (an amplitude, a Matern 5/2 length scale and a noise level) is fitted to the
    trials by maximum likelihood (scikit-learn), in the normalised parameter space; and
    the fitted kernel, as scikit-learn writes it."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    kernel = (ConstantKernel(1.0, (0.1, 10.0)) * Matern(length_scale=0.25,
                                                        length_scale_bounds=(0.1, 5.0),
                                                        nu=2.5)
              + WhiteKernel(noise_level=0.05, noise_level_bounds=(1e-3, 0.5)))
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=4,
                                  random_state=0)
    with warnings.catch_warnings():
        # A handful of trials often puts a hyperparameter at its bound; the fit is still
        # the likeliest within the bounds, and the kernel it settled on is recorded.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x_train, y_train)
        mu, sd = gp.predict(x_test, return_std=True)
    return (np.asarray(mu, dtype=float), np.maximum(np.asarray(sd, dtype=float), 1e-12),
            str(gp.kernel_))


def rank_candidates(space: ParamSpace, candidates: Sequence[Candidate],
                    trials: Sequence[Trial], *, prior_scale: float = 0.05,
                    steering: SearchSteering | None = None) -> list[Candidate]:
    """Score candidates by expected improvement of the objective (``steering``'s; the
    walk-forward reward by default) plus the diagnosis prior, best first."""
    if not candidates:
        return []
    steering = steering or SearchSteering()

    def full(c: Candidate) -> dict[str, float | int | str]:
        values = dict(space.values)
        values.update({e.name: e.new for e in c.edits})
        return values

    x_test = np.array([space.vector(full(c)) for c in candidates])
    scored_trials = [(t, y) for t in trials
                     if (y := steering.score(t.figures())) is not None and math.isfinite(y)]
    if len(scored_trials) >= 2:
        x_train = np.array([space.vector(t.values) for t, _ in scored_trials])
        y_train = np.array([y for _, y in scored_trials])
        mu, sd, kernel = _fit_gp(x_train, y_train, x_test)
        best = float(y_train.max())
        z = (mu - best) / sd
        ei = (mu - best) * norm.cdf(z) + sd * norm.pdf(z)
        scale = float(y_train.std()) or 1.0
    else:
        mu, sd = np.zeros(len(candidates)), np.ones(len(candidates))
        ei, scale, kernel = np.zeros(len(candidates)), 1.0, ""
    scored = [
        c.model_copy(update={"mean": float(m), "std": float(s), "kernel": kernel,
                             "acquisition": float(e + prior_scale * scale * c.prior)})
        for c, m, s, e in zip(candidates, mu, sd, ei, strict=True)
    ]
    # Ties (no history yet): inward before outward, a larger move before a smaller one.
    return sorted(scored, key=lambda c: (-c.acquisition, -c.prior, not c.inward, -c.size,
                                         c.key))


def schedule(ranked: Sequence[Candidate], *, aimed: Collection[str] = (),
             autonomous: Callable[[Candidate], bool] = lambda c: True) -> list[Candidate]:
    """``ranked`` (best first) in the order to try them, the ranking kept within a tier:

    1. moves of a tunable in ``aimed`` (those the task's goal points at) first;
    2. measurable moves (spanning at least :data:`MEASURABLE` of the range) before
       smaller ones;
    3. a move ``autonomous`` rejects (the merge policy sends it to a human) after the
       measurable moves of the same tunable it accepts: an unattended loop keeps going
       where it can, and asks a person only for a move it could not measure otherwise.
    """
    aimed = set(aimed)
    alone = {c.edits[0].name for c in ranked
             if c.size >= MEASURABLE and autonomous(c)}

    def tier(c: Candidate) -> tuple[bool, bool, bool]:
        name = c.edits[0].name
        deferred = not autonomous(c) and name in alone
        return name not in aimed, c.size < MEASURABLE, deferred

    return sorted(ranked, key=tier)
