"""`FactorScorer`: the shared machinery of the five asset-class factor scorers.

A scorer turns a point-in-time :class:`~alphaloop.contract.MarketView` into a
:class:`~strategy.factors.records.ClassFactorScores` in four steps:

1. **Inputs.** It cuts the window it needs (``FactorSettings.history_days``) out of the
   view for the class's symbols: prices, volumes, the fundamental fields present (a field
   absent from the data, or all NaN for these assets, counts as missing) and macro series.
2. **Raw factors.** Each subclass computes its factors as :class:`RawFactor`: values
   oriented so that higher is more attractive, the raw input in its own units, and where
   it means something a *time-series* score (the asset against its own history or risk,
   which says whether now is a good time, not only which asset is best). A factor whose
   field is missing is replaced by a price-based proxy where one exists, otherwise left
   out and listed in ``factors_missing`` with the reason.
3. **Normalisation.** Each factor's values are normalised across the class (z-scores, or
   normal scores of ranks when the class has fewer than five assets), then blended with
   the time-series score: ``exposure = w * cross_section + (1 - w) * time_series`` with
   ``w = FACTOR_CROSS_SECTION_WEIGHT``; a factor without a time-series score uses its
   cross-sectional score alone.
4. **Signal.** The composite is the weighted mean of an asset's exposures over the
   factors available for it; thresholds map it to STRONG_BUY / BUY / HOLD / SELL /
   STRONG_SELL, its normal CDF is the spec's ``composite_score`` and
   ``2 * |composite_score - 0.5|`` the confidence; expected alpha follows Grinold's
   rule ``IC * volatility * composite``.

Only data at or before ``view.as_of`` exists in a view, so no scorer can look ahead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from alphaloop.contract import ContractError, MarketView
from strategy.factors import kernels
from strategy.factors.records import (
    ClassFactorScores,
    FactorExposure,
    FactorScore,
    FactorSignal,
)
from strategy.factors.settings import FactorSettings

__all__ = ["FactorInputs", "FactorScorer", "RawFactor"]


@dataclass(frozen=True)
class RawFactor:
    """One factor for every asset of the class, before normalisation."""

    name: str
    values: np.ndarray  # [asset], higher = more attractive
    raw: np.ndarray  # [asset], the input in its own units (for the record)
    time_series: np.ndarray | None  # [asset] score against own history / risk, or None
    source: str  # data used: field names, "price", or "<proxy> (proxy for <field>)"


@dataclass(frozen=True)
class FactorInputs:
    """The window of data one scorer call works on (arrays are ``[day, asset]``)."""

    symbols: tuple[str, ...]
    prices: np.ndarray
    volumes: np.ndarray
    returns: np.ndarray  # daily log returns, one row fewer than prices
    fundamentals: dict[str, np.ndarray]  # present fields only, the whole window
    macro: dict[str, np.ndarray]  # [day] series, same rows as prices
    settings: FactorSettings
    levels: dict[str, np.ndarray] = field(default_factory=dict)  # latest finite value
    # kernels.own_history_z over the last FUNDAMENTAL_HISTORY_DAYS rows
    history_z: dict[str, np.ndarray] = field(default_factory=dict)

    def field(self, name: str) -> np.ndarray | None:
        """A fundamental field's window, or ``None`` if the data does not carry it."""
        return self.fundamentals.get(name)

    def macro_last(self, name: str) -> float | None:
        series = self.macro.get(name)
        if series is None:
            return None
        finite = series[np.isfinite(series)]
        return float(finite[-1]) if finite.size else None

    def dollar_volume(self, days: int) -> np.ndarray | None:
        """Mean daily traded value over the last ``days`` days, or ``None`` without volumes."""
        traded = self.prices[-days:] * self.volumes[-days:]
        if not np.isfinite(traded).any():
            return None
        finite = np.isfinite(traded) & (traded > 0)
        total = np.where(finite, traded, 0.0).sum(axis=0)
        count = finite.sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


