"""Backtests of a commit's strategy, run in the sandbox and cached.

Both the Quant and Risk evaluate strategy code through :class:`Evaluator`: it writes
the commit's tree, exactly as stored, into a cache directory (never the user's checkout,
which may hold uncommitted edits), runs the strategy behind
:class:`~alphaloop.sandbox.SandboxedStrategy` while the trusted harness does the
accounting, and caches each result (:class:`~alphaloop.evaluation.cache.BacktestCache`)
by the strategy tree hash, the data hash, the window, the settings and the AlphaLoop
version. :meth:`Evaluator.prefetch` runs independent backtests in parallel through an
:class:`~alphaloop.evaluation.executor.Executor` into that cache, where
:meth:`Evaluator.backtest` then finds them.

A strategy that asks a model is answered by the evaluator's ``answerer``
(:mod:`alphaloop.evaluation.model_answers`; none: every question refused). Its ``mode``
is part of the cache key, so a result is never served to a cycle whose model answers
differently; and a backtest that met a refusal another run may not repeat (no answer
recorded yet, a provider down) is not cached at all.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from alphaloop.data.panel import MarketData
from alphaloop.evaluation.cache import BacktestCache, read_cache_settings
from alphaloop.evaluation.executor import Executor, SerialExecutor
from alphaloop.evaluation.space import ParamSpace, read_param_space
from alphaloop.harness import BacktestResult, Costs, Window, simulate
from alphaloop.harness.metrics import max_drawdown, reward, sharpe_ratio
from alphaloop.harness.windows import Fold
from alphaloop.records import FoldScore, RunMetrics
from alphaloop.repo import GitRepo, materialise_tree
from alphaloop.sandbox import ModelAnswerer, ModelLimits, Sandbox, SandboxedStrategy

__all__ = ["EvalSettings", "Evaluator", "fold_scores", "reward", "run_metrics"]


class EvalSettings(BaseModel):
    """How the cycle backtests strategies (from ``alphaloop cycle`` options)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str = "default"
    frequency: str = "weekly"
    costs: Costs = Field(default_factory=Costs)
    reward_lambda: float = Field(ge=0, description="lambda of the reward: [process] "
                                                   "reward_lambda of policies/risk.toml")


def run_metrics(result: BacktestResult, label: str, lam: float) -> RunMetrics:
    """A run's figures for the records, with its :func:`~alphaloop.harness.metrics.reward`
    at ``lam``."""
    m = result.metrics
    return RunMetrics(
        label=label, start=result.dates[0], end=result.dates[-1], sharpe=m.sharpe,
        annual_return=m.annual_return, annual_volatility=m.annual_volatility,
        max_drawdown=m.max_drawdown, calmar=m.calmar, var_95=m.var_95, turnover=m.turnover,
        reward=reward(np.asarray(result.returns), lam), n_days=m.n_days)


def fold_scores(result: BacktestResult, folds: tuple[Fold, ...], lam: float) -> list[FoldScore]:
    """Reward on each walk-forward test window, sliced from one in-sample run."""
    dates = pd.DatetimeIndex(pd.to_datetime(list(result.dates)))
    returns = np.asarray(result.returns)
    out = []
    for fold in folds:
        mask = (dates >= pd.Timestamp(fold.test.start)) & (dates <= pd.Timestamp(fold.test.end))
        r = returns[mask]
        if len(r) < 2:
            continue
        out.append(FoldScore(label=fold.test.label, sharpe=float(sharpe_ratio(r)),
                             max_drawdown=float(max_drawdown(r)), reward=reward(r, lam)))
    return out


