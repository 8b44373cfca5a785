"""The trusted simulation: ask a strategy for weights, trade them, account for the result.

Accounting, per window day ``d`` (positions in the data, closes ``P[d]``):

- The portfolio starts in cash, ``initial_capital``, before the window's first day.
- On each decision date ``t`` (see :mod:`alphaloop.harness.schedule`) the strategy gets
  ``data.view(t, lookback)`` (history up to and including ``t``, never after) and the
  current :class:`~alphaloop.contract.PortfolioState`: the *drifted* weights
  ``w_old = units * P[t] / V``, where ``V`` is the value at the close of ``t``.
- Its answer is checked by :func:`~alphaloop.contract.validate_weights`. If the largest
  ``|w_new - w_old|`` is at least ``rebalance_threshold`` the portfolio trades at that
  close: it holds ``w_new * V`` of each asset (``units = w_new * V / P[t]``) and pays
  ``cost = (commission + slippage) * sum |w_new - w_old| * V`` from cash, which keeps
  the rest, ``V * (1 - sum w_new) - cost``. Otherwise nothing is traded (the strategy was
  still asked). Cash earns zero; a fully invested target leaves cash at ``-cost``.
- Between decisions the units are fixed and the weights drift with prices: the values of
  a holding period are ``P[block] @ units + cash`` for the whole block at once (the
  cumulative product of gross returns, read straight from the price ratios).
- Ragged data (see :attr:`~alphaloop.data.panel.MarketData.listed`): a target weight on
  an asset without a price on the decision date is a
  :class:`~alphaloop.contract.WeightError` naming the asset, the date and its listing.
  When a held asset's series ends (its last listed day ``L``), the holding is
  liquidated to cash at its last price ``P[L]``, without cost, and counts as cash from
  ``L + 1`` on; the value of an unlisted asset is never read, so no value is NaN.

The strategy never computes P&L: returns, weights, costs and metrics all come from here.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from alphaloop.contract import (
    Decision,
    PortfolioState,
    WeightError,
    WeightPolicy,
    validate_weights,
)
from alphaloop.data.panel import MarketData
from alphaloop.errors import InfrastructureFailure
from alphaloop.harness._json import jsonable
from alphaloop.harness.checkpoint import (
    Checkpoint,
    CheckpointConfig,
    load_checkpoint,
    save_checkpoint,
)
from alphaloop.harness.config import BacktestConfig, Costs, Frequency
from alphaloop.harness.errors import CheckpointError, SimulationError, StrategyError
from alphaloop.harness.metrics import compute_metrics
from alphaloop.harness.result import BacktestResult, DecisionLog
from alphaloop.harness.schedule import rebalance_positions
from alphaloop.harness.windows import Window

__all__ = ["ProgressCallback", "simulate"]

ProgressCallback = Callable[[int, int], None]
"""Called after each decision with (decisions done, decisions in the run)."""

# The ufunc reductions behind ndarray.sum/min/max, called directly: the same arithmetic
# without the Python-level wrappers, which matter on 30-element arrays decided 1000s of times.
_sum, _max = np.add.reduce, np.maximum.reduce


@dataclass
class _Ledger:
    """The mutable accounting of one run; everything a checkpoint must restore."""

    units: np.ndarray
    cash: float
    peak: float
    values: np.ndarray  # one per window day, filled up to ``upto``
    upto: int  # last data position whose end-of-day value is known
    last_rebalance: datetime | None = None
    period_units: list[np.ndarray] = field(default_factory=list)
    # the decision log, one entry per decision (columns of DecisionLog)
    dates: list[date] = field(default_factory=list)
    decision_values: list[float] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    deviation: list[float] = field(default_factory=list)
    traded: list[bool] = field(default_factory=list)
    turnover: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.dates)

    def log(self) -> DecisionLog:
        return DecisionLog(
            dates=tuple(self.dates), values=self.decision_values,
            targets=np.array(self.targets), deviation=self.deviation,
            traded=tuple(self.traded), turnover=self.turnover, cost=self.cost,
            records=tuple(self.records))

    def restore_log(self, log: DecisionLog) -> None:
        self.dates = list(log.dates)
        self.decision_values = log.values.tolist()
        self.targets = list(log.targets)
        self.deviation = log.deviation.tolist()
        self.traded = list(log.traded)
        self.turnover = log.turnover.tolist()
        self.cost = log.cost.tolist()
        self.records = list(log.records)


def _strategy_name(strategy: Any) -> str:
    name = getattr(strategy, "name", None)
    return name if isinstance(name, str) and name else type(strategy).__qualname__


def _lookback(strategy: Any, lookback: int | None) -> int | None:
    value = lookback if lookback is not None else getattr(strategy, "lookback", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SimulationError(f"lookback must be a positive whole number of days, got {value!r}")
    return int(value)


class _Run:
    """One simulation: fixed inputs plus a :class:`_Ledger`."""

    def __init__(self, strategy: Any, data: MarketData, config: BacktestConfig,
                 data_hash: str, first: int, last: int) -> None:
        self.strategy = strategy
        self.data = data
        self.config = config
        self.data_hash = data_hash
        self.first, self.last = first, last
        self.schedule = rebalance_positions(data.dates, first, last, config.frequency)
        self.positions: list[int] = self.schedule.tolist()
        self.prices = data.prices
        self.ragged = data.is_ragged
        if self.ragged:  # unlisted prices read as 0: only ever multiplied by zero units
            self.prices = np.where(data.listed, data.prices, 0.0)
            self.prices.setflags(write=False)
            self.last_listed = data.last_listed
        self.tickers = data.tickers
        self.rate = config.costs.rate
        self.threshold = config.rebalance_threshold
        decision_dates = data.dates.values[self.schedule]
        self.stamps: list[datetime] = decision_dates.astype("datetime64[us]").tolist()
        self.days: list[date] = decision_dates.astype("datetime64[D]").tolist()
        self.ledger = _Ledger(
            units=np.zeros(len(self.tickers)), cash=config.initial_capital,
            peak=config.initial_capital, values=np.empty(last - first + 1), upto=first - 1)

    # -- accounting -------------------------------------------------------------------
    def _advance(self, to: int) -> float:
        """Value the holdings on days ``upto + 1 .. to`` (one holding period, vectorised).

        Returns the value at the close of ``to``.
        """
        ledger = self.ledger
        start = ledger.upto + 1
        ledger.upto = to
        if start > to:
            return float(ledger.values[to - self.first])
        block = ledger.values[start - self.first:to + 1 - self.first]  # filled in place
        np.matmul(self.prices[start:to + 1], ledger.units, out=block)  # no [day, asset] copy
        block += ledger.cash
        if self.ragged:
            self._liquidate(block, start, to)
        # A holding period is a few dozen days: plain min/max over a list beat NumPy here.
        listed = block.tolist()
        low = min(listed)
        if not (low > 0.0 and math.isfinite(sum(listed))):
            day = start + int(np.argmin(np.nan_to_num(block, nan=-np.inf)))
            low = float(block[day - start])
            raise SimulationError(
                f"the portfolio value fell to {low:.6g} on {self.data.dates[day].date()}; "
                "the simulation cannot go on (check the weight policy: leverage or shorts "
                "can wipe a portfolio out)")
        ledger.peak = max(ledger.peak, max(listed))
        return listed[-1]

    def _liquidate(self, block: np.ndarray, start: int, to: int) -> None:
        """Holdings whose series ends before ``to`` become cash at their last price."""
        ledger = self.ledger
        ending = np.flatnonzero((ledger.units != 0.0) & (self.last_listed < to))
        if not ending.size:
            return
        units = ledger.units.copy()
        for column in ending.tolist():
            last = int(self.last_listed[column])
            proceeds = float(units[column] * self.prices[last, column])
            block[max(last + 1, start) - start:] += proceeds
            ledger.cash += proceeds
            units[column] = 0.0
        ledger.units = units

    def _check_listed(self, target: np.ndarray, position: int, stamp: datetime) -> None:
        unlisted = np.flatnonzero((target != 0.0) & ~self.data.listed[position])
        if not unlisted.size:
            return
        column = int(unlisted[0])
        ticker = self.tickers[column]
        listed = self.data.listed[:, column]
        if listed.any():
            first, last = self.data.listing(ticker)
            span = f"it is listed from {first.date()} to {last.date()}"
        else:
            span = "it has no price in the data"
        raise WeightError(
            f"weight {target[column]:.6g} on {ticker}, which has no price that day "
            f"({span}); give weight only to listed assets (a NaN price means not listed)",
            as_of=stamp, asset=ticker, value=float(target[column]))

    def _decide(self, j: int) -> None:
        ledger, position = self.ledger, self.positions[j]
        value = self._advance(position)
        price = self.prices[position]
        drifted = ledger.units * price / value
        held = drifted.tolist()
        stamp, day = self.stamps[j], self.days[j]
        # Built without re-validation: every field is computed here, value > 0 is checked.
        state = PortfolioState.model_construct(
            as_of=stamp, weights=dict(zip(self.tickers, held, strict=True)),
            cash=1.0 - sum(held), value=value, peak_value=ledger.peak,
            last_rebalance=ledger.last_rebalance)
        view = self.data.view(position, self.config.lookback)
        try:
            answer = self.strategy.decide(view, state)
            record = jsonable(answer.record, keep_non_finite=False) \
                if isinstance(answer, Decision) else {}
        except InfrastructureFailure:
            raise  # the machine failed, not the strategy
        except Exception as exc:
            raise StrategyError(day, exc) from exc
        target = validate_weights(answer, self.tickers, as_of=stamp,
                                  policy=self.config.weight_policy)
        if self.ragged:
            self._check_listed(target, position, stamp)
        target.setflags(write=False)
        change = np.abs(target - drifted)
        deviation = float(_max(change))
        traded = deviation >= self.threshold
        turnover = cost = 0.0
        if traded:
            turnover = float(_sum(change))
            cost = self.rate * turnover
            amount = cost * value
            ledger.units = (target * value / price if not self.ragged else
                            np.divide(target * value, price, out=np.zeros_like(target),
                                      where=price > 0.0))
            ledger.cash = value * (1.0 - float(_sum(target))) - amount
            ledger.values[position - self.first] = value - amount
            ledger.last_rebalance = stamp
        ledger.period_units.append(ledger.units)
        ledger.dates.append(day)
        ledger.decision_values.append(value)
        ledger.targets.append(target)
        ledger.deviation.append(deviation)
        ledger.traded.append(traded)
        ledger.turnover.append(turnover)
        ledger.cost.append(cost)
        ledger.records.append(record)

    # -- checkpoints ------------------------------------------------------------------
    def snapshot(self) -> Checkpoint:
        ledger = self.ledger
        get_state = getattr(self.strategy, "get_state", None)
        state = None
        if callable(get_state):
            try:
                state = jsonable(get_state(), keep_non_finite=True)
            except Exception as exc:
                raise StrategyError(ledger.dates[-1], exc) from exc
        return Checkpoint(
            config=self.config, data_hash=self.data_hash, units=ledger.units,
            cash=ledger.cash, peak=ledger.peak, last_rebalance=ledger.last_rebalance,
            values=ledger.values[:ledger.upto + 1 - self.first],
            period_units=np.array(ledger.period_units), decisions=ledger.log(),
            strategy_state=state)

    def restore(self, checkpoint: Checkpoint) -> None:
        done = len(checkpoint.decisions)
        if not 0 < done < len(self.schedule) or \
                checkpoint.period_units.shape != (done, len(self.tickers)):
            raise CheckpointError(f"the checkpoint holds {done} decisions, which does not fit "
                                  f"this run's {len(self.schedule)}; delete it")
        if checkpoint.strategy_state is not None:
            set_state = getattr(self.strategy, "set_state", None)
            if not callable(set_state):
                raise CheckpointError("the checkpoint holds strategy state but the strategy "
                                      "has no set_state(); it cannot be resumed")
            try:
                set_state(checkpoint.strategy_state)
            except Exception as exc:
                raise StrategyError(checkpoint.decisions.dates[-1], exc) from exc
        ledger = self.ledger
        upto = int(self.schedule[done - 1])
        ledger.values[:upto + 1 - self.first] = checkpoint.values
        ledger.upto = upto
        ledger.units = np.array(checkpoint.units)
        ledger.cash, ledger.peak = checkpoint.cash, checkpoint.peak
        ledger.last_rebalance = checkpoint.last_rebalance
        ledger.period_units = list(np.array(checkpoint.period_units))
        ledger.restore_log(checkpoint.decisions)

    # -- the run ----------------------------------------------------------------------
    def run(self, progress: ProgressCallback | None,
            checkpoint: CheckpointConfig | None) -> BacktestResult:
        if checkpoint is not None and checkpoint.resume:
            saved = load_checkpoint(checkpoint.path, self.config, self.data_hash)
            if saved is not None:
                self.restore(saved)
        total = len(self.schedule)
        for j in range(self.ledger.done, total):
            self._decide(j)
            if progress is not None:
                progress(j + 1, total)
            if checkpoint is not None and (j + 1) % checkpoint.every == 0 and j + 1 < total:
                save_checkpoint(checkpoint.path, self.snapshot())
        self._advance(self.last)
        result = self._result()
        if checkpoint is not None and not checkpoint.keep:
            with contextlib.suppress(FileNotFoundError):
                checkpoint.path.unlink()
        return result

    def _result(self) -> BacktestResult:
        ledger, first, last = self.ledger, self.first, self.last
        values = ledger.values
        lengths = np.diff(np.append(self.schedule, last + 1))
        # units held each day, turned into weights in place: one [day, asset] array in all
        weights = np.repeat(np.array(ledger.period_units), lengths, axis=0)
        if self.ragged:  # liquidated holdings: units end with the series
            weights[np.arange(first, last + 1)[:, None] > self.last_listed] = 0.0
        weights *= self.prices[first:last + 1]
        weights /= values[:, None]
        previous = np.empty_like(values)
        previous[0] = self.config.initial_capital
        previous[1:] = values[:-1]
        returns = values / previous - 1.0
        log = ledger.log()
        turnover = np.zeros_like(values)
        costs = np.zeros_like(values)
        turnover[self.schedule - first] = log.turnover
        costs[self.schedule - first] = log.cost
        dates = self.data.dates[first:last + 1].values.astype("datetime64[D]").tolist()
        for array in (returns, values, weights, turnover, costs):
            array.setflags(write=False)  # read-only and owned: the result keeps, not copies
        return BacktestResult(
            config=self.config, data_hash=self.data_hash, tickers=self.tickers,
            dates=tuple(dates), returns=returns, values=values, weights=weights,
            turnover=turnover, costs=costs, decision_log=log,
            metrics=compute_metrics(returns, turnover=turnover))


def simulate(
    strategy: Any,
    data: MarketData,
    window: Window,
    *,
    frequency: Frequency = "monthly",
    costs: Costs | None = None,
    rebalance_threshold: float = 0.0,
    initial_capital: float = 1_000_000.0,
    weight_policy: WeightPolicy | None = None,
    lookback: int | None = None,
    progress: ProgressCallback | None = None,
    checkpoint: CheckpointConfig | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``data`` over ``window``; see the module notes.

    ``lookback`` (days of history per view) defaults to the strategy's own ``lookback``
    attribute, and to the whole history when neither is set. Raises
    :class:`~alphaloop.harness.errors.WindowError` for an empty or too-short window,
    :class:`~alphaloop.harness.errors.StrategyError` when the strategy raises,
    :class:`~alphaloop.contract.WeightError` for invalid weights (naming the date and
    asset) and :class:`~alphaloop.harness.errors.CheckpointError` for a checkpoint of
    another run.
    """
    first, last = window.bounds(data)
    config = BacktestConfig(
        strategy=_strategy_name(strategy), window=window, frequency=frequency,
        costs=costs or Costs(), rebalance_threshold=rebalance_threshold,
        initial_capital=initial_capital, weight_policy=weight_policy or WeightPolicy(),
        lookback=_lookback(strategy, lookback), data_source=data.source)
    run = _Run(strategy, data, config, data.content_hash(), first, last)
    return run.run(progress, checkpoint)
