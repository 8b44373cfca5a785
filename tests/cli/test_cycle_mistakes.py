"""``alphaloop cycle`` refuses a user's mistake before any stage runs: one message naming
the problem and the fix, exit code 2, no traceback, nothing written.

Each mistake goes through the command line (typer's CliRunner) on a real repository
laid out like an AlphaLoop project (the whole-cycle tests' quick strategy).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from click.testing import Result
from support.cycle_repos import OPTIONS, git, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle.preflight import declared_profiles, preflight

#: The whole-cycle tests' options, as flags.
FLAGS = ["--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
         "--holdout-days", str(OPTIONS.holdout_days), "--folds", str(OPTIONS.n_folds),
         "--warmup-days", str(OPTIONS.warmup_days)]
CONFIG = 'PROFILES: tuple[str, ...] = ("default", "conservative")\n'


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A committed AlphaLoop project whose strategy declares two profiles."""
    repo = make_repo(tmp_path / "project")
    (repo / "strategy" / "config.py").write_text(CONFIG)
    git(repo, "add", "strategy/config.py")
    git(repo, "commit", "-qm", "declare the profiles")
    return repo


def _cycle(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["cycle", "--repo", str(repo), *FLAGS, *args])


def _refused(result: Result, *phrases: str) -> str:
    """The one-paragraph refusal: exit code 2, no traceback, each phrase in it."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = " ".join(result.output.replace("│", " ").split())  # an error panel folds lines
    for phrase in phrases:
        assert phrase in text, text
    return text


def _untouched(repo: Path, refs: str) -> None:
    assert git(repo, "for-each-ref", "--format=%(refname) %(objectname)") == refs
    assert not (repo / ".git" / "alphaloop" / "runs").exists()


@pytest.mark.parametrize(("args", "phrases"), [
    (["--frequency", "hourly"], ["'--frequency'", "'hourly' is not one of", "'monthly'"]),
    (["--holdout-days", "0"], ["'--holdout-days'", "greater than or equal to 20"]),
    (["--folds", "-1"], ["'--folds'"]),
    (["--data", "nosuch"], ["unknown data source 'nosuch'", "choose one of"]),
    (["--resume", "--abandon"], ["cannot be combined with --resume"]),
    (["--reason", "why"], ["--reason goes with --abandon"]),
])
def test_bad_options_are_refused_before_anything_runs(project: Path, args: list[str],
                                                      phrases: list[str]) -> None:
    refs = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    _refused(_cycle(project, *args), *phrases)
    _untouched(project, refs)


def test_an_unknown_profile_is_refused_before_the_first_stage(project: Path) -> None:
    refs = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    started = time.monotonic()
    _refused(_cycle(project, "--profile", "nosuch"), "unknown profile 'nosuch'",
             "declares default and conservative", "strategy/config.py", "pass --profile")
    assert time.monotonic() - started < 20  # no planning, no backtest of main
    _untouched(project, refs)


def test_profiles_are_read_from_the_source_without_importing_it() -> None:
    assert declared_profiles(CONFIG) == ("default", "conservative")
    assert declared_profiles('PROFILES = ["a"]\nimport os\nos.system("boom")\n') == ("a",)
    assert declared_profiles("PROFILES = tuple(NAMES)\n") is None
    assert declared_profiles("def broken(:\n") is None


def test_a_repository_without_a_commit(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path / "empty")], check=True)
    _refused(_cycle(tmp_path / "empty"), "has no commit yet",
             "Run it in a clone of an AlphaLoop project")
    assert not (tmp_path / "empty" / ".git" / "alphaloop").exists()


def test_a_repository_that_is_not_an_alphaloop_project(tmp_path: Path) -> None:
    repo = tmp_path / "other"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README").write_text("another project\n")
    git(repo, "add", "README")
    git(repo, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-qm", "x")
    text = _refused(_cycle(repo), "is not an AlphaLoop project",
                    "strategy/, policies/, roles/ and task.md", "clone of an AlphaLoop project")
    assert "alphaloop-inputs" not in text  # no temporary folder in the message


def test_project_files_that_were_never_committed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    git(repo, "rm", "-rq", "--cached", "policies")
    git(repo, "commit", "-qm", "forget the policies")
    _refused(_cycle(repo), "policies/ is in the work tree but not committed",
             "git add policies")


def test_uncommitted_strategy_changes_are_refused(project: Path) -> None:
    tunables = project / "strategy" / "tunables.py"
    tunables.write_text(tunables.read_text() + "# trying something\n")
    (project / "strategy" / "scratch.py").write_text("X = 1\n")
    _refused(_cycle(project), "strategy/scratch.py, strategy/tunables.py",
             "would be ignored", "Commit them", "git stash --include-untracked")
    assert tunables.read_text().endswith("# trying something\n")  # nothing was touched


def test_uncommitted_task_edits_are_refused(project: Path) -> None:
    tasks = project / "task.md"
    tasks.write_text(tasks.read_text().replace("priority: low", "priority: medium"))
    _refused(_cycle(project), "uncommitted changes to task.md",
             "the cycle reads what is committed on main", "Commit them")


def test_uncommitted_policy_edits_only_warn(project: Path) -> None:
    risk = project / "policies" / "risk.toml"
    risk.write_text(risk.read_text() + "# a thought\n")
    checked = preflight(project, OPTIONS)
    [warning] = checked.warnings
    assert "policies/risk.toml" in warning and "not used" in warning


def test_dirty_files_outside_the_cycles_paths_are_fine(project: Path) -> None:
    (project / "notes.txt").write_text("scratch\n")
    assert preflight(project, OPTIONS).warnings == ()


def test_version() -> None:
    run = CliRunner().invoke(app, ["--version"])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("alphaloop ")
