"""Structural hypotheses: changes to strategy *code*, not just to tunables.

Each change adds an overlay module ``strategy/overlays/<name>.py`` with a function
``apply(weights, view, portfolio) -> dict`` and wraps the weights the engine returns in
``strategy/engine.py`` with it. Overlays only scale risky weights down (the rest goes to
cash), so they cannot break a hard limit; whether they help is for Risk to judge on the
folds and the held-out window. Wrapping composes: a second overlay wraps the first.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from alphaloop.records import Claim

__all__ = ["CATALOGUE", "StructuralChange", "applicable_changes", "apply_structural",
           "patched_sources"]

ENGINE = "strategy/engine.py"
_RETURN = re.compile(r"return Decision\(weights=(?P<expr>.+), record=payload\)")
_IMPORT = re.compile(r"^from strategy\.[\w.]+ import .*$", re.MULTILINE)


class StructuralChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    statement: str
    rationale: str
    expected_effect: str
    triggers: tuple[str, ...]
    module: str
    claim: Claim = Claim(metric="max_drawdown", direction="decrease",
                         source="the overlay scales risk down to cut drawdowns")
    """What the change claims when its task's goal names no metric."""
    requires: tuple[str, ...] = ()
    """Data the overlay reads (tags as in :mod:`.prune`); without it, it changes nothing."""


_VOL_REGIME = '''
"""Volatility-regime overlay: hold less risk when implied volatility is unusually high.

When the VIX is above its own 80th percentile of the last year, every risky weight is
scaled by ``SCALE``; the remainder is held in cash.
"""

from __future__ import annotations

import numpy as np

from alphaloop.contract import MarketView, PortfolioState

SCALE = 0.8
PERCENTILE = 80.0
HISTORY_DAYS = 252


def apply(weights: dict[str, float], view: MarketView,
          portfolio: PortfolioState) -> dict[str, float]:
    if "VIX" not in view.macro_series:
        return dict(weights)
    vix = view.macro("VIX")[-HISTORY_DAYS:]
    vix = vix[np.isfinite(vix)]
    if len(vix) < 20 or vix[-1] <= np.percentile(vix, PERCENTILE):
        return dict(weights)
    return {ticker: weight * SCALE for ticker, weight in weights.items()}
'''

_TREND = '''
"""Trend overlay: halve an asset class when its trend over ~200 days is down.

A class is in a downtrend when the equal-weight average of its assets' prices is below
its 200-day mean; the weights of such a class are halved and the rest held in cash.
"""

from __future__ import annotations

import numpy as np

from alphaloop.contract import MarketView, PortfolioState

TREND_DAYS = 200
CUT = 0.5


def apply(weights: dict[str, float], view: MarketView,
          portfolio: PortfolioState) -> dict[str, float]:
    if view.n_days < TREND_DAYS:
        return dict(weights)
    prices = view.prices[-TREND_DAYS:]
    out = dict(weights)
    for asset_class in {view.asset_class(t) for t in weights}:
        columns = [view.column(t) for t in view.tickers_in(asset_class)]
        if not columns:
            continue
        index = (prices[:, columns] / prices[0, columns]).mean(axis=1)
        if np.isfinite(index).all() and index[-1] < index.mean():
            for ticker in view.tickers_in(asset_class):
                if ticker in out:
                    out[ticker] *= CUT
    return out
'''

_DRAWDOWN = '''
"""Drawdown brake: trim risk early, before the hard drawdown trigger is reached.

Once the portfolio is more than ``START`` below its peak, risky weights shrink linearly,
to ``FLOOR`` of their size at the hard trigger's depth.
"""

from __future__ import annotations

from alphaloop.contract import MarketView, PortfolioState

START = 0.08
FULL = 0.15
FLOOR = 0.6


def apply(weights: dict[str, float], view: MarketView,
          portfolio: PortfolioState) -> dict[str, float]:
    depth = portfolio.drawdown
    if depth <= START:
        return dict(weights)
    scale = max(FLOOR, 1.0 - (1.0 - FLOOR) * (depth - START) / (FULL - START))
    return {ticker: weight * scale for ticker, weight in weights.items()}
'''

