"""The declared space of every tunable in :mod:`strategy.tunables`.

Each tunable has a :class:`ParameterSpec`: its kind (``int``, ``float`` or ``choice``),
its allowed range or choices, and a one-line description. The research loop proposes
changes inside this space; the review checks that a change stays inside it.

    >>> from strategy.parameters import current_values, validate_values
    >>> values = current_values()                      # what tunables.py holds now
    >>> validate_values({"FACTOR_WEIGHT": 0.5})        # a partial edit, checked
    {'FACTOR_WEIGHT': 0.5}

To add a tunable: assign it in ``tunables.py`` (with a comment) and declare it here.

A tunable may act only when the data or the run provides something: ``requires`` lists
tags, all of which must hold (a tag ``a|b`` holds when either does):

- ``llm``: an LLM answers the experts (offline, the engine is factor-only);
- ``macro:NAME``: the data has the macro series ``NAME`` (e.g. ``macro:VIX``);
- ``class:NAME``: the universe holds assets of the class ``NAME`` (e.g. ``class:crypto``);
- ``fundamental:NAME``: the data has the fundamental field ``NAME``;
- ``volume``: the data has traded volumes.

``acts_when`` names other tunables' choices it needs (Kelly's fraction acts only when
the sizing method is ``kelly``). A research loop leaves alone what cannot act on its data.

``tags`` say what a tunable is a lever for, from the vocabulary :data:`TAGS`: the
in-sample metrics a move of it is expected to shift (``max_drawdown``, ``turnover``,
``sharpe``, ...) and what it does (``drawdown``: acts as losses mount; ``conviction``,
``rebalancing``, ``risk-window``, ``smoothing``, ``driver``). A research loop finds the
tunables a weakness or a goal points at by these tags, never by name: tag a new tunable
and it is found.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from strategy import tunables

__all__ = [
    "OPTIMIZER_NAMES",
    "PARAMETER_SPACE",
    "REQUIREMENT_KINDS",
    "SIZING_METHODS",
    "TAGS",
    "ParameterError",
    "ParameterSpec",
    "ParameterValue",
    "current_values",
    "validate_values",
]

ParameterValue = int | float | str

#: The optimiser library's method names (``strategy.optimizers.METHODS``), kept here as
#: literals so the parameter space can be read without importing the optimisers.
OPTIMIZER_NAMES: tuple[str, ...] = (
    "mean_variance", "min_variance", "max_sharpe", "risk_parity", "black_litterman",
    "max_diversification", "equal_weight", "inverse_volatility", "cvar", "hrp", "robust",
)
#: Position-sizing methods of the spec (section 4.4.1).
SIZING_METHODS: tuple[str, ...] = (
    "equal_weight", "risk_parity", "volatility_target", "kelly", "max_sharpe",
)


#: The kinds of tag ``requires`` may hold (``kind`` or ``kind:NAME``).
REQUIREMENT_KINDS: tuple[str, ...] = ("llm", "macro", "class", "fundamental", "volume")

#: Every tag a tunable may carry in ``tags``, with what it means.
TAGS: Mapping[str, str] = MappingProxyType({
    # the in-sample metrics (as a task's goal names them) a move of the tunable shifts
    "max_drawdown": "a lever on the maximum drawdown",
    "annual_volatility": "a lever on the annual volatility",
    "turnover": "a lever on turnover",
    "sharpe": "a lever on the Sharpe ratio",
    "reward": "a lever on the reward, Sharpe - lambda x max drawdown",
    "annual_return": "a lever on the annual return",
    "calmar": "a lever on the Calmar ratio",
    # what the tunable does
    "drawdown": "acts as losses mount: de-risks, hedges or scales exposure down in stress",
    "conviction": "how far the experts' views move the weights",
    "rebalancing": "when a change of the target weights becomes a trade",
    "risk-window": "the history behind the volatility and covariance estimates",
    "smoothing": "a long window that steadies a signal or an estimate",
    "driver": "a main return driver of its asset class (the class ``requires`` names)",
})


class ParameterError(ValueError):
    """A tunable is unknown, of the wrong type or outside its declared range."""


class ParameterSpec(BaseModel):
    """What one tunable may hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["int", "float", "choice"]
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    description: str
    requires: tuple[str, ...] = ()
    acts_when: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        unknown = [tag for tag in self.tags if tag not in TAGS]
        if unknown:
            raise ValueError(f"{self.name}: unknown tag(s) {', '.join(unknown)}; declare "
                             "them in TAGS first")
        for tag in (t for group in self.requires for t in group.split("|")):
            kind, _, name = tag.partition(":")
            if kind not in REQUIREMENT_KINDS or bool(name) == (kind in ("llm", "volume")):
                raise ValueError(f"{self.name}: requirement {tag!r} is not one of "
                                 "llm, volume, macro:NAME, class:NAME, fundamental:NAME")
        if self.kind == "choice":
            if not self.choices or self.low is not None or self.high is not None:
                raise ValueError(f"{self.name}: a choice needs choices and no low/high")
        elif self.low is None or self.high is None or not self.low <= self.high:
            raise ValueError(f"{self.name}: a numeric tunable needs low <= high")
        return self

    def check(self, value: object) -> ParameterValue:
        """Return ``value`` in its canonical type, or raise :class:`ParameterError`."""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParameterError(
                    f"{self.name} = {value!r} is not one of {', '.join(self.choices)}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(
                f"{self.name} = {value!r} must be a number ({self.kind}), "
                f"got {type(value).__name__}")
        if self.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ParameterError(f"{self.name} = {value!r} must be a whole number")
            number: float = int(value)
        else:
            number = float(value)
        if not math.isfinite(number):
            raise ParameterError(f"{self.name} = {value!r} must be finite")
        low, high = float(self.low or 0.0), float(self.high or 0.0)  # both set for numbers
        if not low <= number <= high:
            raise ParameterError(
                f"{self.name} = {value!r} is outside its range [{low:g}, {high:g}]")
        return number


