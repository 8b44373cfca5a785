"""Whole cycles and ``alphaloop review`` with ``--forge github``, against a local GitHub.

The project lives on a :class:`~support.github_server.FakeGitHub`; the cycle runs in a
clone of it, as the scheduled workflow's job does, with the variables Actions sets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Auth, Github
from support.cycle_repos import (
    OPTIONS,
    accept_any_significant_gain,
    fixed_hypothesis,
    git,
    make_repo,
)
from support.github_server import ALICE_TOKEN, FakeGitHub, github_env, serve_clone
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.cycle.run import run_cycles
from alphaloop.forge.open import open_forge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo

GITHUB = OPTIONS.model_copy(update={"forge": "github"})
WINDOWS = ["--data", OPTIONS.data, "--frequency", OPTIONS.frequency,
           "--holdout-days", str(OPTIONS.holdout_days), "--folds", str(OPTIONS.n_folds),
           "--warmup-days", str(OPTIONS.warmup_days)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose gate asks a human for any tunable moved more than 10%, with alice
    as its approver on GitHub."""
    root = make_repo(tmp_path / "project")
    accept_any_significant_gain(root)
    merge = root / "policies" / "merge.toml"
    text = merge.read_text()
    text = re.sub(r"^max_parameter_change = [0-9.]+", "max_parameter_change = 0.10", text,
                  flags=re.MULTILINE)
    merge.write_text(text.replace("approvers = []", 'approvers = ["alice"]'))
    git(root, "commit", "-qam", "alice approves; a human for moves above 10%")
    return root


@pytest.fixture
def on_github(project: Path, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGitHub, Path]]:
    hub, clone = serve_clone(project, tmp_path / "github")
    for name, value in github_env(hub).items():
        monkeypatch.setenv(name, value)
    yield hub, clone
    hub.stop()


def test_a_whole_cycle_on_github(on_github: tuple[FakeGitHub, Path]) -> None:
    hub, clone = on_github
    approved: list[str] = []

    def alice_approves(stage: str, note: str) -> None:
        """alice approves the pull request's head on GitHub while the cycle runs."""
        if stage == "merge" and not approved:
            [number] = hub.pulls
            approved.append(hub.review_as(ALICE_TOKEN, number, "APPROVED",
                                          body="moving the buffer 20% is fine")["commit_id"])

    [summary] = run_cycles(clone, GITHUB, on_stage=alice_approves,
                           hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
    assert summary.outcome == Outcome.MERGED, summary
    [pull] = hub.pulls.values()
    branch = pull.head
    assert branch.startswith("alphaloop/c0001-") and pull.user.login == "github-actions[bot]"
    assert "alphaloop" in pull.labels and "```alphaloop-hypothesis" in pull.body
    # Risk's review and status sit on the head GitHub holds; alice approved that head
    [risk] = [r for r in pull.reviews if "```alphaloop-review" in r["body"]]
    assert risk["commit_id"] == approved[0] == pull.merged_head
    assert [s["context"] for s in hub.statuses[risk["commit_id"]]] == ["alphaloop/risk"]
    # GitHub squash-merged it; the clone's main followed (then the cycle's own commits)
    merged = hub.branch_sha("main")
    assert pull.merge_commit_sha == merged and pull.state == "closed"
    assert merged in git(clone, "log", "--first-parent", "--format=%H", "main").split()
    message = git(clone, "log", "-1", "--format=%B", merged)
    assert "AlphaLoop-Approval: human alice" in message
    assert "AlphaLoop-Approval: risk" in message
    assert "CASH_BUFFER = 0.12" in git(clone, "show", f"{merged}:strategy/tunables.py")


def test_without_the_human_the_cycle_waits_for_one(on_github: tuple[FakeGitHub, Path]) -> None:
    hub, clone = on_github
    before = hub.branch_sha("main")
    [summary] = run_cycles(clone, GITHUB,
                           hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
    assert summary.outcome == Outcome.AWAITING_HUMAN
    [pull] = hub.pulls.values()
    assert pull.state == "open" and "needs-human" in pull.labels
    assert hub.branch_sha("main") == before
    runner = CliRunner()
    listed = runner.invoke(app, ["pr", "list", "--repo", str(clone), "--forge", "github",
                                 "--json"])
    assert listed.exit_code == 0, listed.output
    [record] = json.loads(listed.output)
    assert record["number"] == pull.number and "needs-human" in record["labels"]
    shown = runner.invoke(app, ["pr", "show", str(pull.number), "--repo", str(clone),
                                "--forge", "github"])
    assert shown.exit_code == 0 and "risk" in shown.output, shown.output
    refused = runner.invoke(app, ["pr", "merge", str(pull.number), "--repo", str(clone),
                                  "--forge", "github"])
    assert refused.exit_code == 1 and "a human must approve" in refused.output
    assert "an approving review on GitHub" in refused.output
    # alice approves on GitHub; `alphaloop pr merge --forge github` reads it and merges
    hub.review_as(ALICE_TOKEN, pull.number, "APPROVED")
    done = CliRunner().invoke(app, ["pr", "merge", str(pull.number), "--repo", str(clone),
                                    "--forge", "github"])
    assert done.exit_code == 0, done.output
    assert pull.merge_commit_sha == hub.branch_sha("main") != before


def test_review_of_a_pull_request_a_person_opened(on_github: tuple[FakeGitHub, Path],
                                                  tmp_path: Path) -> None:
    hub, clone = on_github
    # alice pushes a branch of her own and opens a pull request on GitHub
    mine = tmp_path / "alice"
    git(tmp_path, "clone", "-q", str(hub.bare), str(mine))
    tunables = mine / "strategy" / "tunables.py"
    tunables.write_text(tunables.read_text().replace("CASH_BUFFER = 0.10",
                                                     "CASH_BUFFER = 0.105"))
    git(mine, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qam",
        "A little more cash")
    git(mine, "push", "-q", "origin", "HEAD:refs/heads/alice/cash")
    client = Github(base_url=hub.api_url, auth=Auth.Token(ALICE_TOKEN), retry=None)
    pull = client.get_repo(hub.repository).create_pull(
        base="main", head="alice/cash", title="A little more cash", body="Please review.")
    head = hub.branch_sha("alice/cash")
    done = CliRunner().invoke(app, ["review", "--pr", str(pull.number), "--repo", str(clone),
                                    "--forge", "github", *WINDOWS])
    assert done.exit_code in (0, 3), done.output
    [review] = hub.pulls[pull.number].reviews
    assert review["commit_id"] == head and review["user"]["login"] == "github-actions[bot]"
    verdict = "approve" if done.exit_code == 0 else None
    [status] = hub.statuses[head]
    assert status["context"] == "alphaloop/risk"
    assert (status["state"] == "success") == (verdict == "approve")
    forge = open_forge(GitRepo.open(clone), "github", approvers=("alice",))
    [counted] = forge.valid_reviews(pull.number)
    assert counted.reviewer == "risk" and counted.commit_sha == head
    assert forge.get_pr(pull.number).author_role == "human"
