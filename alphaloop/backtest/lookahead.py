"""``alphaloop check lookahead``: does any decision of the repository's strategy use data
after its date?

:func:`check_lookahead` runs the strategy of the repository it is pointed at (as
``alphaloop backtest`` does: :class:`~alphaloop.backtest.source.StrategyLocation`) in the
sandbox over the in-sample window - the held-out window is never read - and applies two
tests of :mod:`alphaloop.evaluation.lookahead`:

- **cut data**: every decision made on the full data is recomputed on the data cut at its
  date, in a fresh process; all must match (as freqtrade's lookahead-analysis does);
- **oracle**: the decisions' forward returns on the real future must look like their
  returns on futures drawn from the past (a strategy that rebuilds the market from a
  seed or a copy passes the first test and fails this one). The rules are the
  repository's ``[lookahead]`` section of ``policies/risk.toml`` (the defaults without
  one); the seed is drawn at random unless given, so the strategy cannot know it.
"""

from __future__ import annotations

import secrets
import tempfile
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.backtest.source import StrategyLocation, StrategySource, prepare_checkout
from alphaloop.checks.findings import Finding, Severity
from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.data.panel import MarketData
from alphaloop.evaluation.lookahead import (
    CutDataReport,
    PhaseProgress,
    cut_data_check,
    oracle_finding,
)
from alphaloop.harness.config import Costs, Frequency
from alphaloop.harness.windows import HOLDOUT_DAYS, MIN_HOLDOUT_DAYS, Window, research_windows
from alphaloop.policy import load_policies
from alphaloop.policy.risk import LookaheadRules
from alphaloop.repo import GitRepo

__all__ = ["LOOKAHEAD_FORMAT", "LookaheadOutcome", "LookaheadRequest", "check_lookahead"]

#: The ``format`` of ``alphaloop check lookahead --json``.
LOOKAHEAD_FORMAT = "alphaloop-lookahead/1"


class LookaheadRequest(BaseModel):
    """What ``alphaloop check lookahead`` is asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str = "default"
    data: str = "synthetic"
    frequency: Frequency = "weekly"
    holdout_days: int = Field(default=HOLDOUT_DAYS, ge=MIN_HOLDOUT_DAYS,
                              description="trading days at the end left unread")
    warmup_days: int = Field(default=TRADING_DAYS_PER_YEAR, ge=0,
                             description="history before the first decision")
    tolerance: float = Field(default=1e-9, ge=0, le=0.01,
                             description="largest weight difference that still matches")
    oracle: bool = True
    seed: int | None = Field(default=None, ge=0, description="the oracle test's seed "
                                                            "(default: drawn at random)")


class LookaheadOutcome(BaseModel):
    """Both tests' results, what ran and on which window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = LOOKAHEAD_FORMAT
    source: StrategySource
    data_source: str
    window: Window
    holdout_start: date = Field(description="first day of the held-out window, not read")
    frequency: str
    cut_data: CutDataReport
    oracle: Finding | None = None
    seed: int | None = None

    @property
    def passed(self) -> bool:
        oracle_ok = self.oracle is None or self.oracle.severity < Severity.RESTRICT
        return self.cut_data.passed and oracle_ok


def _rules(work_tree: Path) -> LookaheadRules:
    """The repository's look-ahead rules; the defaults when it has no policies."""
    if not (work_tree / "policies").is_dir():
        return LookaheadRules()
    return load_policies(work_tree).risk.lookahead


def _window(data: MarketData, request: LookaheadRequest) -> tuple[Window, Window]:
    """The in-sample window (decided on) and the held-out one (never read)."""
    split = research_windows(data, holdout_days=request.holdout_days, n_folds=0,
                             warmup_days=request.warmup_days)
    return split.in_sample, split.holdout


def check_lookahead(request: LookaheadRequest, location: StrategyLocation, *,
                    progress: PhaseProgress | None = None) -> LookaheadOutcome:
    """Run both tests on the repository's strategy (see the module docstring).

    Raises the data's, the harness's, the git layer's, the policies' and the sandbox's
    errors (:class:`~alphaloop.errors.Failure`), each with a message meant for the user.
    The strategy always runs sandboxed: ``location.unsandboxed`` is not consulted.
    """
    from alphaloop.data import open_source
    from alphaloop.sandbox import open_sandbox

    whole = open_source(request.data).load()
    window, holdout = _window(whole, request)
    data = whole.slice(end=window.end)  # the held-out rows are not even handed over
    rules = _rules(GitRepo.open(location.repo).work_tree)
    with tempfile.TemporaryDirectory(prefix="alphaloop-check-") as scratch:
        checkout = Path(scratch) / "checkout"
        source = prepare_checkout(location, checkout)
        report, full = cut_data_check(
            open_sandbox(), checkout, data, window, profile=request.profile,
            frequency=request.frequency, costs=Costs(), tolerance=request.tolerance,
            progress=progress)
    seed = None
    oracle = None
    if request.oracle:
        seed = request.seed if request.seed is not None else secrets.randbits(62)
        oracle = oracle_finding(data, full, rules, seed=seed)
    return LookaheadOutcome(source=source, data_source=whole.source, window=window,
                            holdout_start=holdout.start, frequency=request.frequency,
                            cut_data=report, oracle=oracle, seed=seed)
