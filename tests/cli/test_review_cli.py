"""``alphaloop review``: a person's branch through the reviewers, with exit codes for CI."""

from __future__ import annotations

import json
from pathlib import Path

from cli.test_cycle_mistakes import FLAGS
from support.cycle_repos import TASKS, git, make_repo
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.forge import LocalForge
from alphaloop.repo import GitRepo

# Hold a quarter more cash: a real reward gain the whole-cycle tests merge.
MORE_CASH = ("* (1.0 - tunables.CASH_BUFFER)", "* (1.0 - tunables.CASH_BUFFER) * 0.75")


def _branch(repo: Path, name: str, path: str, old: str, new: str) -> None:
    git(repo, "switch", "-q", "-c", name)
    target = repo / path
    target.write_text(target.read_text().replace(old, new) if old else new)
    git(repo, "commit", "-qam", f"{name}: a person's change")
    git(repo, "switch", "-q", "main")


def _review(repo: Path, *args: str):
    return CliRunner().invoke(app, ["review", *args, "--repo", str(repo), *FLAGS])


def test_an_approved_branch_exits_0_and_its_reviews_are_on_the_pr(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", tasks=TASKS)
    _branch(repo, "more-cash", "strategy/engine.py", *MORE_CASH)
    result = _review(repo, "more-cash", "--title", "Hold more cash")
    assert result.exit_code == 0, result.output
    assert "PR #1 (more-cash -> main), opened for this review" in result.output
    assert "every reviewer approved" in result.output
    pr = LocalForge(GitRepo.open(repo)).get_pr(1)
    assert pr.title == "Hold more cash" and pr.author_role == "human"
    [risk] = LocalForge(GitRepo.open(repo)).valid_reviews(1)
    assert risk.verdict == "approve"
    # --json for a pipeline, on the same pull request.
    again = _review(repo, "--pr", "1", "--json")
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout[again.stdout.index("{"):])
    assert body["pr_number"] == 1 and body["opened"] is False
    assert [v["verdict"] for v in body["verdicts"]] == ["approve"]


def test_a_vetoed_branch_exits_1(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", tasks=TASKS)
    _branch(repo, "loosen", "policies/risk.toml", "", "# looser\n")
    result = _review(repo, "loosen")
    assert result.exit_code == 1, result.output
    assert "veto" in result.output and "not approved" in result.output


def test_mistakes_exit_2_without_a_traceback(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", tasks=TASKS)
    for args, phrase in ((["nosuch"], "there is no branch 'nosuch'"),
                         ([], "name one branch to review, or pass --pr N"),
                         (["main", "--pr", "3"], "name one branch to review, or pass --pr N"),
                         (["--pr", "3"], "no pull request #3")):
        result = _review(repo, *args)
        assert result.exit_code == 2, (args, result.output)
        assert phrase in " ".join(result.output.split()), (args, result.output)
        assert "Traceback" not in result.output
