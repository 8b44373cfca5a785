"""The dynamic look-ahead check against strategies that know the future.

A strategy keeping rows of an earlier backtest in a module global fails prefix
invariance; a strategy carrying its own copy of the market (here: the true prices in a
module of its package, as a rebuilt seeded generator would give) trades five days ahead,
passes prefix invariance and fails the oracle test; the honest fixture passes both.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from alphaloop.checks.findings import Severity
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.evaluation.lookahead import prefix_finding
from alphaloop.harness import Window
from alphaloop.policy import load_policies
from alphaloop.policy.risk import LookaheadRules
from alphaloop.repo import GitRepo
from alphaloop.repo.identity import Identity
from alphaloop.roles.risk.lookahead import lookahead_findings, perturb_future
from alphaloop.sandbox import open_sandbox

FIXTURE = Path(__file__).resolve().parents[1] / "cycle" / "fixture" / "strategy"
HUMAN = Identity(name="Test Human", email="human@example.com")
LAMBDA = load_policies(Path(__file__).resolve().parents[2]).risk.process.reward_lambda

STATEFUL = '''
SEEN = {}  # survives reset(): rows from every backtest this process has run


class Remembers:
    lookback = 60

    def decide(self, view, portfolio):
        for i, day in enumerate(view.dates):
            SEEN[day] = view.prices[i]
        later = sorted(d for d in SEEN if d > view.as_of)
        if len(later) >= 5:
            ahead = SEEN[later[4]] / view.prices[-1] - 1.0
            best = int(ahead.argmax())
            return {t: (0.15 if i == best else 0.02) for i, t in enumerate(view.tickers)}
        return {t: 0.02 for t in view.tickers}


def create_strategy(**kwargs):
    return Remembers()
'''

ORACLE = '''
from strategy._market import DATES, PRICES


class Oracle:
    lookback = 60

    def decide(self, view, portfolio):
        row = DATES.index(str(view.as_of.date()))
        now, ahead = PRICES[row], PRICES[min(row + 5, len(PRICES) - 1)]
        gains = [a / b - 1.0 for a, b in zip(ahead, now)]
        best = sorted(range(len(gains)), key=gains.__getitem__)[-4:]
        return {t: (0.15 if i in best else 0.0) for i, t in enumerate(view.tickers)}


def create_strategy(**kwargs):
    return Oracle()
'''


@pytest.fixture(scope="module")
def panel():
    return SyntheticSource(SyntheticConfig(years=4)).load()


def _evaluate(tmp_path: Path, write, panel):
    work = tmp_path / "repo"
    repo = GitRepo.init(work)
    write(work / "strategy")
    sha = repo.commit_all(work, "strategy", HUMAN)
    evaluator = Evaluator(repo, open_sandbox(),
                          EvalSettings(frequency="monthly", reward_lambda=LAMBDA),
                          cache_dir=tmp_path / "cache")
    window = Window(start=panel.dates[300].date(), end=panel.dates[-1].date(), label="in")
    try:
        findings = lookahead_findings(evaluator, sha, panel, window, LookaheadRules(),
                                      seed=12345)
    finally:
        evaluator.close()
    return {f.check: f for f in findings}


def test_perturbed_future_keeps_the_past_and_replaces_the_rest(panel) -> None:
    cut = 500
    changed = perturb_future(panel, cut, np.random.default_rng(1))
    assert np.array_equal(changed.prices[:cut + 1], panel.prices[:cut + 1])
    assert not np.allclose(changed.prices[cut + 1:], panel.prices[cut + 1:])
    assert np.all(changed.prices > 0)


def test_honest_fixture_passes_both(tmp_path: Path, panel) -> None:
    found = _evaluate(tmp_path, lambda d: shutil.copytree(FIXTURE, d), panel)
    assert found["lookahead.prefix"].severity == Severity.PASS, found["lookahead.prefix"]
    assert found["lookahead.oracle"].severity == Severity.PASS, found["lookahead.oracle"]


def test_a_second_review_reads_the_probes_from_the_cache(tmp_path: Path, panel) -> None:
    work = tmp_path / "repo"
    repo = GitRepo.init(work)
    (work / "strategy").mkdir(parents=True)
    (work / "strategy" / "__init__.py").write_text(STATEFUL)
    sha = repo.commit_all(work, "strategy", HUMAN)
    window = Window(start=panel.dates[300].date(), end=panel.dates[-1].date(), label="in")
    findings, runs = [], []
    for _ in range(2):  # a new evaluator each time: only the cache on disk is shared
        evaluator = Evaluator(repo, open_sandbox(),
                              EvalSettings(frequency="monthly", reward_lambda=LAMBDA),
                              cache_dir=tmp_path / "cache")
        try:
            findings.append(prefix_finding(evaluator, sha, panel, window, LookaheadRules(),
                                           seed=12345))
        finally:
            evaluator.close()
        runs.append(evaluator.runs)
    assert runs[0] >= 1 + LookaheadRules().probes  # the reference run and every probe
    assert runs[1] == 0
    assert findings[1] == findings[0]
    assert findings[1].severity == Severity.BLOCK  # the cached probes still catch it


def test_state_carried_between_backtests_fails_prefix_invariance(tmp_path: Path,
                                                                 panel) -> None:
    def write(directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / "__init__.py").write_text(STATEFUL)

    found = _evaluate(tmp_path, write, panel)
    prefix = found["lookahead.prefix"]
    assert prefix.severity == Severity.BLOCK
    assert "after the decision date" in prefix.message
    assert prefix.evidence["max_weight_difference"] > 0.05


def test_a_strategy_carrying_the_market_fails_the_oracle_test(tmp_path: Path,
                                                             panel) -> None:
    def write(directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / "__init__.py").write_text(ORACLE)
        dates = [str(d.date()) for d in panel.dates]
        (directory / "_market.py").write_text(
            f"DATES = {dates!r}\nPRICES = {panel.prices.round(6).tolist()!r}\n")

    found = _evaluate(tmp_path, write, panel)
    assert found["lookahead.prefix"].severity == Severity.PASS  # same answer any future
    oracle = found["lookahead.oracle"]
    assert oracle.severity == Severity.BLOCK, oracle.message
    assert oracle.evidence["z"] > LookaheadRules().max_z
    assert "decisions know the future" in oracle.message