CATALOGUE: tuple[StructuralChange, ...] = (
    StructuralChange(
        name="drawdown_brake",
        statement="Trim risky weights progressively once the drawdown passes 8%",
        rationale="The engine de-risks only at the 15% hard trigger, so losses run until "
                  "then; a gradual brake should cut the depth of drawdowns at little cost.",
        expected_effect="Lower max drawdown in the folds, slightly lower return; reward up "
                        "if drawdown is the binding weakness.",
        triggers=("drawdown", "trigger"), module=_DRAWDOWN),
    StructuralChange(
        name="vol_regime_overlay",
        statement="Scale risky weights to 80% when the VIX is above its one-year 80th "
                  "percentile",
        rationale="Volatility clusters: when implied volatility is unusually high, "
                  "drawdowns are deeper, so holding less risk then should raise the "
                  "risk-adjusted return.",
        expected_effect="Lower volatility and drawdown in volatile regimes, a small loss "
                        "of return in calm ones.",
        triggers=("volatility", "drawdown", "stress"), module=_VOL_REGIME,
        requires=("macro:VIX",)),
    StructuralChange(
        name="trend_filter",
        statement="Halve an asset class while its 200-day trend is down",
        rationale="Time-series momentum across asset classes: classes below their "
                    "200-day mean tend to keep falling, so holding less of them should "
                    "limit drawdowns.",
        expected_effect="Shallower drawdowns in prolonged declines; whipsaw costs in "
                        "range-bound markets.",
        triggers=("drawdown", "cost", "unstable"), module=_TREND),
)


def patched_sources(sources: Mapping[str, str], change: StructuralChange) -> dict[str, str]:
    """The files to write for ``change`` on top of ``sources`` (path -> text).

    Raises ValueError when the engine has no return statement to wrap.
    """
    engine = sources.get(ENGINE)
    if engine is None:
        raise ValueError(f"{ENGINE} is missing")
    match = _RETURN.search(engine)
    if match is None:
        raise ValueError(f"{ENGINE} has no `return Decision(weights=..., record=payload)` "
                         "line to wrap")
    alias = f"_{change.name}"
    wrapped = (f"return Decision(weights={alias}.apply({match.group('expr')}, view, "
               "portfolio), record=payload)")
    engine = engine[: match.start()] + wrapped + engine[match.end():]
    imports = list(_IMPORT.finditer(engine))
    line = f"from strategy.overlays import {change.name} as {alias}\n"
    at = imports[-1].end() + 1 if imports else 0
    engine = engine[:at] + line + engine[at:]
    out = {ENGINE: engine,
           f"strategy/overlays/{change.name}.py": textwrap.dedent(change.module).lstrip()}
    if "strategy/overlays/__init__.py" not in sources:
        out["strategy/overlays/__init__.py"] = (
            '"""Overlays: small rules applied to the engine\'s final weights."""\n')
    return out


def applicable_changes(sources: Mapping[str, str], diagnosis: Sequence[str],
                       capabilities: Collection[str] | None = None) -> list[StructuralChange]:
    """Catalogue entries that can apply here, best match to the diagnosis first.

    With ``capabilities`` (the tags the data holds), an overlay reading data the panel
    lacks (a VIX rule on data without VIX) is left out: it could only be a no-op.
    """
    text = " ".join(diagnosis).lower()
    usable = [c for c in CATALOGUE
              if f"strategy/overlays/{c.name}.py" not in sources
              and ENGINE in sources and _RETURN.search(sources[ENGINE])
              and (capabilities is None or set(c.requires) <= set(capabilities))]
    return sorted(usable, key=lambda c: -sum(t in text for t in c.triggers))


def apply_structural(worktree: Path, name: str) -> None:
    """Write the change called ``name`` into the checkout at ``worktree``."""
    change = next((c for c in CATALOGUE if c.name == name), None)
    if change is None:
        raise ValueError(f"unknown structural change {name!r}")
    root = Path(worktree)
    sources = {p.relative_to(root).as_posix(): p.read_text()
               for p in (root / "strategy").rglob("*.py")}
    for path, text in patched_sources(sources, change).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
