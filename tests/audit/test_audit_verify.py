"""``alphaloop audit verify`` on real cycles, then on each way of altering their trail."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, fixed_hypothesis, git, make_repo
from typer.testing import CliRunner

from alphaloop.audit import verify_repository
from alphaloop.cli import app
from alphaloop.cycle.journal import Journal
from alphaloop.cycle.ledger import digest_of
from alphaloop.cycle.run import run_cycles
from alphaloop.keys import bot_key
from alphaloop.repo import GitRepo

KEY = "test-audit-key"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project after three real cycles (one merged change), to copy and tamper with."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALPHALOOP_REVIEW_KEY", KEY)
        root = make_repo(tmp_path_factory.mktemp("audit") / "project")
        run_cycles(root, OPTIONS, count=1,
                   hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.12))
        run_cycles(root, OPTIONS, count=2)
        yield root


@pytest.fixture()
def repo(audited: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALPHALOOP_REVIEW_KEY", KEY)
    copy = tmp_path / "project"
    shutil.copytree(audited, copy, symlinks=True)
    return copy


def problems(root: Path) -> list[str]:
    report = verify_repository(GitRepo.open(root), key=KEY.encode())
    return [f"{f.check}: {f.subject}: {f.problem}" for f in report.findings]


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "-c", "user.name=Intruder", "-c", "user.email=i@example.com", "commit", "-q",
        "-m", message)


def entry_path(root: Path, cid: str) -> Path:
    return root / "ledger" / "cycles" / f"{cid}.json"


def test_an_untouched_trail_verifies(repo: Path) -> None:
    report = verify_repository(GitRepo.open(repo), key=KEY.encode())
    assert report.ok, report.findings
    assert (report.entries, report.cycle_commits, report.journal_lines) == (3, 3, 3)
    assert report.reviews >= 1
    result = CliRunner().invoke(app, ["audit", "verify", "--repo", str(repo)])
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output


def test_a_one_byte_edit_of_an_old_entry_is_detected(repo: Path) -> None:
    path = entry_path(repo, "c0001")
    text = path.read_text()
    assert '"severity": 0' in text
    path.write_text(text.replace('"severity": 0', '"severity": 1', 1))
    commit_all(repo, "tidy the ledger")
    found = problems(repo)
    assert any(p.startswith("ledger:") and "digest mismatch" in p for p in found), found
    assert any(p.startswith("history: c0001") for p in found), found
    result = CliRunner().invoke(app, ["audit", "verify", "--repo", str(repo)])
    assert result.exit_code == 1 and "c0001" in result.output


def test_an_old_entry_with_a_recomputed_digest_breaks_the_chain(repo: Path) -> None:
    path = entry_path(repo, "c0002")
    data = json.loads(path.read_text())
    data["records"]["summary"]["message"] = "nothing happened"
    data["digest"] = digest_of(data)
    path.write_text(json.dumps(data, indent=2))
    commit_all(repo, "reword")
    found = problems(repo)
    assert any("c0003.json: it links to" in p for p in found), found
    assert any(p.startswith("history: c0002") for p in found), found
    assert any(p.startswith("journal: c0002") for p in found), found


def test_the_last_entry_with_a_recomputed_digest_is_detected(repo: Path) -> None:
    path = entry_path(repo, "c0003")
    data = json.loads(path.read_text())
    data["records"]["summary"]["message"] = "all fine"
    data["digest"] = digest_of(data)
    path.write_text(json.dumps(data, indent=2))
    commit_all(repo, "reword")
    found = problems(repo)
    assert not any(p.startswith("ledger:") for p in found)  # the chain alone cannot see it
    assert any(p.startswith("history: c0003") and "is not the one its cycle committed" in p
               for p in found), found
    assert any(p.startswith("journal: c0003") for p in found), found


def test_a_deleted_last_entry_whose_id_is_reused_is_detected(repo: Path) -> None:
    entry_path(repo, "c0003").unlink()
    commit_all(repo, "forget the last cycle")
    assert any("no longer in the ledger" in p for p in problems(repo))
    run_cycles(repo, OPTIONS, count=1)  # a new cycle takes the id c0003 again
    found = problems(repo)
    assert any("c0003 was committed twice" in p for p in found), found
    assert any(p.startswith("journal: c0003") for p in found), found


def test_a_rewritten_main_is_detected_by_the_journal(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # drop c0003's report commit
    found = problems(repo)
    assert any(p.startswith("journal:") and "was rewritten" in p for p in found), found
    assert any("the bot committed c0003" in p for p in found), found


def test_an_edited_review_on_the_forge_is_detected(repo: Path) -> None:
    work = repo.parent / "forge-edit"
    git(repo, "worktree", "add", "-q", str(work), "alphaloop/forge")
    review = sorted((work / "prs").glob("*/reviews/*.json"))[0]
    data = json.loads(review.read_text())
    data["commit_sha"] = "f" * 40
    review.write_text(json.dumps(data, indent=2))
    commit_all(work, "rebind a review")
    found = problems(repo)
    assert any(p.startswith("forge:") and "review record edited" in p for p in found), found


def test_a_forge_rewritten_without_a_cited_review_is_detected(repo: Path) -> None:
    """A forge branch replaced by a fresh history that lacks a review: no edit shows in
    its log, but the ledger still cites the review."""
    work = repo.parent / "forge-rewrite"
    git(repo, "worktree", "add", "-q", "--detach", str(work), "alphaloop/forge")
    reviews = sorted((work / "prs").glob("*/reviews/*.json"))
    risk = next(r for r in reviews if json.loads(r.read_text())["reviewer"] == "risk")
    risk.unlink()
    git(work, "add", "-A")
    tree = git(work, "write-tree")
    orphan = git(work, "-c", "user.name=Intruder", "-c", "user.email=i@example.com",
                 "commit-tree", tree, "-m", "the forge, again")
    git(repo, "update-ref", "refs/heads/alphaloop/forge", orphan)
    found = problems(repo)
    assert any(p.startswith("forge: c0001 PR #1: the ledger records a risk review")
               and "that the forge does not hold" in p for p in found), found


def test_a_deleted_forge_branch_is_detected(repo: Path) -> None:
    """With no forge branch at all there is no review to compare, yet the ledger still
    cites them: the audit says so rather than checking nothing."""
    git(repo, "branch", "-D", "alphaloop/forge")
    found = problems(repo)
    assert any(p.startswith("forge: alphaloop/forge: the ledger cites the reviews of 3 pull "
                            "request(s) (c0001, c0002, c0003)") and "--forge github" in p
               for p in found), found


def test_an_edited_journal_is_detected(repo: Path) -> None:
    journal = Journal(GitRepo.open(repo).common_dir, KEY.encode())
    lines = journal.path.read_text().splitlines()
    line = json.loads(lines[0])
    line["digest"] = "0" * 64
    journal.path.write_text("\n".join([json.dumps(line), *lines[1:]]) + "\n")
    assert any("the journal was edited" in p for p in problems(repo))


def test_the_key_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    assert bot_key({"ALPHALOOP_REVIEW_KEY": "abc", "HOME": str(tmp_path)}) == b"abc"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    key = bot_key(env)
    path = tmp_path / "config" / "alphaloop" / "review.key"
    assert len(key) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert bot_key(env) == key  # stable once created
