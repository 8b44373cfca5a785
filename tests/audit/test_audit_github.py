"""``alphaloop audit verify --forge github``: a real cycle on a local GitHub, then each way
of altering what GitHub holds of its trail.

The cycle runs in a clone of a :class:`~support.github_server.FakeGitHub` through the real
PyGithub client, as the scheduled workflow does, and pushes ``main`` after it. Each test
works on a replica of that GitHub (same records, a copy of its repository) and a copy of
the clone, edits the records GitHub stores, and checks the audit names what changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faults.crash import more_cash
from github import Auth, Github
from support.cycle_repos import OPTIONS, git, make_repo
from support.github_server import ALICE_TOKEN, FakeGitHub, github_env, serve_clone
from typer.testing import CliRunner

from alphaloop.audit import AuditReport, verify_repository
from alphaloop.cli import app
from alphaloop.cycle.run import run_cycles
from alphaloop.forge.github import GitHubForge
from alphaloop.forge.open import open_forge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo

KEY = "test-audit-github-key"
GITHUB = OPTIONS.model_copy(update={"forge": "github"})


@dataclass(frozen=True)
class Trail:
    hub: FakeGitHub
    clone: Path

    @property
    def repo(self) -> GitRepo:
        return GitRepo.open(self.clone)

    def forge(self, **environ: str) -> GitHubForge:
        forge = open_forge(self.repo, "github", environ={**github_env(self.hub), **environ})
        assert isinstance(forge, GitHubForge)
        return forge

    def verify(self, **environ: str) -> AuditReport:
        return verify_repository(self.repo, key=KEY.encode(), github=self.forge(**environ))

    def findings(self, **environ: str) -> list[str]:
        return [f"{f.kind}: {f.subject}: {f.problem}"
                for f in self.verify(**environ).findings]

    def risk_review(self, number: int = 1) -> dict[str, Any]:
        [review] = [r for r in self.hub.pulls[number].reviews
                    if "```alphaloop-review" in r["body"]]
        return review


@pytest.fixture(scope="module")
def cycled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trail]:
    """A project on GitHub after one merged cycle, ``main`` pushed back to GitHub."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALPHALOOP_REVIEW_KEY", KEY)
        root = tmp_path_factory.mktemp("audit-github")
        hub, clone = serve_clone(make_repo(root / "project"), root / "github")
        for name, value in github_env(hub).items():
            patch.setenv(name, value)
        try:
            [summary] = run_cycles(clone, GITHUB, hypothesis_source=more_cash(clone))
            assert summary.outcome == Outcome.MERGED, summary.message
            pushed = CliRunner().invoke(app, ["github", "push", "main", "--repo", str(clone)])
            assert pushed.exit_code == 0, pushed.output
            yield Trail(hub=hub, clone=clone)
        finally:
            hub.stop()


@pytest.fixture
def trail(cycled: Trail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trail]:
    """A replica of the cycled GitHub and a copy of its clone, for one test to alter."""
    monkeypatch.setenv("ALPHALOOP_REVIEW_KEY", KEY)
    bare = tmp_path / "remote" / cycled.hub.bare.name
    shutil.copytree(cycled.hub.bare, bare, symlinks=True)
    clone = tmp_path / "checkout"
    shutil.copytree(cycled.clone, clone, symlinks=True)
    hub = cycled.hub.replica(bare).start()
    for name, value in github_env(hub).items():
        monkeypatch.setenv(name, value)
    yield Trail(hub=hub, clone=clone)
    hub.stop()


def first_commit(trail: Trail) -> str:
    """The project's first commit: in the clone, never the head of a pull request."""
    return git(trail.clone, "rev-list", "--max-parents=0", "main")


def alice_opens(trail: Trail, where: Path, cash: str = "0.101") -> int:
    """alice pushes a change of her own and opens a pull request for it on GitHub."""
    mine = where / "alice"
    git(where, "clone", "-q", str(trail.hub.bare), str(mine))
    tunables = mine / "strategy" / "tunables.py"
    tunables.write_text(tunables.read_text().replace("CASH_BUFFER = 0.10 ",
                                                     f"CASH_BUFFER = {cash} "))
    git(mine, "-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qam",
        "A little more cash")
    git(mine, "push", "-q", "origin", "HEAD:refs/heads/alice/cash")
    client = Github(base_url=trail.hub.api_url, auth=Auth.Token(ALICE_TOKEN), retry=None)
    pull = client.get_repo(trail.hub.repository).create_pull(
        base="main", head="alice/cash", title="A little more cash", body="Please review.")
    return pull.number


def test_an_untouched_trail_on_github_verifies(trail: Trail) -> None:
    report = trail.verify()
    assert report.ok, report.findings
    assert (report.entries, report.merged_prs, report.reviews) == (1, 1, 1)
    result = CliRunner().invoke(app, ["audit", "verify", "--repo", str(trail.clone),
                                      "--forge", "github"])
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output and "1 merged PRs, 1 reviews" in result.output
    # the local forge holds nothing here: without --forge github the audit says where
    # the reviews it cannot see must be, instead of passing on nothing checked
    local = verify_repository(trail.repo, key=KEY.encode())
    assert [f.kind for f in local.findings] == ["forge-missing"], local.findings
    assert "--forge github" in local.findings[0].problem