def _int(name: str, low: int, high: int, description: str, *,
         requires: tuple[str, ...] = (), tags: tuple[str, ...] = ()) -> ParameterSpec:
    return ParameterSpec(name=name, kind="int", low=low, high=high, description=description,
                         requires=requires, tags=tags)


def _float(name: str, low: float, high: float, description: str, *,
           requires: tuple[str, ...] = (),
           acts_when: dict[str, tuple[str, ...]] | None = None,
           tags: tuple[str, ...] = ()) -> ParameterSpec:
    return ParameterSpec(name=name, kind="float", low=low, high=high, description=description,
                         requires=requires, acts_when=acts_when or {}, tags=tags)


def _choice(name: str, choices: tuple[str, ...], description: str) -> ParameterSpec:
    return ParameterSpec(name=name, kind="choice", choices=choices, description=description)


def _weight(name: str, description: str, *requires: str,
            tags: tuple[str, ...] = ()) -> ParameterSpec:
    return _float(name, 0.0, 3.0, f"relative weight of the {description} factor",
                  requires=requires, tags=tags)


#: Tags of the tunables that act as losses mount (all shift the maximum drawdown).
_IN_STRESS = ("drawdown", "max_drawdown")


#: Any fundamental field at all (the fundamental factors' own-history window).
_ANY_FUNDAMENTAL = "|".join(f"fundamental:{f}" for f in (
    "profitability", "book_to_market", "earnings_yield", "investment", "yield",
    "credit_spread", "roll_yield", "basis", "nav_discount", "sector_outlook",
    "active_addresses", "adoption"))

