"""The calibration search: which move in the parameter space to try next.

This is the "action" step of the self-calibration loop (diagnosis -> reward -> action).
Candidates are small moves of one tunable (and switches of a choice) away from the
values on ``main``; the ledger's trials (parameter vectors and the in-sample walk-forward
reward the Risk review measured for them) train a Gaussian-process surrogate, and the
candidate with the largest expected improvement over the best reward seen so far wins.
The diagnosis adds a prior bonus to moves of the tunables it points at. A candidate whose
change was tried before is never proposed again.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.stats import norm

from alphaloop.evaluation.space import ParamSpace, ParamSpec
from alphaloop.records import ParamEdit, Trial

__all__ = ["Candidate", "change_key", "propose_candidates", "rank_candidates"]

#: Relative steps tried for numeric tunables. The 30% moves pass the default merge
#: policy's 20% human-approval rule, so the Quant proposes them only once the smaller
#: ones near main are tried (see ``choose_hypothesis``).
STEPS = (-0.15, 0.15, -0.10, 0.10, -0.30, 0.30)



class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    edits: tuple[ParamEdit, ...]
    prior: float = 0.0
    mean: float = 0.0
    std: float = 0.0
    acquisition: float = 0.0


def change_key(edits: Iterable[ParamEdit] = (), patch_name: str | None = None) -> str:
    """Identity of a change: the same edits (or patch) give the same key."""
    body = {"edits": sorted((e.name, e.new) for e in edits), "patch": patch_name}
    return hashlib.sha256(json.dumps(body, default=str).encode()).hexdigest()[:16]



def _moved(spec: ParamSpec, value: float | int | str, step: float) -> float | int | None:
    assert spec.low is not None and spec.high is not None
    base = float(value)
    target = base * (1 + step) if base != 0 else spec.low + (spec.high - spec.low) * abs(step)
    target = min(max(target, spec.low), spec.high)
    if spec.kind == "int":
        rounded = round(target)
        if rounded == int(base):
            rounded = int(base) + (1 if step > 0 else -1)
        if not spec.low <= rounded <= spec.high:
            return None
        return int(rounded)
    # A value a person would write (0.614, not 0.614125), still inside the range.
    target = min(max(float(f"{target:.3g}"), spec.low), spec.high)
    if math.isclose(target, base, rel_tol=1e-9, abs_tol=1e-12):
        return None
    return target


def propose_candidates(space: ParamSpace, tried: set[str],
                       focus: Mapping[str, float] | None = None) -> list[Candidate]:
    """Every single-tunable move from the current values not tried before."""
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
        for target in dict.fromkeys(targets):
            edits = (ParamEdit(name=name, old=current, new=target),)
            key = change_key(edits)
            if key in tried:
                continue
            out.append(Candidate(key=key, edits=edits, prior=focus.get(name, 0.0)))
    return out


def _gp_posterior(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                  length_scale: float = 0.25, noise: float = 0.05) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-0.5 * d2 / length_scale**2)

    mean_y, std_y = float(y_train.mean()), float(y_train.std()) or 1.0
    y = (y_train - mean_y) / std_y
    k = kernel(x_train, x_train) + noise * np.eye(len(x_train))
    chol = np.linalg.cholesky(k)
    alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y))
    k_star = kernel(x_test, x_train)
    mu = k_star @ alpha
    v = np.linalg.solve(chol, k_star.T)
    var = np.clip(1.0 - (v**2).sum(0), 1e-12, None)
    return mu * std_y + mean_y, np.sqrt(var) * std_y


def rank_candidates(space: ParamSpace, candidates: Sequence[Candidate],
                    trials: Sequence[Trial], *, prior_scale: float = 0.05) -> list[Candidate]:
    """Score candidates by expected improvement (plus the diagnosis prior), best first."""
    if not candidates:
        return []

    def full(c: Candidate) -> dict[str, float | int | str]:
        values = dict(space.values)
        values.update({e.name: e.new for e in c.edits})
        return values

    x_test = np.array([space.vector(full(c)) for c in candidates])
    usable = [t for t in trials if math.isfinite(t.reward)]
    if len(usable) >= 2:
        x_train = np.array([space.vector(t.values) for t in usable])
        y_train = np.array([t.reward for t in usable])
        mu, sd = _gp_posterior(x_train, y_train, x_test)
        best = float(y_train.max())
        z = (mu - best) / sd
        ei = (mu - best) * norm.cdf(z) + sd * norm.pdf(z)
        scale = float(y_train.std()) or 1.0
    else:
        mu, sd = np.zeros(len(candidates)), np.ones(len(candidates))
        ei, scale = np.zeros(len(candidates)), 1.0
    scored = [
        c.model_copy(update={"mean": float(m), "std": float(s),
                             "acquisition": float(e + prior_scale * scale * c.prior)})
        for c, m, s, e in zip(candidates, mu, sd, ei, strict=True)
    ]
    return sorted(scored, key=lambda c: (-c.acquisition, -c.prior, c.key))
