"""What the data can express: the tunables that cannot act on it are left out of the search.

The strategy declares, beside each tunable, what it needs in order to act
(``requires`` tags such as ``macro:VIX``, ``class:crypto``, ``fundamental:yield``,
``volume`` or ``llm``; ``acts_when`` for choices of other tunables). The Quant reads the
data's own tags here, and leaves alone every tunable whose requirements the data does
not meet: moving it would change nothing, and a trial of nothing only adds noise to the
search and to the trial count Risk deflates by.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from alphaloop.data.panel import MarketData
from alphaloop.evaluation.space import ParamSpace, ParamSpec

__all__ = ["data_capabilities", "inert_tunables", "pruning_note"]


def data_capabilities(data: MarketData, *, llm: bool = False) -> frozenset[str]:
    """The tags ``data`` holds: its classes, macro series and fundamentals with at least
    one finite value, ``volume`` when some volume is positive, and ``llm`` when asked."""
    tags = {f"class:{a.asset_class}" for a in data.assets}
    tags |= {f"macro:{name}" for name, series in data.macro.items()
             if np.isfinite(series).any()}
    tags |= {f"fundamental:{name}" for name, values in data.fundamentals.items()
             if np.isfinite(values).any()}
    volumes = np.asarray(data.volumes, dtype=float)
    if (np.nan_to_num(volumes, nan=0.0) > 0).any():
        tags.add("volume")
    if llm:
        tags.add("llm")
    return frozenset(tags)


def _missing(tag: str) -> str:
    kind, _, name = tag.partition(":")
    return {
        "llm": "acts only with an LLM (the engine runs factor-only here)",
        "volume": "needs traded volumes, which the data lacks",
        "macro": f"needs the macro series {name}, which the data lacks",
        "class": f"needs {name} assets, which the universe lacks",
        "fundamental": f"needs the fundamental field {name}, which the data lacks",
    }.get(kind, f"needs {tag}")


def _why_inert(spec: ParamSpec, capabilities: Collection[str],
               values: Mapping[str, float | int | str]) -> str | None:
    for group in spec.requires:
        options = group.split("|")
        if not any(tag in capabilities for tag in options):
            return _missing(options[0]) if len(options) == 1 else (
                "needs one of " + ", ".join(options) + ", which the data lacks")
    for other, choices in sorted(spec.acts_when.items()):
        if str(values.get(other)) not in choices:
            return (f"acts only when {other} is {' or '.join(choices)} "
                    f"(now {values.get(other)})")
    return None


def inert_tunables(space: ParamSpace, capabilities: Collection[str]) -> dict[str, str]:
    """Tunables that cannot act on data holding ``capabilities``, with the reason, by name."""
    out: dict[str, str] = {}
    for name, spec in sorted(space.specs.items()):
        reason = _why_inert(spec, capabilities, space.values)
        if reason is not None:
            out[name] = reason
    return out


def pruning_note(inert: Mapping[str, str]) -> str:
    """One sentence naming what the search left alone and why ("" when nothing)."""
    if not inert:
        return ""
    by_reason: dict[str, list[str]] = {}
    for name, reason in sorted(inert.items()):
        by_reason.setdefault(reason, []).append(name)
    parts = [f"{', '.join(names)} ({reason})" for reason, names in sorted(by_reason.items())]
    return f"Left out of the search, {len(inert)} tunables the data cannot move: " \
        + "; ".join(parts) + "."