def test_an_approval_rebound_to_another_head_is_named(trail: Trail) -> None:
    """GitHub's record of Risk's review moved to another commit."""
    review = trail.risk_review()
    before = first_commit(trail)
    review["commit_id"] = before
    found = trail.findings()
    assert any(f.startswith("review-rebound: c0001 PR #1:") and f"bound to {before[:12]}" in f
               for f in found), found
    assert not any(f.startswith("review-missing") for f in found), found


def test_an_approval_rewritten_for_another_head_is_named(trail: Trail) -> None:
    """The review's body edited to claim another head, and bound to it: the signature
    still proves which head the bot approved."""
    review = trail.risk_review()
    head, other = review["commit_id"], first_commit(trail)
    review["body"] = review["body"].replace(head, other)
    review["commit_id"] = other
    found = trail.findings()
    assert any(f.startswith("review-rebound: c0001 PR #1:") for f in found), found
    # the merge gate's approvals of the merged head are gone with it
    assert any("merged without an approval by risk" in f for f in found), found


@pytest.mark.parametrize(("old", "new", "says"), [
    ('"verdict": "approve"', '"verdict": "veto"', "no longer carries the bot's signature"),
    ("approves `", "approves, with reservations, `", "text people read"),
])
def test_an_edited_review_body_is_named(trail: Trail, old: str, new: str, says: str) -> None:
    review = trail.risk_review()
    assert old in review["body"]
    review["body"] = review["body"].replace(old, new, 1)
    found = trail.findings()
    assert any(f.startswith("review-edited: c0001 PR #1:") and says in f
               for f in found), found


def test_a_review_whose_record_cannot_be_read_is_named(trail: Trail) -> None:
    review = trail.risk_review()
    review["body"] = review["body"].replace('"reviewer": "risk"', '"reviewer": ', 1)
    found = trail.findings()
    assert any(f.startswith("review-edited: c0001 PR #1:") and "cannot be read" in f
               for f in found), found


def test_a_deleted_review_is_named(trail: Trail) -> None:
    pull = trail.hub.pulls[1]
    pull.reviews.remove(trail.risk_review())
    found = trail.findings()
    assert any(f.startswith("review-missing: c0001 PR #1:") and "deleted" in f
               for f in found), found


def test_a_pull_request_merged_outside_the_ledger_and_the_gate_is_named(
        trail: Trail, tmp_path: Path) -> None:
    """alice merges her own pull request on GitHub, with no review by the bot."""
    number = alice_opens(trail, tmp_path)
    client = Github(base_url=trail.hub.api_url, auth=Auth.Token(ALICE_TOKEN), retry=None)
    client.get_repo(trail.hub.repository).get_pull(number).merge(merge_method="squash")
    git(trail.clone, "fetch", "-q", str(trail.hub.bare), "main")
    git(trail.clone, "merge", "-q", "--ff-only", "FETCH_HEAD")  # the clone is up to date
    found = trail.findings()
    assert any(f.startswith(f"merge-unrecorded: PR #{number}:") for f in found), found
    assert any(f"PR #{number}: merged without an approval by risk" in f for f in found), found


def test_a_pull_request_merged_through_the_gate_outside_a_cycle_verifies(
        trail: Trail, tmp_path: Path) -> None:
    """The bot reviews alice's pull request and `alphaloop pr merge` merges it (the
    review and merge workflows): no cycle's ledger entry names it, the gate's approval
    trailers account for it."""
    number = alice_opens(trail, tmp_path)
    forge = trail.forge()
    head = forge.head_sha(number)
    forge.add_review(number, reviewer="risk", commit_sha=head, verdict="approve",
                     summary="a small move of the cash buffer")
    merged = CliRunner().invoke(app, ["pr", "merge", str(number), "--repo", str(trail.clone),
                                      "--forge", "github"])
    assert merged.exit_code == 0, merged.output
    report = trail.verify()
    assert report.ok, report.findings
    assert report.merged_prs == 2


def test_a_merge_that_is_not_the_ledger_s_is_named(trail: Trail) -> None:
    pull = trail.hub.pulls[1]
    other = first_commit(trail)
    pull.merge_commit_sha = other
    found = trail.findings()
    assert any(f.startswith("merge-mismatch: c0001 PR #1:") and f"merged as {other[:12]}" in f
               for f in found), found


@pytest.mark.parametrize("how", ["down", "bad-token"])
def test_github_out_of_reach_is_a_finding_not_a_traceback(trail: Trail, how: str) -> None:
    env: dict[str, str] = {}
    if how == "down":
        trail.hub.stop()
    else:
        env["GITHUB_TOKEN"] = "ghp_not_a_token"
    report = trail.verify(**env)
    [finding] = [f for f in report.findings if f.kind == "github-unreachable"]
    assert "were not checked" in finding.problem
    assert ("401" in finding.problem) == (how == "bad-token")
    result = subprocess.run(
        [sys.executable, "-m", "alphaloop", "audit", "verify", "--repo", str(trail.clone),
         "--forge", "github", "--json"], capture_output=True, text=True,
        env={**os.environ, **github_env(trail.hub), **env, "ALPHALOOP_REVIEW_KEY": KEY})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    kinds = [f["kind"] for f in json.loads(result.stdout)["findings"]]
    assert kinds == ["github-unreachable"]


def test_without_its_variables_the_github_audit_names_them(trail: Trail,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    result = CliRunner().invoke(app, ["audit", "verify", "--repo", str(trail.clone),
                                      "--forge", "github"])
    assert result.exit_code == 2 and "GITHUB_TOKEN" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
