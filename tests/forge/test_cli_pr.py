"""`alphaloop pr` in temporary repositories, driven through typer's CliRunner."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from alphaloop.forge import LocalForge, render_block
from alphaloop.repo import GitRepo, Identity

POLICIES = Path(__file__).resolve().parents[2] / "policies"
QUANT = Identity(name="AlphaLoop Quant", email="quant@alphaloop.invalid")
BRANCH = "alphaloop/c0001-momentum"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def cli_repo(repo: GitRepo) -> GitRepo:
    """The forge fixtures' repository plus the project's real policies on main."""
    shutil.copytree(POLICIES, repo.work_tree / "policies")
    repo.commit_all(repo.work_tree, "add policies", QUANT)
    return repo


def run(app: typer.Typer, repo: GitRepo, *args: str) -> Result:
    return CliRunner().invoke(app, ["pr", *args, "--repo", str(repo.work_tree)],
                              env={"COLUMNS": "200"})


def open_pr(repo: GitRepo, lookback: int = 120, branch: str = BRANCH) -> tuple[int, str]:
    """The Quant's move: a commit on a branch and an open PR with its hypothesis."""
    path = repo.create_worktree(branch, "main")
    (path / "strategy" / "tunables.py").write_text(f"MOMENTUM_LOOKBACK_DAYS = {lookback}\n")
    head = repo.commit_all(path, "Shorter momentum window", QUANT)
    body = "Momentum decays faster.\n\n" + render_block(
        {"statement": f"lookback 126 -> {lookback}", "expected_effect": {"sharpe": 0.05}})
    pr = LocalForge(repo).open_pr(title="[c0001] Shorter momentum", body=body, head_branch=branch,
                                  base_branch="main", author_role="quant",
                                  labels=["alphaloop", "hypothesis:param"])
    return pr.number, head


def approve_roles(repo: GitRepo, number: int, head: str) -> None:
    forge = LocalForge(repo)
    for role in ("risk", "qa", "engineer"):
        forge.add_review(number, reviewer=role, commit_sha=head, verdict="approve",
                         summary=f"{role} checks passed")


def set_human(repo: GitRepo) -> None:
    git(repo.work_tree, "config", "user.name", "Ada Human")
    git(repo.work_tree, "config", "user.email", "ada@example.com")


def test_a_repository_without_a_forge_is_explained(app: typer.Typer, cli_repo: GitRepo) -> None:
    for command in (["list"], ["show", "1"], ["merge", "1"]):
        result = run(app, cli_repo, *command)
        assert result.exit_code == 1, result.output
        assert "no AlphaLoop pull requests yet" in result.stderr
        assert "alphaloop cycle" in result.stderr


def test_a_plain_folder_is_not_a_repository(app: typer.Typer, tmp_path: Path) -> None:
    # A long path with brackets: printed as typed (no markup eaten) and on one line.
    folder = tmp_path / ("[bold]research[red]-" + "x" * 90)
    folder.mkdir()
    result = CliRunner().invoke(app, ["pr", "list", "--repo", str(folder)])
    assert result.exit_code == 1 and "not inside a git repository" in result.stderr
    assert f"{folder} is not inside a git repository" in result.stderr.splitlines()[0]


def test_list_and_show(app: typer.Typer, cli_repo: GitRepo) -> None:
    number, head = open_pr(cli_repo)
    listed = run(app, cli_repo, "list")
    assert listed.exit_code == 0, listed.output
    assert "[c0001] Shorter momentum" in listed.stdout  # brackets are text, not markup
    assert head[:10] in listed.stdout
    assert "No merged pull requests." in run(app, cli_repo, "list", "--state", "merged").stdout
    assert run(app, cli_repo, "list", "--state", "bogus").exit_code == 2
    as_json = json.loads(run(app, cli_repo, "list", "--state", "all", "--json").stdout)
    assert [(pr["number"], pr["head_branch"]) for pr in as_json] == [(number, BRANCH)]

    LocalForge(cli_repo).add_review(number, reviewer="risk", commit_sha=head,
                                    verdict="approve", summary="within limits")
    shown = run(app, cli_repo, "show", str(number))
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert f"#{number} [c0001] Shorter momentum" in out and head in out
    assert "alphaloop, hypothesis:param" in out
    assert "Momentum decays faster." in out and "lookback 126 -> 120" in out
    assert "valid: on head" in out and "within limits" in out

    path = cli_repo.worktree_path(BRANCH)
    (path / "notes.txt").write_text("moved\n")
    cli_repo.commit_all(path, "move the branch", QUANT)
    detail = json.loads(run(app, cli_repo, "show", str(number), "--json").stdout)
    assert detail["head_sha"] == cli_repo.rev_parse(BRANCH)
    assert [r["valid"] for r in detail["reviews"]] == [False]
    assert "void: older commit" in run(app, cli_repo, "show", str(number)).stdout

    missing = run(app, cli_repo, "show", "9")
    assert missing.exit_code == 1 and "no pull request #9" in missing.stderr