class FactorScorer(ABC):
    """Base class: subclasses set ``asset_class`` and ``factors`` and implement
    :meth:`compute`."""

    asset_class: ClassVar[str]
    factors: ClassVar[tuple[str, ...]]  # every factor this scorer can produce, in order
    fields: ClassVar[tuple[str, ...]]  # the fundamental fields it reads (when present)
    macro_series: ClassVar[tuple[str, ...]] = ()  # the macro series it reads

    def __init__(self, settings: FactorSettings | None = None) -> None:
        self.settings = settings or FactorSettings.default()
        self.weights = self.settings.weights_for(self.asset_class)
        unknown = sorted(set(self.weights) - set(self.factors))
        if unknown:
            raise ValueError(f"{type(self).__name__}: weights for unknown factors {unknown}; "
                             f"known: {', '.join(self.factors)}")

    @abstractmethod
    def compute(self, inputs: FactorInputs) -> tuple[list[RawFactor], dict[str, str]]:
        """The raw factors available for these inputs, and ``{factor: reason}`` for the
        ones that are not."""

    # -- public ------------------------------------------------------------------------
    def inputs(self, view: MarketView, symbols: Sequence[str] | None = None) -> FactorInputs:
        """Cut this scorer's window out of ``view`` (symbols default to the class's)."""
        chosen = tuple(symbols) if symbols is not None else view.tickers_in(self.asset_class)
        index = [view.column(s) for s in chosen]
        contiguous = index == list(range(index[0], index[0] + len(index))) if index else False
        cols: slice | np.ndarray = (slice(index[0], index[0] + len(index)) if contiguous
                                    else np.array(index, dtype=int))
        days = min(self.settings.history_days, view.n_days)
        available = view.fundamental_fields
        names = [f for f in self.fields if f in available]
        fundamentals: dict[str, np.ndarray] = {}
        levels: dict[str, np.ndarray] = {}
        history_z: dict[str, np.ndarray] = {}
        if names:
            # one stacked [field, day, asset] array: the statistics of every field at once
            stack = np.stack([view.fundamental(f)[-days:, cols] for f in names])
            keep = np.isfinite(stack).any(axis=(1, 2))
            if keep.any():
                stack = stack[keep]
                names = [f for f, k in zip(names, keep, strict=True) if k]
                last = kernels.last_valid(stack)
                z = kernels.own_history_z(stack[:, -self.settings.fundamental_history_days:])
                for i, name in enumerate(names):
                    fundamentals[name] = stack[i]
                    levels[name], history_z[name] = last[i], z[i]
        prices = view.prices[-days:, cols]
        return FactorInputs(
            symbols=chosen,
            prices=prices,
            volumes=view.volumes[-days:, cols],
            returns=kernels.log_returns(prices),
            fundamentals=fundamentals,
            macro={name: view.macro(name)[-days:] for name in self.macro_series
                   if name in view.macro_series},
            settings=self.settings,
            levels=levels,
            history_z=history_z,
        )

    def score(self, view: MarketView, symbols: Sequence[str] | None = None) -> ClassFactorScores:
        """Score ``symbols`` (default: every ticker of this class in the view)."""
        chosen = tuple(symbols) if symbols is not None else view.tickers_in(self.asset_class)
        as_of = str(view.as_of.date())
        if not chosen:
            return ClassFactorScores(asset_class=self.asset_class, as_of=as_of,
                                     normalisation="rank", scores={}, factors={},
                                     factors_used=(),
                                     factors_missing={f: "no assets of this class in the view"
                                                      for f in self.factors})
        wrong = [s for s in chosen if view.asset_class(s) != self.asset_class]
        if wrong:
            raise ContractError(f"{type(self).__name__} scores {self.asset_class} only; "
                                f"{wrong} belong to other classes")
        inputs = self.inputs(view, chosen)
        raw_factors, missing = self.compute(inputs)
        return self._combine(inputs, raw_factors, missing, as_of)

    # -- combination ---------------------------------------------------------------------
    def _combine(self, inputs: FactorInputs, raw_factors: list[RawFactor],
                 missing: dict[str, str], as_of: str) -> ClassFactorScores:
        s = self.settings
        n = len(inputs.symbols)
        used = [f for f in raw_factors if self.weights.get(f.name, 1.0) > 0]
        missing.update({f.name: "weight is 0" for f in raw_factors
                        if self.weights.get(f.name, 1.0) <= 0})
        method = "zscore" if n >= kernels.MIN_ASSETS_FOR_ZSCORE else "rank"
        k = len(used)
        series = np.full((k, n), np.nan)
        for i, f in enumerate(used):
            if f.time_series is not None:
                series[i] = f.time_series
        cross, _ = kernels.cross_sectional(np.array([f.values for f in used]).reshape(k, n))
        blended = np.where(np.isfinite(series),
                           s.cross_section_weight * cross + (1 - s.cross_section_weight) * series,
                           cross)
        exposure = np.minimum(np.maximum(blended, -kernels.CLIP), kernels.CLIP)
        weights = np.array([self.weights.get(f.name, 1.0) for f in used]).reshape(k, 1)
        present = np.isfinite(exposure)
        w = np.where(present, weights, 0.0)
        total = w.sum(axis=0)
        safe_total = np.where(total > 0, total, 1.0)
        composite = (np.where(present, exposure, 0.0) * w).sum(axis=0) / safe_total
        share = w / safe_total
        cdf = kernels.normal_cdf(composite)
        vol = kernels.realised_volatility(inputs.returns, s.volatility_lookback_days)
        symbols = inputs.symbols
        raw = np.array([f.raw for f in used], dtype=float).reshape(k, n)
        # cross-section and exposure are finite wherever present; only those are read
        raw_l, series_l = _listed(raw), _listed(series)
        cross_l, exposure_l = cross.tolist(), exposure.tolist()
        share_l, present_l = share.tolist(), present.tolist()
        details = {}
        for i, f in enumerate(used):
            covered = [j for j in range(n) if present_l[i][j]]
            details[f.name] = FactorExposure(
                factor=f.name, source=f.source, weight=float(weights[i, 0]),
                raw={symbols[j]: raw_l[i][j] for j in covered},
                cross_section={symbols[j]: cross_l[i][j] for j in covered},
                time_series={symbols[j]: series_l[i][j] for j in covered},
                exposure={symbols[j]: exposure_l[i][j] for j in covered})
        names = [f.name for f in used]
        vol_l = np.where(np.isfinite(vol), vol, 0.0).tolist()
        comp_l, cdf_l = composite.tolist(), cdf.tolist()
        scores = {
            t: FactorScore(
                symbol=t, asset_class=self.asset_class,
                exposures={names[i]: exposure_l[i][j] for i in range(k) if present_l[i][j]},
                weights={names[i]: share_l[i][j] for i in range(k) if present_l[i][j]},
                composite=comp_l[j], composite_score=cdf_l[j], signal=self.signal(comp_l[j]),
                confidence=min(1.0, abs(2.0 * cdf_l[j] - 1.0)),
                expected_alpha=s.information_coefficient * vol_l[j] * comp_l[j],
                volatility=vol_l[j])
            for j, t in enumerate(symbols)
        }
        return ClassFactorScores(
            asset_class=self.asset_class, as_of=as_of, normalisation=method, scores=scores,
            factors=details, factors_used=tuple(names), factors_missing=missing)

    def signal(self, composite: float) -> FactorSignal:
        s = self.settings
        if composite >= s.strong_signal_threshold:
            return "STRONG_BUY"
        if composite >= s.signal_threshold:
            return "BUY"
        if composite <= -s.strong_signal_threshold:
            return "STRONG_SELL"
        if composite <= -s.signal_threshold:
            return "SELL"
        return "HOLD"


def _listed(array: np.ndarray) -> list[list[float | None]]:
    """Rows of ``array`` as Python lists, NaN as ``None`` (cheap record building)."""
    return np.where(np.isfinite(array), array, None).tolist()
