"""The strategy contract: everything a strategy may import from AlphaLoop.

A strategy is any object with a ``decide(view, portfolio)`` method. On each rebalance
date the trusted harness hands it a :class:`MarketView` that ends at that date and the
current :class:`PortfolioState`; the strategy answers with target weights (a mapping of
ticker to weight, or a :class:`Decision` that also carries a record for attribution).
The harness validates the answer with :func:`validate_weights`, then simulates trading
and computes every metric itself: a strategy never reports its own P&L.

This module imports nothing else of ``alphaloop`` and stays small and stable. It imports
pandas where a function needs it, not with the module: the command line reads
:data:`TRADING_DAYS_PER_YEAR` for its help and starts without pandas.

Point-in-time guarantee: a :class:`MarketView` is built from *copies* of the history up
to and including ``as_of``; its arrays are read-only and share no memory with the full
data set, so there is no reference through which later rows could be reached.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ASSET_CLASSES",
    "TRADING_DAYS_PER_YEAR",
    "AssetClass",
    "AssetInfo",
    "ContractError",
    "Decision",
    "MarketView",
    "ModelUnavailable",
    "PortfolioState",
    "Strategy",
    "WeightError",
    "WeightPolicy",
    "validate_weights",
]

AssetClass = Literal["stocks", "bonds", "commodities", "reits", "crypto", "cash"]
ASSET_CLASSES: tuple[str, ...] = ("stocks", "bonds", "commodities", "reits", "crypto", "cash")

TRADING_DAYS_PER_YEAR = 252
"""Trading sessions in a year: how every daily figure is annualised.

The harness annualises return, volatility, Sharpe and turnover with it, and the
synthetic data draws its years with it. A strategy that aims at an annual figure (a
volatility target, say) annualises its estimates the same way, so that what it aims at
is what the harness measures and Risk's limits judge.
"""


class ContractError(ValueError):
    """A strategy or a view broke the contract."""


class WeightError(ContractError):
    """Target weights failed validation; the message names the date, asset and value."""

    def __init__(self, message: str, *, as_of: datetime | None = None,
                 asset: str | None = None, value: float | None = None) -> None:
        import pandas as pd

        self.as_of = pd.Timestamp(as_of) if as_of is not None else None
        self.asset = asset
        self.value = value
        where = f" on {self.as_of.date()}" if self.as_of is not None else ""
        super().__init__(f"invalid target weights{where}: {message}")


class ModelUnavailable(RuntimeError):
    """No model answers the strategy's question; the message says why.

    A strategy that wants a model says so with ``wants_llm = True`` and takes a client
    (``complete(system, user) -> str``) through ``use_llm(client)``. Inside the sandbox
    that client is the harness's: it answers from recorded answers (or, where policy
    allows, a live model) and raises this error when it cannot. The strategy then
    decides without the model and records why; any other error of its client is a
    failure of the strategy.
    """


class AssetInfo(BaseModel):
    """Static description of one tradable asset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: str
    asset_class: AssetClass
    name: str = ""


def _frozen_copy(array: np.ndarray) -> np.ndarray:
    out = np.array(array, dtype=float, copy=True, order="C")
    out.setflags(write=False)
    return out


def _frozen_rows(rows: np.ndarray) -> np.ndarray:
    out = rows.copy()  # a fresh C-ordered array that owns its memory (.base is None)
    out.setflags(write=False)
    return out


