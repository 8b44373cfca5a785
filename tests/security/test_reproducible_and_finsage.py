"""The sandbox is reproducible, and the real strategy passes the look-ahead check.

- The child honours ``PYTHONHASHSEED``: a strategy whose weights follow the iteration
  order of a set of strings (which differs between interpreters with random hash seeds)
  decides the same in two separate sandboxes.
- FinSage (the ``strategy/`` package of this repository) passes both parts of the
  dynamic look-ahead check, prefix invariance and the oracle test, on a short window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from alphaloop.checks.findings import Severity
from alphaloop.contract import PortfolioState
from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.harness import Window
from alphaloop.policy import load_policies
from alphaloop.policy.risk import LookaheadRules
from alphaloop.repo import GitRepo
from alphaloop.repo.identity import Identity
from alphaloop.roles.risk.lookahead import lookahead_findings
from alphaloop.sandbox import Limits, ProcessSandbox, SandboxedStrategy, open_sandbox

PROJECT = Path(__file__).resolve().parents[2]
HUMAN = Identity(name="Test Human", email="human@example.com")
LAMBDA = load_policies(PROJECT).risk.process.reward_lambda

NAMES = [f"name-{i}" for i in range(40)]
SET_ORDER = f'''
NAMES = {NAMES!r}


class SetOrder:
    lookback = 20

    def decide(self, view, portfolio):
        order = [n for n in set(NAMES) if n in NAMES[:len(view.tickers)]]
        rank = {{n: i for i, n in enumerate(order)}}
        total = sum(range(1, len(order) + 1))
        return {{t: 0.9 * (rank[NAMES[i]] + 1) / total
                 for i, t in enumerate(view.tickers)}}


def create_strategy(**kwargs):
    return SetOrder()
'''


def _set_order(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    code = f"print([n for n in set({NAMES!r})])"
    return subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True).stdout


def test_the_sandboxed_child_honours_the_hash_seed(small_panel, tmp_path: Path) -> None:
    # the strategy's answer really depends on the seed: two seeds, two orders
    assert _set_order("1") != _set_order("2")
    checkout = tmp_path / "co"
    (checkout / "strategy").mkdir(parents=True)
    (checkout / "strategy" / "__init__.py").write_text(SET_ORDER)
    answers = []
    for run in range(2):  # two separate sandboxes, two interpreters
        with SandboxedStrategy(ProcessSandbox(Limits(wall_seconds=30)), checkout=checkout,
                               scratch=tmp_path / f"scratch{run}") as strategy:
            view = small_panel.view(100, 40)
            decision = strategy.decide(view, PortfolioState(
                as_of=view.as_of, weights={}, cash=1.0, value=1.0, peak_value=1.0))
        answers.append(decision.weights)
    assert answers[0] == answers[1]
    assert len(set(answers[0].values())) == len(answers[0])  # the order shows in the answer


def test_finsage_passes_the_lookahead_check(tmp_path: Path) -> None:
    panel = SyntheticSource(SyntheticConfig(years=3)).load()
    work = tmp_path / "repo"
    repo = GitRepo.init(work)
    shutil.copytree(PROJECT / "strategy", work / "strategy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    sha = repo.commit_all(work, "FinSage", HUMAN)
    evaluator = Evaluator(repo, open_sandbox(),
                          EvalSettings(frequency="monthly", reward_lambda=LAMBDA),
                          cache_dir=tmp_path / "cache")
    window = Window(start=panel.dates[300].date(), end=panel.dates[-1].date(), label="in")
    try:
        findings = {f.check: f for f in lookahead_findings(
            evaluator, sha, panel, window, LookaheadRules(), seed=2024)}
    finally:
        evaluator.close()
    assert findings["lookahead.prefix"].severity == Severity.PASS, findings["lookahead.prefix"]
    assert findings["lookahead.oracle"].severity == Severity.PASS, findings["lookahead.oracle"]
    assert findings["lookahead.prefix"].evidence["compared"] >= 3
    assert findings["lookahead.oracle"].evidence["decisions"] >= 10
