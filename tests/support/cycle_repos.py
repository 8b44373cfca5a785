"""Temporary real git repositories for driving whole cycles.

``cycle_repo`` is a repository laid out like an AlphaLoop project: the project's real
``policies/``, ``roles/`` and ``pyproject.toml``, a small backlog, and the quick test
strategy of ``fixture/strategy`` (FinSage's conventions, sub-millisecond decisions).
Cycles run on a short synthetic history with monthly rebalancing.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from alphaloop.cycle import CycleOptions
from alphaloop.records import Hypothesis, ParamEdit
from alphaloop.roles.quant.search import change_key

PROJECT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).resolve().parents[1] / "cycle" / "fixture"

TASKS = """# Backlog

## T-001: Lift the walk-forward reward
- priority: high
- status: todo
- goal: reward > 5

Free text a human wrote stays as it is.

## T-002: Keep turnover low
- priority: low
- status: todo
- goal: turnover < 0.1
"""

#: The whole-cycle tests' options: small windows, and Risk's backtests run one after
#: another (the suite already runs a test file per core; tests/cycle/test_executors.py
#: shows the process pool and Ray record what the serial run records).
OPTIONS = CycleOptions(data="synthetic:years=7", frequency="monthly", holdout_days=378,
                       n_folds=2, warmup_days=150, wall_seconds=300, executor="serial")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


#: The reviewers the whole-cycle tests' repositories require unless a test asks for more
#: (``require_approval``) or for the project's own (``reviewers=None``): Risk alone keeps
#: each cycle short; QA and the Engineer have tests of their own.
QUICK_REVIEWERS = ("risk",)


def make_repo(root: Path, *, strategy: Path = FIXTURE / "strategy",
              tasks: str = TASKS,
              reviewers: tuple[str, ...] | None = QUICK_REVIEWERS) -> Path:
    """A committed AlphaLoop project: the project's policies and charters, a strategy and
    a backlog; ``policies/merge.toml`` requires ``reviewers`` (None: as the project's)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test Human")
    git(root, "config", "user.email", "human@example.com")
    for name in ("policies", "roles"):
        shutil.copytree(PROJECT / name, root / name)
    if reviewers is not None:
        merge = root / "policies" / "merge.toml"
        line = re.compile(r"^required_approvals = \[.*\]$", re.MULTILINE)
        assert line.search(merge.read_text()), "merge.toml's reviewers line moved"
        merge.write_text(line.sub("required_approvals = "
                                  + json.dumps(list(reviewers)), merge.read_text()))
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(strategy, root / "strategy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "task.md").write_text(tasks)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial project")
    return root


def require_approval(repo: Path, entry: str) -> None:
    """Commit the one line that adds a reviewer to the merge gate: ``entry`` joins Risk in
    ``policies/merge.toml`` ``required_approvals``."""
    policy = repo / "policies" / "merge.toml"
    text = policy.read_text()
    assert 'required_approvals = ["risk"]' in text, "merge.toml's reviewers line moved"
    policy.write_text(text.replace('required_approvals = ["risk"]',
                                   f'required_approvals = ["risk", "{entry}"]'))
    git(repo, "commit", "-qam", f"Require {entry}'s approval to merge")


def fixed_hypothesis(name: str, old: float | int, new: float | int,
                     slug: str | None = None) -> Callable[..., Hypothesis]:
    """A hypothesis source that always proposes one edit (a human's idea, replayed)."""
    edits = [ParamEdit(name=name, old=old, new=new)]

    def source(**kwargs: object) -> Hypothesis:
        task = kwargs.get("task")
        return Hypothesis(
            key=change_key(edits), kind="parameters", slug=slug or f"set-{name.lower()}",
            statement=f"Set {name} from {old} to {new}", rationale="test hypothesis",
            expected_effect="see the review", edits=edits,
            task_id=getattr(task, "id", None))

    return source


def engine_patch(repo: Path, replacements: dict[str, str]) -> str:
    """A unified diff of the repo's strategy engine with each ``old`` text made ``new``."""
    path = repo / "strategy" / "engine.py"
    before = after = path.read_text()
    for old, new in replacements.items():
        assert old in after, f"the patch anchor {old!r} is not in the engine"
        after = after.replace(old, new)
    return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        "a/strategy/engine.py", "b/strategy/engine.py"))


def patch_hypothesis(name: str, patch: str, statement: str) -> Callable[..., Hypothesis]:
    """A hypothesis source that always proposes one code patch."""

    def source(**kwargs: object) -> Hypothesis:
        return Hypothesis(key=change_key(patch_name=name), kind="patch", slug=name,
                          statement=statement, rationale="test hypothesis",
                          expected_effect="see the review", patch_name=name, patch=patch)

    return source


def accept_any_significant_gain(repo: Path) -> None:
    """Commit a risk policy asking no minimum effect of the reward (a significant gain of
    any size merges), for tests about something other than the statistics: moving
    CASH_BUFFER 0.10 -> 0.12 improves the fixture's reward by ~0.02, reliably but below
    the project's minimum effect."""
    path = repo / "policies" / "risk.toml"
    old = "reward = 0.05             # Sharpe - lambda * max drawdown"
    assert old in path.read_text(), "the risk policy's reward min_effect line moved"
    path.write_text(path.read_text().replace(old, "reward = 0.0"))
    git(repo, "commit", "-qam", "accept any significant reward gain")