class MarketView:
    """Read-only, point-in-time market history ending at ``as_of`` (inclusive).

    Arrays are indexed ``[day, asset]`` with assets in the order of :attr:`tickers`;
    the last row is the ``as_of`` date. ``fundamentals`` maps a field name (for example
    ``"book_to_market"``) to a ``[day, asset]`` array with NaN where a field does not
    apply; ``macro`` maps a series name (for example ``"VIX"``) to a ``[day]`` array.

    A NaN price means "not listed on that day": the universe grows and shrinks (an asset
    has prices from its first to its last listed day only). An asset with a NaN price on
    ``as_of`` cannot be traded; a weight on it is a :class:`WeightError`.
    """

    __slots__ = ("_as_of", "_as_of_stamp", "_assets", "_dates", "_fundamentals", "_index",
                 "_macro", "_prices", "_volumes")

    def __init__(
        self,
        *,
        as_of: pd.Timestamp | str,
        assets: Sequence[AssetInfo],
        dates: Sequence[Any] | pd.DatetimeIndex,
        prices: np.ndarray,
        volumes: np.ndarray | None = None,
        fundamentals: Mapping[str, np.ndarray] | None = None,
        macro: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        import pandas as pd

        as_of = pd.Timestamp(as_of)
        index = dates if isinstance(dates, pd.DatetimeIndex) else pd.DatetimeIndex(dates)
        stamps = index.values.astype("datetime64[ns]")
        n_days, n_assets = len(stamps), len(assets)
        if n_days == 0:
            raise ContractError(f"a market view for {as_of.date()} needs at least one day")
        if stamps[-1] > as_of.to_datetime64():
            raise ContractError(f"a market view for {as_of.date()} may not hold data of "
                                f"{pd.Timestamp(stamps[-1]).date()}")
        if n_days > 1 and not bool(np.all(stamps[1:] > stamps[:-1])):
            raise ContractError("market view dates must be unique and increasing")
        self._as_of = as_of.to_datetime64()
        self._as_of_stamp: pd.Timestamp | None = as_of
        self._assets = tuple(assets)
        self._index = {a.ticker: i for i, a in enumerate(self._assets)}
        if len(self._index) != n_assets:
            raise ContractError("market view tickers must be unique")
        self._dates = np.array(stamps, copy=True)
        self._dates.setflags(write=False)
        self._prices = self._checked(prices, (n_days, n_assets), "prices")
        self._volumes = (
            self._checked(volumes, (n_days, n_assets), "volumes")
            if volumes is not None
            else _frozen_copy(np.full((n_days, n_assets), np.nan))
        )
        self._fundamentals = {
            k: self._checked(v, (n_days, n_assets), f"fundamental {k!r}")
            for k, v in (fundamentals or {}).items()
        }
        self._macro = {k: self._checked(v, (n_days,), f"macro {k!r}")
                       for k, v in (macro or {}).items()}

    @classmethod
    def _from_rows(
        cls,
        as_of: np.datetime64,
        assets: tuple[AssetInfo, ...],
        index: Mapping[str, int],
        rows: slice,
        dates: np.ndarray,
        prices: np.ndarray,
        volumes: np.ndarray,
        fundamentals: Mapping[str, np.ndarray],
        macro: Mapping[str, np.ndarray],
    ) -> MarketView:
        """Build a view from ``rows`` of an already validated panel, skipping the checks.

        For trusted callers only (:meth:`alphaloop.data.panel.MarketData.view`): the
        panel has checked shapes, order and uniqueness once, and ``rows`` ends at
        ``as_of``. Every array is copied, so the view shares no memory with the panel;
        ``index`` (ticker -> column) must be read-only, since views share it.
        """
        view = cls.__new__(cls)
        view._as_of = as_of
        view._as_of_stamp = None
        view._assets = assets
        view._index = index
        view._dates = _frozen_rows(dates[rows])
        view._prices = _frozen_rows(prices[rows])
        view._volumes = _frozen_rows(volumes[rows])
        view._fundamentals = {k: _frozen_rows(v[rows]) for k, v in fundamentals.items()}
        view._macro = {k: _frozen_rows(v[rows]) for k, v in macro.items()}
        return view

    @staticmethod
    def _checked(array: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
        arr = np.asarray(array)
        if arr.shape != shape:
            raise ContractError(f"{what} has shape {arr.shape}, expected {shape}")
        return _frozen_copy(arr)

    @property
    def as_of(self) -> pd.Timestamp:
        """The view's date: its last row, the decision date."""
        if self._as_of_stamp is None:
            import pandas as pd

            self._as_of_stamp = pd.Timestamp(self._as_of)
        return self._as_of_stamp

    # -- universe -------------------------------------------------------------------
    @property
    def assets(self) -> tuple[AssetInfo, ...]:
        return self._assets

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(a.ticker for a in self._assets)

    def asset_class(self, ticker: str) -> str:
        return self._assets[self.column(ticker)].asset_class

    def tickers_in(self, asset_class: str) -> tuple[str, ...]:
        return tuple(a.ticker for a in self._assets if a.asset_class == asset_class)

    def column(self, ticker: str) -> int:
        try:
            return self._index[ticker]
        except KeyError:
            raise ContractError(f"unknown ticker {ticker!r}") from None

    # -- arrays (read-only) -----------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """The view's trading days (a fresh index each call)."""
        import pandas as pd

        return pd.DatetimeIndex(self._dates.copy())

    @property
    def n_days(self) -> int:
        return len(self._dates)

    @property
    def prices(self) -> np.ndarray:
        return self._prices

    @property
    def volumes(self) -> np.ndarray:
        return self._volumes

    @property
    def returns(self) -> np.ndarray:
        """Simple daily returns, ``[day - 1, asset]`` (one row fewer than prices).

        NaN where either close is missing (the asset was not listed on one of the days):
        no return, never a number made across a gap."""
        out = self._prices[1:] / self._prices[:-1] - 1.0
        out.setflags(write=False)
        return out

    @property
    def fundamental_fields(self) -> tuple[str, ...]:
        return tuple(self._fundamentals)

    def fundamental(self, field: str) -> np.ndarray:
        try:
            return self._fundamentals[field]
        except KeyError:
            raise ContractError(
                f"unknown fundamental {field!r}; available: {sorted(self._fundamentals)}"
            ) from None

    @property
    def macro_series(self) -> tuple[str, ...]:
        return tuple(self._macro)

    def macro(self, name: str) -> np.ndarray:
        try:
            return self._macro[name]
        except KeyError:
            raise ContractError(
                f"unknown macro series {name!r}; available: {sorted(self._macro)}"
            ) from None

    # -- pandas conveniences (always fresh copies) ------------------------------------
    def price_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self._prices.copy(), index=self.dates, columns=list(self.tickers))

    def return_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.returns.copy(), index=self.dates[1:], columns=list(self.tickers))

    def tail(self, n: int) -> MarketView:
        """The last ``n`` days of this view (a new, smaller view)."""
        import pandas as pd

        n = max(1, min(int(n), self.n_days))
        return MarketView(
            as_of=self.as_of,
            assets=self._assets,
            dates=pd.DatetimeIndex(self._dates[-n:]),
            prices=self._prices[-n:],
            volumes=self._volumes[-n:],
            fundamentals={k: v[-n:] for k, v in self._fundamentals.items()},
            macro={k: v[-n:] for k, v in self._macro.items()},
        )

    def __repr__(self) -> str:
        return (f"MarketView(as_of={self.as_of.date()}, days={self.n_days}, "
                f"assets={len(self._assets)})")

    def __reduce__(self) -> Any:  # pickling keeps the point-in-time copy only
        import pandas as pd

        return (
            _rebuild_view,
            (self.as_of, self._assets, pd.DatetimeIndex(self._dates), self._prices,
             self._volumes,
             self._fundamentals, self._macro),
        )


