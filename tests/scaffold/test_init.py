"""``alphaloop init`` turns a plain strategy repository into an AlphaLoop project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.cycle_repos import FIXTURE, OPTIONS, git
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle.run import run_cycles
from alphaloop.records import Outcome
from alphaloop.scaffold import InitError, check_entry, init_project, template_files

PROJECT = Path(__file__).resolve().parents[2]


def _plain_repo(root: Path) -> Path:
    """A git repository holding only a strategy package that honours the contract."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Quant Person")
    git(root, "config", "user.email", "quant@example.com")
    shutil.copytree(FIXTURE / "strategy", root / "strategy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "README.md").write_text("# My strategy\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "my strategy")
    return root


def _init(root: Path, *args: str) -> str:
    done = CliRunner().invoke(app, ["init", str(root), *args])
    assert done.exit_code == 0, done.output
    return done.output


def test_init_makes_a_repository_where_a_cycle_runs(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "mine")
    output = _init(root, "--strategy-entry", "strategy.engine")
    for path in ("policies/merge.toml", "roles/quant.toml", "task.md",
                 ".github/workflows/review.yml", ".github/CODEOWNERS", "alphaloop.toml"):
        assert f"wrote  {path}" in output, output
        assert (root / path).is_file()
    assert 'entry = "strategy.engine:create_strategy"' in (root / "alphaloop.toml").read_text()
    review = (root / ".github" / "workflows" / "review.yml").read_text()
    assert 'ALPHALOOP_INSTALL: "alphaloop' in review and 'ALPHALOOP_INSTALL: ""' not in review
    assert (root / "policies" / "risk.toml").read_bytes() == \
        (PROJECT / "policies" / "risk.toml").read_bytes()
    # Risk alone reviews here, to keep the test short (QA and the Engineer have their own)
    merge = root / "policies" / "merge.toml"
    merge.write_text(merge.read_text().replace('required_approvals = ["risk", "qa", "engineer"]',
                                               'required_approvals = ["risk"]'))
    assert 'required_approvals = ["risk"]' in merge.read_text()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "Add AlphaLoop")
    [summary] = run_cycles(root, OPTIONS)
    assert summary.outcome not in (Outcome.FAILED, Outcome.IDLE), summary
    assert (root / "ledger").is_dir()


def test_init_is_idempotent_and_keeps_the_users_files(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "mine")
    (root / "task.md").write_text("# My own backlog\n")
    first = _init(root)
    assert "kept  task.md (yours; --force overwrites it)" in first
    assert (root / "task.md").read_text() == "# My own backlog\n"
    again = _init(root)
    assert "wrote" not in again and "unchanged  policies/merge.toml" in again
    forced = _init(root, "--force")
    assert "overwrote  task.md" in forced
    assert (root / "task.md").read_bytes() == template_files()["task.md"]


def test_a_repository_that_cannot_take_alphaloop_is_refused_untouched(tmp_path: Path) -> None:
    root = _plain_repo(tmp_path / "mine")
    with pytest.raises(InitError, match="must be in the strategy package"):
        init_project(root, strategy_entry="mypkg.core:build")
    with pytest.raises(InitError, match=r"strategy/engine\.py defines no build"):
        check_entry(root, "strategy.engine:build")
    (root / "strategy" / "alt.py").write_text("def build(profile='default'):\n    pass\n")
    (root / "strategy" / "__init__.py").write_text('"""A package that exports nothing."""\n')
    with pytest.raises(InitError, match=r"add `from strategy\.alt import build as "
                                        r"create_strategy`"):
        check_entry(root, "strategy.alt:build")
    shutil.rmtree(root / "strategy")
    done = CliRunner().invoke(app, ["init", str(root)])
    assert done.exit_code == 2 and "has no strategy/ package" in done.output
    assert sorted(p.name for p in root.iterdir()) == [".git", "README.md"]
    plain = tmp_path / "not-git"
    plain.mkdir()
    with pytest.raises(InitError, match="git init"):
        init_project(plain)
