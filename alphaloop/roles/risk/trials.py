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


def distinct_series(series: Iterable[np.ndarray]) -> list[np.ndarray]:
    """``series`` with exact duplicates dropped (first kept, order preserved).

    Identical return series are one configuration: counting them twice lets float noise
    decide a ranking between copies.
    """
    seen: set[bytes] = set()
    out: list[np.ndarray] = []
    for values in series:
        array = np.ascontiguousarray(values, dtype=float)
        key = array.shape[0].to_bytes(8, "little") + array.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(array)
    return out
