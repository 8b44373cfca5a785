"""The deployment ledger on a real git branch: sealed events, a chain, and its state."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from alphaloop.audit import verify_repository
from alphaloop.deploy import DeployLedgerCorrupt, DeploymentLedger
from alphaloop.deploy.ledger import to_bytes
from alphaloop.records import CanaryVerdict
from alphaloop.records.digest import digest_of
from alphaloop.repo import GitRepo, Identity

SRE = Identity(name="AlphaLoop SRE", email="sre@alphaloop.local")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> GitRepo:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("project\n")
    git(root, "add", "-A")
    git(root, "-c", "user.name=H", "-c", "user.email=h@example.com", "commit", "-q", "-m", "init")
    return GitRepo.open(root)


def _deploy(ledger: DeploymentLedger, commit: str, grade: str, clock: dt.date) -> None:
    ledger.append(SRE, f"deploy {commit}", kind="deploy", decided_by="sre", commit=commit,
                  backend="process", clock_before=clock - dt.timedelta(days=30),
                  clock_after=clock, canary=CanaryVerdict(grade=grade))


def test_events_are_committed_chained_and_fold_into_a_state(repo: GitRepo) -> None:
    ledger = DeploymentLedger(repo, "main")
    assert ledger.events() == [] and ledger.state().clock is None
    head = repo.head_sha()
    _deploy(ledger, head, "successful", dt.date(2020, 1, 31))
    _deploy(ledger, head, "failed", dt.date(2020, 2, 28))
    ledger.append(SRE, "halt", kind="halt", decided_by="sre", reason="rollback failed")
    events = ledger.events()
    assert [e.id for e in events] == ["d0001", "d0002", "d0003"]
    assert events[1].previous == events[0].digest and events[2].previous == events[1].digest
    state = ledger.state()
    assert state.clock == dt.date(2020, 2, 28) and state.halted
    assert state.current is not None and state.current.id == "d0002"
    # each event is its own commit on main, by the identity that decided it, with a trailer
    log = git(repo.work_tree, "log", "--format=%an|%(trailers:key=AlphaLoop-Deployment,"
                                     "valueonly,separator=)", "main").splitlines()
    assert log[:3] == ["AlphaLoop SRE|d0003", "AlphaLoop SRE|d0002", "AlphaLoop SRE|d0001"]
    ledger.append(Identity(name="Ada", email="ada@example.com"), "resume", kind="resume",
                  decided_by="Ada <ada@example.com>", reason="checked")
    assert not ledger.state().halted


def test_a_one_byte_edit_of_an_old_event_is_refused(repo: GitRepo) -> None:
    ledger = DeploymentLedger(repo, "main")
    for month in (1, 2, 3):
        _deploy(ledger, repo.head_sha(), "successful", dt.date(2020, month, 28))
    path = repo.work_tree / "deploy" / "history" / "d0001.json"
    text = path.read_text()
    path.write_text(text.replace('"successful"', '"successfuL"'))
    git(repo.work_tree, "commit", "-qam", "edit", "--author", "X <x@example.com>")
    with pytest.raises(DeployLedgerCorrupt, match=r"d0001\.json"):
        ledger.events()
    [finding] = verify_repository(repo, key=b"k" * 32).findings
    assert finding.check == "deploy" and "d0001.json" in finding.problem


def test_a_removed_event_is_refused(repo: GitRepo) -> None:
    ledger = DeploymentLedger(repo, "main")
    for month in (1, 2):
        _deploy(ledger, repo.head_sha(), "successful", dt.date(2020, month, 28))
    git(repo.work_tree, "rm", "-q", "deploy/history/d0001.json")
    git(repo.work_tree, "-c", "user.name=X", "-c", "user.email=x@example.com", "commit",
        "-qm", "drop")
    with pytest.raises(DeployLedgerCorrupt, match="removed or renamed"):
        ledger.events()


def test_the_audit_checks_each_event_was_committed_under_its_trailer(repo: GitRepo) -> None:
    ledger = DeploymentLedger(repo, "main")
    _deploy(ledger, repo.head_sha(), "successful", dt.date(2020, 1, 28))
    assert verify_repository(repo, key=b"k" * 32).findings == []
    # an event slipped in by hand, with a valid seal, but by no commit that names it
    sealed = ledger.events()[0]
    forged = sealed.model_copy(update={"id": "d0002", "previous": sealed.digest})
    forged = forged.model_copy(update={"digest": digest_of(
        forged.model_dump(mode="json"))})
    (repo.work_tree / "deploy" / "history" / "d0002.json").write_bytes(to_bytes(forged))
    git(repo.work_tree, "add", "-A")
    git(repo.work_tree, "-c", "user.name=X", "-c", "user.email=x@example.com", "commit",
        "-qm", "add an event")
    [finding] = verify_repository(repo, key=b"k" * 32).findings
    assert finding.subject == "d0002" and "its own trailer" in finding.problem


def test_the_users_uncommitted_work_survives_an_event(repo: GitRepo) -> None:
    (repo.work_tree / "notes.txt").write_text("mine\n")
    (repo.work_tree / "README.md").write_text("edited, not committed\n")
    _deploy(DeploymentLedger(repo, "main"), repo.head_sha(), "pending", dt.date(2020, 1, 1))
    assert (repo.work_tree / "README.md").read_text() == "edited, not committed\n"
    assert (repo.work_tree / "notes.txt").read_text() == "mine\n"
    assert (repo.work_tree / "deploy" / "history" / "d0001.json").is_file()
