"""How many distinct trials a comparison has had, and distinct return series.

The confidence of the improvement test is deflated by the number of distinct trials
against the same ``main``: every branch Risk has reviewed whose base had this strategy
tree, counted once per strategy tree (the same code tried twice is one trial), this one
included. Branches identical to ``main`` are not trials: their returns are ``main``'s. A
merge starts a new ``main`` and so a new family of comparisons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["distinct_series", "distinct_trials"]


def distinct_trials(entries: Iterable[Mapping[str, Any]], *, base_tree: str,
                    head_tree: str) -> int:
    """Distinct strategy trees reviewed against a ``main`` of ``base_tree``, this one
    (``head_tree``) included; at least 1."""
    trees = {head_tree}
    for entry in entries:
        review = (entry.get("records") or {}).get("risk_review") or {}
        if (review.get("base_tree") == base_tree and review.get("head_tree")
                and not review.get("identical_to_main")):
            trees.add(str(review["head_tree"]))
    return max(1, len(trees))


def distinct_series(series: Iterable[np.ndarray], *,
                    same_correlation: float | None = None) -> list[np.ndarray]:
    """``series`` with duplicates dropped (first kept, order preserved).

    Identical return series are one configuration: counting them twice lets float noise
    decide a ranking between copies. With ``same_correlation``, a series whose daily
    returns correlate at least that much with one already kept is a near-copy and is
    dropped too (a constant series is compared only by identity).
    """
    seen: set[bytes] = set()
    out: list[np.ndarray] = []
    for values in series:
        array = np.ascontiguousarray(values, dtype=float)
        key = array.shape[0].to_bytes(8, "little") + array.tobytes()
        if key in seen:
            continue
        if same_correlation is not None and any(
                _correlation(array, kept) >= same_correlation for kept in out):
            continue
        seen.add(key)
        out.append(array)
    return out


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape or a.size < 3 or not (np.std(a) > 0 and np.std(b) > 0):
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