def test_approve_records_a_human_review_bound_to_the_head(app: typer.Typer,
                                                          cli_repo: GitRepo) -> None:
    number, head = open_pr(cli_repo)
    nameless = run(app, cli_repo, "approve", str(number))
    assert nameless.exit_code == 1 and "--as NAME" in nameless.stderr
    impostor = run(app, cli_repo, "approve", str(number), "--as", "Risk")
    assert impostor.exit_code == 1 and "one of AlphaLoop's roles" in impostor.stderr
    assert LocalForge(cli_repo).reviews(number) == []

    set_human(cli_repo)
    result = run(app, cli_repo, "approve", str(number), "--comment", "looks sane")
    assert result.exit_code == 0, result.output
    assert f"Approved #{number} at {head[:10]} as Ada Human" in result.stdout
    [review] = LocalForge(cli_repo).reviews(number)
    assert (review.reviewer, review.human, review.verdict, review.commit_sha, review.summary) == (
        "Ada Human", True, "approve", head, "looks sane")
    other = run(app, cli_repo, "approve", str(number), "--as", "Grace")
    assert other.exit_code == 0 and LocalForge(cli_repo).reviews(number)[1].reviewer == "Grace"


def test_merge_refuses_until_every_role_approved_this_commit(app: typer.Typer,
                                                             cli_repo: GitRepo) -> None:
    set_human(cli_repo)
    number, head = open_pr(cli_repo)
    main = cli_repo.rev_parse("main")
    refused = run(app, cli_repo, "merge", str(number))
    assert refused.exit_code == 1
    assert "may not merge" in refused.stderr and "no risk review" in refused.stderr
    assert cli_repo.rev_parse("main") == main

    approve_roles(cli_repo, number, head)
    merged = run(app, cli_repo, "merge", str(number))
    assert merged.exit_code == 0, merged.output
    pr = LocalForge(cli_repo).get_pr(number)
    assert pr.state == "merged" and cli_repo.rev_parse("main") == pr.merge_sha
    assert f"as {pr.merge_sha[:10]}" in merged.stdout
    assert (cli_repo.work_tree / "strategy" / "tunables.py").read_text() == (
        "MOMENTUM_LOOKBACK_DAYS = 120\n")
    log = git(cli_repo.work_tree, "log", "-1", "--format=%an|%cn|%B")
    # The change's author stays its author; the person who merged commits the squash.
    assert log.startswith("AlphaLoop Quant|Ada Human|[c0001] Shorter momentum (#1)")
    assert "engineer, qa, risk" in log and f"AlphaLoop-Head: {head}" in log
    # It rests on the approvals the policy requires, each named with its review.
    for review in LocalForge(cli_repo).reviews(number):
        assert f"AlphaLoop-Approval: {review.reviewer}, review {review.id}, commit {head}" \
            in log
    assert cli_repo.worktree_of(BRANCH) is None  # the bot's worktree is cleaned up
    again = run(app, cli_repo, "merge", str(number))
    assert again.exit_code == 0 and "already merged" in again.stdout


def test_a_big_parameter_move_needs_a_human_approval(app: typer.Typer,
                                                      cli_repo: GitRepo) -> None:
    set_human(cli_repo)
    number, head = open_pr(cli_repo, lookback=63)  # 50% move: above the 20% rule
    approve_roles(cli_repo, number, head)
    refused = run(app, cli_repo, "merge", str(number))
    assert refused.exit_code == 1
    assert "a human must approve" in refused.stderr
    assert f"alphaloop pr approve {number}" in refused.stderr
    assert run(app, cli_repo, "approve", str(number)).exit_code == 0
    merged = run(app, cli_repo, "merge", str(number))
    assert merged.exit_code == 0, merged.output


def test_approvals_are_void_once_the_branch_moves(app: typer.Typer, cli_repo: GitRepo) -> None:
    set_human(cli_repo)
    number, head = open_pr(cli_repo)
    approve_roles(cli_repo, number, head)
    path = cli_repo.worktree_path(BRANCH)
    (path / "strategy" / "tunables.py").write_text("MOMENTUM_LOOKBACK_DAYS = 121\n")
    cli_repo.commit_all(path, "sneak in a change", QUANT)
    refused = run(app, cli_repo, "merge", str(number))
    assert refused.exit_code == 1 and "no risk review of the head commit" in refused.stderr