class Evaluator:
    """Run (or fetch from cache) a commit's backtest over a window."""

    def __init__(self, repo: GitRepo, sandbox: Sandbox,
                 settings: EvalSettings, *, cache_dir: Path | None = None,
                 cache: BacktestCache | None = None, executor: Executor | None = None,
                 scratch_suffix: str = "", answerer: ModelAnswerer | None = None,
                 model_limits: ModelLimits | None = None) -> None:
        self.repo = repo
        self.answerer = answerer
        self.model_limits = model_limits
        self.executor: Executor = executor or SerialExecutor()
        self.scratch_suffix = scratch_suffix
        self.sandbox = sandbox
        self.settings = settings
        if cache is None:
            cache = BacktestCache(cache_dir or repo.alphaloop_dir / "cache",
                                  max_bytes=read_cache_settings(repo.work_tree).max_bytes)
        self.cache = cache
        self.cache_dir = cache.root
        self.runs = 0
        self.hits = 0
        self._hosts: dict[str, SandboxedStrategy] = {}
        self._spaces: dict[str, ParamSpace] = {}

    # -- trees ------------------------------------------------------------------------
    def strategy_tree(self, sha: str) -> str:
        return self.repo.tree_hash(sha, "strategy")

    def checkout(self, sha: str) -> Path:
        """A read-only copy of ``strategy/`` at ``sha``, exactly as git stores it.

        Written by :func:`~alphaloop.repo.materialise_tree` (no attributes, filters or
        hooks), so the code that runs is the code the checks read and the merge lands;
        shared by equal trees.
        """
        tree = self.strategy_tree(sha)
        root = self.cache.checkouts / tree
        if (root / "strategy").is_dir():
            self.cache.used(root)
            return root
        # each process writes its own copy, and the first to rename it wins
        staging = root.with_name(f".{tree}.{os.getpid()}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            materialise_tree(self.repo, sha, staging, paths=("strategy",))
            staging.rename(root)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not (root / "strategy").is_dir():  # not another process's copy, renamed first
                raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.cache.enforce()
        return root

    # -- backtests --------------------------------------------------------------------
    def _key(self, tree: str, data: MarketData, window: Window, *, fresh: bool = False) -> str:
        body = {"tree": tree, "data": data.content_hash(),
                "window": window.model_dump(mode="json"),
                "settings": self.settings.model_dump(mode="json")}
        if self.answerer is not None:  # what answers the strategy's questions to a model
            body["model"] = self.answerer.mode
        return self.cache.key({**body, "process": "fresh"} if fresh else body)

    def _sandboxed(self, sha: str, scratch: Path) -> SandboxedStrategy:
        return SandboxedStrategy(self.sandbox, checkout=self.checkout(sha), scratch=scratch,
                                 kwargs={"profile": self.settings.profile},
                                 answerer=self.answerer, model_limits=self.model_limits)

    def _store(self, key: str, result: BacktestResult, strategy: SandboxedStrategy) -> None:
        """Cache ``result`` unless a model's refusal it met may not happen again."""
        if strategy.model_usage.unsettled == 0:
            self.cache.put(key, result)

    def is_cached(self, sha: str, data: MarketData, window: Window) -> bool:
        return self.cache.contains(self._key(self.strategy_tree(sha), data, window))

    def backtest(self, sha: str, data: MarketData, window: Window) -> BacktestResult:
        tree = self.strategy_tree(sha)
        key = self._key(tree, data, window)
        cached = self.cache.get(key)
        if cached is not None:
            self.hits += 1
            return cached
        strategy = self._host(sha, tree, data)
        try:
            result = simulate(strategy, data, window, frequency=self.settings.frequency,
                              costs=self.settings.costs, lookback=strategy.lookback)
        except BaseException:
            self._hosts.pop(tree, None)
            strategy.close()
            raise
        self.runs += 1
        self._store(key, result, strategy)
        return result

    def fresh_backtests(self, sha: str,
                        runs: Sequence[tuple[MarketData, Window]]) -> list[BacktestResult]:
        """Backtests of ``sha`` in a sandboxed child of their own, never the reused one
        :meth:`backtest` keeps (which may carry state from earlier backtests): one new
        child for the runs not cached yet, reset between them. Cached apart from
        :meth:`backtest`'s results, since the process they ran in is part of the question.
        """
        tree = self.strategy_tree(sha)
        keys = [self._key(tree, panel, window, fresh=True) for panel, window in runs]
        results = [self.cache.get(key) for key in keys]
        todo = [i for i, result in enumerate(results) if result is None]
        self.hits += len(runs) - len(todo)
        if not todo:
            return [r for r in results if r is not None]
        with tempfile.TemporaryDirectory(prefix="alphaloop-fresh-") as scratch, \
                self._sandboxed(sha, Path(scratch)) as child:
            child.start(runs[todo[0]][0].view(0, 1))
            for i in todo:
                panel, window = runs[i]
                child.reset()
                result = simulate(child, panel, window, frequency=self.settings.frequency,
                                  costs=self.settings.costs, lookback=child.lookback)
                self.runs += 1
                self._store(keys[i], result, child)
                results[i] = result
        return [r for r in results if r is not None]

    def _host(self, sha: str, tree: str, data: MarketData) -> SandboxedStrategy:
        """A sandboxed child for ``tree``, started once and reset between backtests."""
        host = self._hosts.get(tree)
        if host is None:
            scratch = self.cache_dir / "scratch" / (tree + self.scratch_suffix)
            scratch.mkdir(parents=True, exist_ok=True)
            host = self._sandboxed(sha, scratch)
            host.start(data.view(0, 1))
            self._hosts[tree] = host
        else:
            host.reset()
        return host

    def prefetch(self, jobs: Sequence[tuple[str, MarketData, Window]], *,
                 fresh: Sequence[tuple[str, MarketData, Window]] = ()) -> int:
        """Run the backtests of ``jobs`` (sha, data, window) not yet cached through the
        executor, in parallel, into the cache; return how many ran. ``fresh`` are runs
        for :meth:`fresh_backtests`: each commit's run in a child of their own.

        Each worker hosts its own sandboxed child and stores its result in the shared cache,
        from which :meth:`backtest` then reads it. A backtest that fails in a worker is
        simply not cached: :meth:`backtest` runs it again here and reports its error as it
        would have without prefetching. With the serial executor nothing runs here.
        """
        if isinstance(self.executor, SerialExecutor):
            return 0
        todo: dict[str, tuple[str, MarketData, Window]] = {}
        for sha, data, window in jobs:
            key = self._key(self.strategy_tree(sha), data, window)
            if key not in todo and not self.cache.contains(key):
                todo[key] = (sha, data, window)
        apart: dict[str, list[tuple[MarketData, Window]]] = {}
        for sha, data, window in fresh:
            if not self.cache.contains(self._key(self.strategy_tree(sha), data, window,
                                                 fresh=True)):
                apart.setdefault(sha, []).append((data, window))
        if len(todo) + len(apart) < 2:
            return 0
        try:
            pickle.dumps((self.sandbox, self.answerer))
        except (pickle.PicklingError, TypeError, AttributeError):
            return 0  # bound to this process (a docker client, a live model): run them here
        by_sha: dict[str, list[tuple[MarketData, Window]]] = {}
        for sha, data, window in todo.values():
            by_sha.setdefault(sha, []).append((data, window))
        # one sandboxed child per batch: each sha's backtests split over its share of workers
        share = max(1, self.executor.workers // max(1, len(by_sha)))
        seconds = self.sandbox.deadline()[0] - time.monotonic()
        common = {"work_tree": self.repo.work_tree, "settings": self.settings,
                  "sandbox": self.sandbox, "cache_root": self.cache.root,
                  "max_bytes": self.cache.max_bytes, "seconds": seconds,
                  "answerer": self.answerer, "model_limits": self.model_limits}
        batches = [_Batch(sha=sha, runs=tuple(runs[i::share]), **common)
                   for sha, runs in by_sha.items() for i in range(min(share, len(runs)))]
        batches += [_Batch(sha=sha, runs=tuple(runs), fresh=True, **common)
                    for sha, runs in apart.items()]
        for sha in {*by_sha, *apart}:
            self.checkout(sha)  # written once here rather than raced by the workers
        return sum(self.executor.map(_prefetched, batches))

    def close(self) -> None:
        """Stop every sandboxed child this evaluator started, and the executor."""
        for host in self._hosts.values():
            host.close()
        self._hosts.clear()
        self.executor.close()

    def returns_of(self, sha: str, data: MarketData, window: Window) -> np.ndarray:
        return np.asarray(self.backtest(sha, data, window).returns)

    def metrics(self, result: BacktestResult, label: str) -> RunMetrics:
        return run_metrics(result, label, self.settings.reward_lambda)

    # -- the parameter space ----------------------------------------------------------
    def param_space(self, sha: str) -> ParamSpace:
        """The tunables ``sha``'s strategy declares, read in the sandbox once per tree
        (the review and the hypothesis of a cycle both read ``main``'s)."""
        tree = self.strategy_tree(sha)
        if tree not in self._spaces:
            self._spaces[tree] = read_param_space(self.sandbox, self.checkout(sha),
                                                  self.cache_dir / "scratch" / "space")
        return self._spaces[tree]



@dataclass(frozen=True)
class _Batch:
    """Backtests of one commit for one worker: everything it needs, picklable."""

    work_tree: Path
    sha: str
    runs: tuple[tuple[MarketData, Window], ...]
    settings: EvalSettings
    sandbox: Sandbox
    cache_root: Path
    max_bytes: int
    seconds: float
    """what was left of the sandbox's wall-time budget when the batch was made"""
    fresh: bool = False
    """run them with :meth:`Evaluator.fresh_backtests`"""
    answerer: ModelAnswerer | None = None
    model_limits: ModelLimits | None = None


def _prefetched(batch: _Batch) -> int:
    """Run ``batch`` in a worker, one sandboxed child for all its backtests, into the
    cache; how many ran (a failure stops the batch: the caller runs the rest again and
    reports the error)."""
    done = 0
    try:
        evaluator = Evaluator(GitRepo.open(batch.work_tree), batch.sandbox, batch.settings,
                              cache=BacktestCache(batch.cache_root, max_bytes=batch.max_bytes),
                              scratch_suffix=f".{os.getpid()}", answerer=batch.answerer,
                              model_limits=batch.model_limits)
        budget = batch.sandbox.budget(batch.seconds) if batch.seconds > 0 else nullcontext()
        try:
            with budget:
                if batch.fresh:
                    done = len(evaluator.fresh_backtests(batch.sha, batch.runs))
                else:
                    for data, window in batch.runs:
                        evaluator.backtest(batch.sha, data, window)
                        done += 1
        finally:
            evaluator.close()
    except Exception:  # any failure: the caller runs it again and reports it
        return done
    return done
