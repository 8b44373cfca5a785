"""Turning what a strategy hands back (records, state) into plain JSON values."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

__all__ = ["jsonable"]


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable ({value!r:.80})")


def jsonable(value: dict[str, Any], *, keep_non_finite: bool) -> dict[str, Any]:
    """A deep copy of ``value`` made of JSON types only (dict keys become strings).

    NumPy values become Python numbers and lists, dates ISO strings, pydantic models
    dicts. Non-finite floats stay NaN/inf with ``keep_non_finite`` and become ``None``
    otherwise. Raises ``TypeError`` for anything else.
    """
    if not value:
        return {}
    text = json.dumps(value, default=_default, allow_nan=True)
    if keep_non_finite:
        return json.loads(text)
    return json.loads(text, parse_constant=lambda _name: None)
