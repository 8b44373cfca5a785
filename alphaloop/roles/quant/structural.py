"""Structural hypotheses: changes to strategy *code*, not just to tunables.

They plug into the seam the strategy declares for them, ``strategy/overlays/``: an
overlay is a module ``strategy/overlays/<name>.py`` with a function ``apply(weights,
view, portfolio) -> dict``, and the engine passes its final weights through every overlay
``ACTIVE`` lists in ``strategy/overlays/active.py``, in order. A change here writes its
overlay module and appends it to that list; the engine's code is never edited, and a
strategy without the seam is offered no structural change.

Overlays only scale risky weights down (the rest goes to cash), so they cannot break a
hard limit; whether they help is for Risk to judge on the folds and the held-out window.
They compose: a second overlay applies to what the first returned.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from alphaloop.records import Claim

__all__ = ["ACTIVE", "CATALOGUE", "OVERLAYS", "StructuralChange", "active_overlays",
           "applicable_changes", "apply_structural", "patched_sources", "render_active"]

OVERLAYS = "strategy/overlays"
"""The package of overlay modules: the seam the strategy declares."""
ACTIVE = f"{OVERLAYS}/active.py"
"""The registry of the overlays the engine applies: imports and the ``ACTIVE`` tuple."""


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

from alphaloop.contract import TRADING_DAYS_PER_YEAR, MarketView, PortfolioState

SCALE = 0.8
PERCENTILE = 80.0


def apply(weights: dict[str, float], view: MarketView,
          portfolio: PortfolioState) -> dict[str, float]:
    if "VIX" not in view.macro_series:
        return dict(weights)
    vix = view.macro("VIX")[-TRADING_DAYS_PER_YEAR:]
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


_ACTIVE_HEADER = (
    '"""The overlays the engine applies, in this order (see :mod:`strategy.overlays`).\n\n'
    "One import and one entry of ``ACTIVE`` per overlay module; a structural change "
    "appends\nits overlay here.\n"
    '"""\n\nfrom __future__ import annotations\n\n'
)


def active_overlays(source: str) -> tuple[str, ...]:
    """The overlay modules the registry's ``ACTIVE`` tuple names, read without running it.

    Raises ValueError when ``source`` does not assign ``ACTIVE`` a tuple of module names.
    """
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and target.id == "ACTIVE"):
            continue
        if isinstance(value, ast.Tuple):
            names = [e.id for e in value.elts if isinstance(e, ast.Name)]
            if len(names) == len(value.elts):
                return tuple(names)
        break
    raise ValueError(f"{ACTIVE} must assign ACTIVE a tuple of overlay modules, e.g. "
                     "`ACTIVE = (drawdown_brake,)`")


def _listing(prefix: str, names: Sequence[str], *, bare: bool = False) -> str:
    """``prefix`` and ``names`` on one line when it fits in 100 characters, else one name
    a line inside parentheses (as the linter formats them); ``bare``: no parentheses on
    one line (an import)."""
    inline = ", ".join(names) + ("," if len(names) == 1 and not bare else "")
    line = f"{prefix}{inline}" if bare else f"{prefix}({inline})"
    if len(line) <= 100:
        return line + "\n"
    return f"{prefix}(\n" + "".join(f"    {name},\n" for name in names) + ")\n"


def render_active(names: Sequence[str]) -> str:
    """The registry's source listing the overlay modules ``names``, in that order."""
    if not names:
        return _ACTIVE_HEADER + "ACTIVE = ()\n"
    imports = _listing("from strategy.overlays import ", sorted(names), bare=True)
    return f"{_ACTIVE_HEADER}{imports}\n{_listing('ACTIVE = ', names)}"


def patched_sources(sources: Mapping[str, str], change: StructuralChange) -> dict[str, str]:
    """The files to write for ``change`` on top of ``sources`` (path -> text): its overlay
    module, and the registry with the overlay appended.

    Raises ValueError when the strategy declares no overlay registry, or already runs
    the overlay.
    """
    registry = sources.get(ACTIVE)
    if registry is None:
        raise ValueError(f"the strategy declares no overlay seam: {ACTIVE} is missing")
    names = active_overlays(registry)
    if change.name in names:
        raise ValueError(f"the overlay {change.name} is active already")
    return {f"{OVERLAYS}/{change.name}.py": textwrap.dedent(change.module).lstrip(),
            ACTIVE: render_active((*names, change.name))}


def applicable_changes(sources: Mapping[str, str], diagnosis: Sequence[str],
                       capabilities: Collection[str] | None = None) -> list[StructuralChange]:
    """Catalogue entries that can apply here, best match to the diagnosis first.

    Only a strategy that declares the overlay seam gets any. With ``capabilities`` (the
    tags the data holds), an overlay reading data the panel lacks (a VIX rule on data
    without VIX) is left out: it could only be a no-op.
    """
    text = " ".join(diagnosis).lower()
    usable = [c for c in CATALOGUE
              if ACTIVE in sources and f"{OVERLAYS}/{c.name}.py" not in sources
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