def test_merge_stops_on_overlapping_local_changes(app: typer.Typer, cli_repo: GitRepo) -> None:
    set_human(cli_repo)
    number, head = open_pr(cli_repo)
    approve_roles(cli_repo, number, head)
    tunables = cli_repo.work_tree / "strategy" / "tunables.py"
    tunables.write_text("MOMENTUM_LOOKBACK_DAYS = 200  # trying something\n")
    main = cli_repo.rev_parse("main")
    refused = run(app, cli_repo, "merge", str(number))
    assert refused.exit_code == 1
    assert "strategy/tunables.py" in refused.stderr
    assert f"alphaloop pr merge {number}" in refused.stderr
    assert tunables.read_text() == "MOMENTUM_LOOKBACK_DAYS = 200  # trying something\n"
    assert cli_repo.rev_parse("main") == main
    assert LocalForge(cli_repo).get_pr(number).state == "open"


def test_merge_needs_the_mergers_identity(app: typer.Typer, cli_repo: GitRepo) -> None:
    number, head = open_pr(cli_repo)
    approve_roles(cli_repo, number, head)
    result = run(app, cli_repo, "merge", str(number))
    assert result.exit_code == 1 and "git config user.name" in result.stderr


def test_close(app: typer.Typer, cli_repo: GitRepo) -> None:
    set_human(cli_repo)
    number, _ = open_pr(cli_repo)
    closed = run(app, cli_repo, "close", str(number), "--reason", "superseded by #2")
    assert closed.exit_code == 0 and "superseded by #2" in closed.stdout
    pr = LocalForge(cli_repo).get_pr(number)
    assert (pr.state, pr.closed_reason) == ("closed", "superseded by #2")
    assert "already closed" in run(app, cli_repo, "close", str(number)).stdout
    approve_refused = run(app, cli_repo, "approve", str(number))
    assert approve_refused.exit_code == 1 and "only open" in approve_refused.stderr
    merge_refused = run(app, cli_repo, "merge", str(number))
    assert merge_refused.exit_code == 1 and "is closed" in merge_refused.stderr


def test_a_person_opens_a_pull_request_for_a_branch(app: typer.Typer,
                                                    cli_repo: GitRepo) -> None:
    worktree = cli_repo.create_worktree("ada/idea", cli_repo.branch_sha("main"))
    (worktree / "strategy").mkdir(exist_ok=True)
    (worktree / "strategy" / "tunables.py").write_text("MOMENTUM_LOOKBACK_DAYS = 100\n")
    head = cli_repo.commit_all(worktree, "Shorter lookback", QUANT)
    opened = run(app, cli_repo, "open", "ada/idea", "--title", "Try a shorter lookback",
                 "--body", "momentum decays fast")
    assert opened.exit_code == 0, opened.output
    assert "ada/idea -> main: opened PR #1" in opened.stdout
    assert "alphaloop review --pr 1" in opened.stdout
    pr = LocalForge(cli_repo).get_pr(1)
    assert (pr.title, pr.body, pr.author_role, pr.head_branch) == (
        "Try a shorter lookback", "momentum decays fast", "human", "ada/idea")
    assert LocalForge(cli_repo).head_sha(pr) == head
    again = run(app, cli_repo, "open", "ada/idea", "--title", "Again")
    assert again.exit_code == 0 and "already open as PR #1" in again.stdout
    missing = run(app, cli_repo, "open", "nosuch", "--title", "x")
    assert missing.exit_code == 1 and "there is no branch 'nosuch'" in missing.stderr
    assert len(LocalForge(cli_repo).list_prs()) == 1


def test_show_puts_each_reviewers_findings_with_file_and_line(app: typer.Typer,
                                                              cli_repo: GitRepo) -> None:
    number, head = open_pr(cli_repo)
    forge = LocalForge(cli_repo)
    forge.add_review(number, reviewer="engineer", commit_sha=head, verdict="request_changes",
                     severity=2, summary="1 finding: complexity",
                     findings=[{"check": "engineer.complexity", "severity": 2,
                                "path": "strategy/engine.py", "line": 42,
                                "message": "decide is too complex (14 > 10)"},
                               {"check": "engineer.size", "severity": 0,
                                "message": "3 lines in 1 file"}])
    forge.add_review(number, reviewer="qa", commit_sha=head, verdict="approve",
                     summary="3 tests kept, 13 discarded")
    shown = run(app, cli_repo, "show", str(number))
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert "Engineer: request changes (severity 2)" in text
    assert "decide is too complex (14 > 10) (strategy/engine.py:42)" in text
    assert "3 lines in 1 file" not in text  # a passing finding is not listed
    assert "QA: approve (severity 0)" in text and "3 tests kept, 13 discarded" in text