def _rebuild_view(as_of, assets, dates, prices, volumes, fundamentals, macro) -> MarketView:
    return MarketView(as_of=as_of, assets=assets, dates=dates, prices=prices, volumes=volumes,
                      fundamentals=fundamentals, macro=macro)


class PortfolioState(BaseModel):
    """The portfolio as the harness holds it just before a decision."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: datetime
    weights: dict[str, float] = Field(description="current (drifted) weight per ticker")
    cash: float = Field(description="weight held in cash")
    value: float = Field(gt=0, description="portfolio value in currency units")
    peak_value: float = Field(gt=0, description="highest value so far, for drawdown rules")
    last_rebalance: datetime | None = None

    @property
    def drawdown(self) -> float:
        return 1.0 - self.value / self.peak_value


class Decision(BaseModel):
    """A strategy's answer: target weights plus an optional record kept for attribution."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float]
    record: dict[str, Any] = Field(default_factory=dict)


class WeightPolicy(BaseModel):
    """Limits the harness enforces on every answer (from ``policies/``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_short: bool = False
    max_gross: float = Field(default=1.0, gt=0)
    tolerance: float = Field(default=1e-9, ge=0)


@runtime_checkable
class Strategy(Protocol):
    """What the harness calls. ``lookback`` (optional attribute) caps the view's days;
    ``wants_llm`` and ``use_llm`` (optional) ask for a model, see :class:`ModelUnavailable`."""

    def decide(self, view: MarketView, portfolio: PortfolioState) -> Decision | Mapping[str, float]:
        ...


_DEFAULT_POLICY = WeightPolicy()


@functools.lru_cache(maxsize=64)
def _positions(tickers: tuple[str, ...]) -> Mapping[str, int]:
    return MappingProxyType({t: i for i, t in enumerate(tickers)})


def _valid_floats(weights: Mapping[str, Any], tickers: tuple[str, ...],
                  policy: WeightPolicy) -> np.ndarray | None:
    """The weights as an array when they are plainly valid numbers, else ``None``.

    The common case, checked with a few passes over a short list; anything unusual (a
    value that is not a float, an unknown ticker, a bound broken) returns ``None`` so
    that the checks of :func:`validate_weights` find and name it.
    """
    values = list(weights.values())
    try:
        array = np.array(values)
    except (TypeError, ValueError):
        return None
    if array.dtype != np.float64 or array.ndim != 1:
        return None  # strings, objects, nested sequences, other number types
    total = sum(values)
    if not math.isfinite(total):  # a NaN or an infinity anywhere makes the sum one
        return None
    low = min(values, default=0.0)
    gross = total
    if low < 0.0:
        if not policy.allow_short and low < -policy.tolerance:
            return None
        gross = sum(map(abs, values))
    if gross > policy.max_gross + policy.tolerance:
        return None
    if tuple(weights) == tickers:  # every ticker, in universe order
        out = array
    else:
        try:
            columns = list(map(_positions(tickers).__getitem__, weights))
        except (KeyError, TypeError):
            return None
        out = np.zeros(len(tickers))
        out[columns] = array
    if low < 0.0 and not policy.allow_short:
        np.maximum(out, 0.0, out=out)
    return out


def validate_weights(
    answer: Decision | Mapping[str, float],
    tickers: Sequence[str],
    *,
    as_of: datetime | None = None,
    policy: WeightPolicy | None = None,
) -> np.ndarray:
    """Check a strategy's answer and return weights aligned with ``tickers``.

    Missing tickers mean zero; whatever the weights leave unallocated is cash. Raises
    :class:`WeightError` naming the date, the asset and the value on the first problem:
    a non-number, a NaN or infinite weight, a negative weight when shorts are not
    allowed, an unknown ticker, or a total above ``policy.max_gross``.
    """
    policy = policy or _DEFAULT_POLICY
    weights = answer.weights if isinstance(answer, Decision) else answer
    if not isinstance(weights, Mapping):
        raise WeightError(
            f"a strategy must return a mapping of ticker to weight or a Decision, "
            f"got {type(answer).__name__}", as_of=as_of)
    tickers = tuple(tickers)
    fast = _valid_floats(weights, tickers, policy)
    if fast is not None:
        return fast
    # Something is wrong (or merely unusual): find the first problem and name it.
    position = _positions(tickers)
    out = np.zeros(len(tickers))
    for asset, raw in weights.items():
        if asset not in position:
            raise WeightError(
                f"unknown ticker {asset!r} (weight {raw!r}); the universe is "
                f"{', '.join(tickers)}", as_of=as_of, asset=str(asset))
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise WeightError(f"weight of {asset} is not a number: {raw!r}",
                              as_of=as_of, asset=asset) from None
        if not math.isfinite(value):
            raise WeightError(f"weight of {asset} is {value}", as_of=as_of, asset=asset,
                              value=value)
        if value < -policy.tolerance and not policy.allow_short:
            raise WeightError(f"weight of {asset} is negative ({value:.6g}) and the policy "
                              "allows no shorts", as_of=as_of, asset=asset, value=value)
        out[position[asset]] = value
    with np.errstate(over="ignore"):  # weights near the float limit sum to inf: refused
        gross = float(np.abs(out).sum())
    if gross > policy.max_gross + policy.tolerance:
        top = tickers[int(np.argmax(np.abs(out)))] if len(tickers) else "?"
        raise WeightError(
            f"weights sum to {gross:.6g}, above the limit {policy.max_gross:g} "
            f"(largest: {top} at {out[position[top]]:.6g}); the rest of 1 is held in cash",
            as_of=as_of, asset=top, value=gross)
    if not policy.allow_short:
        out = np.clip(out, 0.0, None)
    return out
