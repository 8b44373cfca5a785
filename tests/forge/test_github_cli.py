"""``alphaloop github push|summary`` and the CLI's ``--forge github`` errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.github_server import BOT_TOKEN, github_env, serve_clone
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.repo import GitRepo, Identity
from alphaloop.report.sections import latest_sections

PM = Identity(name="AlphaLoop PM", email="pm@alphaloop.invalid")


def test_push_publishes_a_fast_forward_of_main(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    repo = GitRepo.init(project)
    (project / "walkthrough.md").write_text("# AlphaLoop walkthrough\n")
    repo.commit_all(project, "initial", PM)
    hub, clone = serve_clone(project, tmp_path)
    try:
        for name, value in github_env(hub).items():
            monkeypatch.setenv(name, value)
        (clone / "walkthrough.md").write_text("# AlphaLoop walkthrough\n\n## Latest cycle\n")
        sha = GitRepo.open(clone).commit_all(clone, "c0001: report", PM)
        done = CliRunner().invoke(app, ["github", "push", "main", "--repo", str(clone)])
        assert done.exit_code == 0, done.output
        assert hub.branch_sha("main") == sha and BOT_TOKEN not in done.output
    finally:
        hub.stop()


def test_missing_variables_are_named_without_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    project = tmp_path / "project"
    GitRepo.init(project)
    done = CliRunner().invoke(app, ["github", "push", "--repo", str(project)])
    assert done.exit_code == 1
    assert "GITHUB_REPOSITORY and GITHUB_TOKEN" in done.output
    assert "Traceback" not in done.output


def test_summary_keeps_the_latest_cycle_and_what_needs_a_human() -> None:
    text = ("# AlphaLoop walkthrough\n\nintro\n\n## Needs a human\n\nPR #3 waits.\n\n"
            "## Latest cycle: c0007 (merged)\n\nThe PM picked T-001.\n\n## History\n\n| x |\n")
    summary = latest_sections(text)
    assert "PR #3 waits." in summary and "The PM picked T-001." in summary
    assert "## History" not in summary and "intro" not in summary
    assert "no cycle" in latest_sections("# AlphaLoop walkthrough\n")


def test_a_cycle_on_github_without_its_variables_stops_naming_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from support.cycle_repos import make_repo

    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/strategy")
    project = make_repo(tmp_path / "project")
    done = CliRunner().invoke(app, ["cycle", "--repo", str(project), "--forge", "github",
                                    "--data", "synthetic:years=7", "--frequency", "monthly",
                                    "--holdout-days", "378", "--folds", "2",
                                    "--warmup-days", "150"])
    assert done.exit_code != 0 and "needs GITHUB_TOKEN in the environment" in done.output
    assert "Traceback" not in done.output


def test_pr_open_and_close_on_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    repo = GitRepo.init(project)
    (project / "strategy").mkdir()
    (project / "strategy" / "tunables.py").write_text("LOOKBACK = 126\n")
    repo.commit_all(project, "initial", PM)
    hub, clone = serve_clone(project, tmp_path)
    try:
        for name, value in github_env(hub).items():
            monkeypatch.setenv(name, value)
        checkout = GitRepo.open(clone)
        worktree = checkout.create_worktree("idea/longer", checkout.rev_parse("main"))
        (worktree / "strategy" / "tunables.py").write_text("LOOKBACK = 150\n")
        checkout.commit_all(worktree, "Longer lookback", PM)
        runner = CliRunner()
        opened = runner.invoke(app, ["pr", "open", "idea/longer", "--title", "Longer lookback",
                                     "--repo", str(clone), "--forge", "github"])
        assert opened.exit_code == 0 and "opened PR #1" in opened.output, opened.output
        assert hub.branch_sha("idea/longer") == checkout.rev_parse("idea/longer")
        closed = runner.invoke(app, ["pr", "close", "1", "--reason", "not now", "--repo",
                                     str(clone), "--forge", "github"])
        assert closed.exit_code == 0, closed.output
        shown = runner.invoke(app, ["pr", "show", "1", "--json", "--repo", str(clone),
                                    "--forge", "github"])
        assert shown.exit_code == 0, shown.output
        assert '"closed_reason": "not now"' in shown.output and hub.pulls[1].state == "closed"
        approve = runner.invoke(app, ["pr", "approve", "1", "--as", "alice", "--repo",
                                      str(clone), "--forge", "github"])
        assert approve.exit_code == 1 and "on GitHub itself" in approve.output
    finally:
        hub.stop()