_SPECS: tuple[ParameterSpec, ...] = (
    _int("MOMENTUM_LOOKBACK_DAYS", 42, 504, "trading days of the momentum window",
         tags=("smoothing", "turnover", "sharpe")),
    _int("MOMENTUM_SKIP_DAYS", 0, 63, "most recent days excluded from momentum"),
    _int("VOLATILITY_LOOKBACK_DAYS", 10, 252, "trading days of realised volatility",
         tags=("risk-window",)),
    _int("FUNDAMENTAL_HISTORY_DAYS", 21, 756, "days of a fundamental's own history used",
         requires=(_ANY_FUNDAMENTAL,)),
    _int("GROWTH_HORIZON_DAYS", 5, 252, "horizon of network and adoption growth rates",
         requires=("class:crypto",
                   "fundamental:active_addresses|fundamental:adoption|volume")),
    _int("COVARIANCE_LOOKBACK_DAYS", 63, 756, "trading days behind the covariance matrix",
         tags=("risk-window", "smoothing", "turnover")),
    _choice("COVARIANCE_SHRINKAGE", ("ledoit_wolf", "sample"), "covariance estimator"),
    _float("FACTOR_WEIGHT", 0.0, 1.0, "weight of the factor view against the LLM view",
           requires=("llm",)),
    _float("FACTOR_CROSS_SECTION_WEIGHT", 0.0, 1.0,
           "share of a factor score from ranking within the class (rest: own history)"),
    _float("FACTOR_SIGNAL_THRESHOLD", 0.05, 1.0, "composite z-score for BUY / SELL"),
    _float("FACTOR_STRONG_SIGNAL_THRESHOLD", 0.25, 3.0,
           "composite z-score for STRONG_BUY / STRONG_SELL (weighs only in LLM blending)",
           requires=("llm",)),
    _float("FACTOR_INFORMATION_COEFFICIENT", 0.0, 0.3,
           "information coefficient turning a composite z-score into expected alpha"),
    _int("LLM_MAX_RETRIES", 0, 5, "extra LLM requests after an invalid JSON answer",
         requires=("llm",)),
    _weight("STOCK_WEIGHT_PROFITABILITY", "stock profitability (RMW)", "class:stocks",
            "fundamental:profitability", tags=("driver",)),
    _weight("STOCK_WEIGHT_VALUE", "stock value (HML)", "class:stocks",
            "fundamental:book_to_market|fundamental:earnings_yield", tags=("driver",)),
    _weight("STOCK_WEIGHT_SIZE", "stock size (SMB)", "class:stocks",
            "fundamental:market_cap|volume"),
    _weight("STOCK_WEIGHT_INVESTMENT", "stock investment (CMA)", "class:stocks",
            "fundamental:investment"),
    _weight("STOCK_WEIGHT_MOMENTUM", "stock momentum", "class:stocks",
            tags=("driver", "annual_return")),
    _weight("BOND_WEIGHT_CARRY", "bond carry", "class:bonds", "fundamental:yield",
            tags=("driver",)),
    _weight("BOND_WEIGHT_VALUE", "bond value (credit spread)", "class:bonds",
            "fundamental:credit_spread", tags=("driver",)),
    _weight("BOND_WEIGHT_LOW_RISK", "bond low-risk (duration)", "class:bonds"),
    _weight("BOND_WEIGHT_MOMENTUM", "bond momentum", "class:bonds", tags=("driver",)),
    _weight("COMMODITY_WEIGHT_TERM_STRUCTURE", "commodity term-structure", "class:commodities",
            "fundamental:roll_yield", tags=("driver",)),
    _weight("COMMODITY_WEIGHT_MOMENTUM", "commodity momentum", "class:commodities",
            tags=("driver",)),
    _weight("COMMODITY_WEIGHT_BASIS", "commodity basis", "class:commodities",
            "fundamental:basis"),
    _weight("REITS_WEIGHT_NAV_DISCOUNT", "REIT NAV-discount", "class:reits",
            "fundamental:nav_discount", tags=("driver",)),
    _weight("REITS_WEIGHT_SECTOR_OUTLOOK", "REIT sector-outlook", "class:reits",
            "fundamental:sector_outlook", tags=("driver",)),
    _weight("REITS_WEIGHT_IDIOSYNCRATIC_RISK", "REIT idiosyncratic-risk", "class:reits"),
    _weight("CRYPTO_WEIGHT_NETWORK_EFFECT", "crypto network-effect", "class:crypto",
            "fundamental:active_addresses|volume", tags=("driver",)),
    _weight("CRYPTO_WEIGHT_ADOPTION", "crypto adoption", "class:crypto",
            "fundamental:adoption"),
    _weight("CRYPTO_WEIGHT_CRASH_RISK", "crypto crash-risk", "class:crypto",
            tags=("driver",)),
    _float("EXPERT_TILT_STRENGTH", 0.0, 1.0,
           "how far a bullish / bearish class view moves class weight toward max / min",
           tags=("conviction", "sharpe", "reward", "annual_return", "calmar")),
    _choice("PORTFOLIO_OPTIMIZER", OPTIMIZER_NAMES, "optimiser of the portfolio manager"),
    _choice("HEDGING_OPTIMIZER", OPTIMIZER_NAMES, "optimiser of the hedging toolkit"),
    _choice("SIZING_METHOD", SIZING_METHODS, "position-sizing method"),
    _float("RISK_AVERSION", 0.5, 20.0, "risk-aversion coefficient (mean-variance, BL)",
           tags=("annual_volatility", "sharpe", "reward", "annual_return")),
    _float("REBALANCE_THRESHOLD", 0.0, 0.2, "weight change that triggers a trade",
           tags=("rebalancing", "turnover")),
    _float("VOLATILITY_SCALING_STRENGTH", 0.0, 1.0,
           "how fully exposure is scaled toward the target volatility (0 = off)",
           tags=(*_IN_STRESS, "annual_volatility")),
    _float("HEDGE_VIX_TRIGGER", 12.0, 60.0, "VIX level that switches to safe-haven hedges",
           requires=("macro:VIX",), tags=_IN_STRESS),
    _float("HEDGE_SKEW_TRIGGER", -3.0, 0.0, "return skew below which tails are hedged"),
    _float("HEDGE_KURTOSIS_TRIGGER", 3.0, 20.0, "raw kurtosis above which tails are fat"),
    _float("HEDGE_VAR_TRIGGER", 0.005, 0.05, "daily 95% VaR loss that triggers a hedge",
           tags=_IN_STRESS),
    _float("HEDGE_MAX_RATIO", 0.0, 0.5, "largest share of the portfolio a hedge may move",
           tags=_IN_STRESS),
    _int("MAX_DISCUSSION_ROUNDS", 0, 5, "revision rounds between the managers"),
    _float("CONSENSUS_SIZING_TOLERANCE", 0.001, 0.5,
           "total position change below which sizing has converged"),
    _float("CONSENSUS_HEDGE_TOLERANCE", 0.001, 0.2,
           "hedge-ratio change below which hedging has converged"),
    _float("DRAWDOWN_DERISK_FACTOR", 0.0, 1.0,
           "share of risky exposure kept once the drawdown trigger is hit",
           tags=(*_IN_STRESS, "reward", "calmar")),
    _int("DRAWDOWN_COOLDOWN_DAYS", 0, 252,
         "trading days de-risking lasts before the drawdown is measured afresh",
         tags=_IN_STRESS),
    _float("REGIME_TILT_STRENGTH", 0.0, 1.0,
           "how far a high-volatility regime moves bonds and cash toward their max",
           tags=_IN_STRESS),
    _float("CONVICTION_CONFIDENCE", 0.0, 1.0,
           "expert confidence above which a class is weighted with Black-Litterman"),
    _float("KELLY_FRACTION", 0.05, 1.0, "fraction of the Kelly bet in Kelly position sizing",
           acts_when={"SIZING_METHOD": ("kelly",)}),
    _float("DIVERSIFICATION_BLEND", 0.0, 1.0,
           "share moved toward maximum diversification when a soft limit is breached"),
)

#: Every tunable's declaration, by name (read-only).
PARAMETER_SPACE: Mapping[str, ParameterSpec] = MappingProxyType({s.name: s for s in _SPECS})


def current_values() -> dict[str, ParameterValue]:
    """The values ``strategy/tunables.py`` holds now, by name (a fresh dict)."""
    return {
        name: getattr(tunables, name)
        for name in dir(tunables)
        if name.isupper() and not name.startswith("_")
    }


def _unknown(name: str) -> ParameterError:
    close = difflib.get_close_matches(name, list(PARAMETER_SPACE), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return ParameterError(f"unknown tunable {name!r}{hint} (declared in strategy/parameters.py)")


def validate_values(
    values: Mapping[str, object], *, complete: bool = False
) -> dict[str, ParameterValue]:
    """Check tunable values against :data:`PARAMETER_SPACE`; return them canonicalised.

    With ``complete=True`` every declared tunable must be present. Cross-parameter
    rules are checked when both names are given (the strong factor threshold must exceed
    the plain one). Raises :class:`ParameterError` naming the first problem.
    """
    out: dict[str, ParameterValue] = {}
    for name, value in values.items():
        spec = PARAMETER_SPACE.get(name)
        if spec is None:
            raise _unknown(name)
        out[name] = spec.check(value)
    if complete:
        missing = sorted(set(PARAMETER_SPACE) - set(out))
        if missing:
            raise ParameterError(f"tunables missing a value: {', '.join(missing)}")
    plain, strong = out.get("FACTOR_SIGNAL_THRESHOLD"), out.get("FACTOR_STRONG_SIGNAL_THRESHOLD")
    if isinstance(plain, float) and isinstance(strong, float) and not strong > plain:
        raise ParameterError(
            f"FACTOR_STRONG_SIGNAL_THRESHOLD ({strong:g}) must exceed "
            f"FACTOR_SIGNAL_THRESHOLD ({plain:g})")
    return out
