"""A cycle on the GitHub forge whose push or API call fails, then resumed.

The project lives on a local GitHub (:class:`~support.github_server.FakeGitHub`, the real
PyGithub client and ``git push`` over HTTP); the cycle runs in a clone of it. Each test
breaks one step of the cycle - the push of the change branch (a pre-receive hook that
rejects it, or a token that may not write), opening or labelling the pull request,
posting Risk's review, the merge - either with a 500 or with a request GitHub never
answers (before or after doing its work). The cycle must stop with a resumable error
that names the failure, having merged nothing it had not merged and flipped no verdict;
once the fault is gone ``--resume`` must end where an unbroken cycle ends: one pull
request, one branch, one ledger entry, ``main`` on GitHub and here holding the merge,
and an audit trail that verifies against GitHub.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git, make_repo
from support.github_server import FakeGitHub, github_env, serve_clone

from alphaloop.audit import verify_repository
from alphaloop.cycle import CycleError
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.forge.open import open_forge
from alphaloop.records import CycleSummary, Outcome
from alphaloop.repo import GitRepo
from faults.crash import KEY, more_cash

GITHUB = OPTIONS.model_copy(update={"forge": "github"})
CACHE = Path(".git") / "alphaloop" / "cache" / "backtests"
#: Long enough for every answer of the local GitHub on a busy machine; a request it
#: holds on purpose times out after it.
TIMEOUT = "5"


@dataclass(frozen=True)
class Project:
    hub: FakeGitHub
    clone: Path
    main: str  # main's commit before the cycle, on GitHub and here


def _state(project: Project) -> dict[str, object]:
    """What a finished cycle leaves on GitHub and in the ledger, free of timestamps."""
    hub, clone = project.hub, project.clone
    entries = Ledger(clone).entries()
    return {
        "pulls": [(p.number, p.state, p.merged_at is not None, p.head, sorted(p.labels))
                  for p in hub.pulls.values()],
        "branches": sorted(hub.git("for-each-ref", "--format=%(refname)",
                                   "refs/heads/").split()),
        "reviews": [(p.number, review["commit_id"] == p.merged_head)
                    for p in hub.pulls.values() for review in p.reviews],
        "ledger": [(e.cycle_id, e.records["summary"]["outcome"],
                    (e.records.get("risk_review") or {}).get("verdict"),
                    (e.records.get("merge") or {}).get("merge_sha") is not None)
                   for e in entries],
        "pr_posts": sum(1 for method, path in hub.requests
                        if method == "POST" and path.endswith("/pulls")),
    }


def _serve(root: Path, monkeypatch: pytest.MonkeyPatch, warm: Path | None) -> Project:
    project = make_repo(root / "project")
    hub, clone = serve_clone(project, root / "github")
    if warm is not None:  # the same trees and data: the reference's backtests serve
        shutil.copytree(warm / CACHE, clone / CACHE)
    for name, value in github_env(hub).items():
        monkeypatch.setenv(name, value)
    return Project(hub=hub, clone=clone, main=git(clone, "rev-parse", "main"))


@dataclass(frozen=True)
class Reference:
    clone: Path
    summary: CycleSummary
    state: dict[str, object]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """An unbroken cycle on GitHub: what every broken one must end up as."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALPHALOOP_REVIEW_KEY", KEY)
        project = _serve(tmp_path_factory.mktemp("github-reference"), patch, None)
        try:
            [summary] = run_cycles(project.clone, GITHUB,
                                   hypothesis_source=more_cash(project.clone))
            yield Reference(clone=project.clone, summary=summary, state=_state(project))
        finally:
            project.hub.stop()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            reference: Reference) -> Iterator[Project]:
    served = _serve(tmp_path, monkeypatch, reference.clone)
    yield served
    served.hub.stop()


def broken_then_resumed(project: Project, reference: Reference, *,
                        fault: Callable[[], None], heal: Callable[[], None],
                        says: str) -> tuple[CycleError, dict[str, object]]:
    """Run a cycle with ``fault`` in place; check it stops cleanly; ``heal`` it, resume,
    and check the outcome is the reference's. The error and the state before resuming."""
    hub, clone = project.hub, project.clone
    source = more_cash(clone)
    fault()
    with pytest.raises(CycleError) as info:
        run_cycles(clone, GITHUB, hypothesis_source=source)
    message = str(info.value)
    assert says in message and "alphaloop cycle --resume" in message, message
    assert git(clone, "rev-parse", "main") == project.main  # nothing landed here
    assert Ledger(clone).entries() == []
    assert all("vetoed" not in p.labels for p in hub.pulls.values())
    broken = _state(project)
    # a fresh cycle is refused: the broken one must be resumed (or abandoned)
    with pytest.raises(CycleError, match="--resume"):
        run_cycles(clone, GITHUB, hypothesis_source=source)
    heal()
    [summary] = run_cycles(clone, GITHUB, resume=True, hypothesis_source=source)
    assert (summary.outcome, summary.hypothesis, summary.pr_number) == (
        reference.summary.outcome, reference.summary.hypothesis, reference.summary.pr_number)
    state = _state(project)
    for key in ("pulls", "branches", "reviews", "ledger"):
        assert state[key] == reference.state[key], key
    [pull] = hub.pulls.values()
    merged = hub.branch_sha("main")
    assert pull.merge_commit_sha == merged != project.main
    git(clone, "merge-base", "--is-ancestor", merged, "main")  # here too, then the report
    assert git(clone, "status", "--porcelain") == ""
    repo = GitRepo.open(clone)
    report = verify_repository(repo, key=KEY.encode(), github=open_forge(repo, "github"))
    assert report.ok, report.findings
    return info.value, broken


def test_the_reference_cycle_merges_on_github(reference: Reference) -> None:
    assert reference.summary.outcome == Outcome.MERGED, reference.summary.message
    [pull] = reference.state["pulls"]
    assert pull[1:3] == ("closed", True) and "alphaloop" in pull[4]
    assert reference.state["pr_posts"] == 1


def _reject_pushes_with_a_hook(hub: FakeGitHub) -> Path:
    hook = hub.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen for the release' >&2\nexit 1\n")
    hook.chmod(0o755)
    return hook


def test_a_push_rejected_by_a_pre_receive_hook(project: Project, reference: Reference) -> None:
    hub = project.hub
    hook = hub.bare / "hooks" / "pre-receive"
    error, broken = broken_then_resumed(
        project, reference, fault=lambda: _reject_pushes_with_a_hook(hub),
        heal=hook.unlink, says="pushes are frozen for the release")
    assert "c0001 stopped in implement" in str(error)
    assert broken["pulls"] == [] and broken["pr_posts"] == 0
    assert broken["branches"] == ["refs/heads/main"]  # nothing of the change reached GitHub


def test_a_push_refused_for_want_of_permission(project: Project, reference: Reference) -> None:
    hub = project.hub

    def deny() -> None:
        hub.git_writable = False

    def allow() -> None:
        hub.git_writable = True

    error, broken = broken_then_resumed(project, reference, fault=deny, heal=allow,
                                        says="pushing to")
    assert "denied" in str(error) or "403" in str(error), error
    assert broken["pulls"] == [] and broken["branches"] == ["refs/heads/main"]


def test_a_server_error_opening_the_pull_request(project: Project,
                                                 reference: Reference) -> None:
    hub = project.hub
    _, broken = broken_then_resumed(
        project, reference, fault=lambda: hub.inject_fault("POST", "/pulls", status=500),
        heal=lambda: None, says="GitHub answered 500")
    assert broken["pulls"] == [] and broken["pr_posts"] == 1
    assert len(broken["branches"]) == 2  # the branch was pushed; the resume reuses it
    assert _state(project)["pr_posts"] == 2


def test_a_pull_request_opened_whose_answer_was_lost(project: Project, reference: Reference,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub opened the pull request, the answer never came: the resume finds it, labels
    it, and opens no second one."""
    hub = project.hub
    monkeypatch.setenv("ALPHALOOP_GITHUB_TIMEOUT", TIMEOUT)
    _, broken = broken_then_resumed(
        project, reference, fault=lambda: hub.inject_fault("POST", "/pulls", mode="lost"),
        heal=lambda: None, says="GitHub did not answer")
    [(_, state, merged, _, labels)] = broken["pulls"]
    assert (state, merged, labels) == ("open", False, [])
    assert _state(project)["pr_posts"] == 1


def test_a_server_error_labelling_the_pull_request(project: Project,
                                                   reference: Reference) -> None:
    hub = project.hub
    _, broken = broken_then_resumed(
        project, reference,
        fault=lambda: hub.inject_fault("POST", r"/issues/\d+/labels", status=502),
        heal=lambda: None, says="GitHub answered 502")
    [(_, state, _, _, labels)] = broken["pulls"]
    assert state == "open" and labels == []


def test_a_review_posted_whose_answer_was_lost(project: Project, reference: Reference,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Risk's review reached GitHub but its answer did not: the resume counts it and
    posts no second one (the reference holds exactly one review)."""
    hub = project.hub
    monkeypatch.setenv("ALPHALOOP_GITHUB_TIMEOUT", TIMEOUT)
    broken_then_resumed(
        project, reference,
        fault=lambda: hub.inject_fault("POST", r"/pulls/\d+/reviews", mode="lost"),
        heal=lambda: None, says="GitHub did not answer")
    [pull] = hub.pulls.values()
    assert [s["context"] for s in hub.statuses[pull.merged_head]] == ["alphaloop/risk"]


def test_a_server_error_setting_risk_s_status(project: Project, reference: Reference) -> None:
    """The review's commit status fails: the resume posts the review and its status."""
    hub = project.hub
    error, broken = broken_then_resumed(
        project, reference,
        fault=lambda: hub.inject_fault("POST", r"/statuses/[0-9a-f]{40}", status=500),
        heal=lambda: None, says="GitHub answered 500")
    assert broken["reviews"] == [] and "stopped in risk_review" in str(error)
    [pull] = hub.pulls.values()
    assert [s["context"] for s in hub.statuses[pull.merged_head]] == ["alphaloop/risk"]


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_the_merge(project: Project, reference: Reference,
                                     status: int) -> None:
    hub = project.hub
    _, broken = broken_then_resumed(
        project, reference,
        fault=lambda: hub.inject_fault("PUT", r"/pulls/\d+/merge", status=status),
        heal=lambda: None, says=f"GitHub answered {status}")
    [(_, state, merged, _, labels)] = broken["pulls"]
    assert (state, merged) == ("open", False) and "alphaloop" in labels
    assert hub.branch_sha("main") != project.main  # merged by the resume only


def test_a_merge_github_never_answered(project: Project, reference: Reference,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    hub = project.hub
    monkeypatch.setenv("ALPHALOOP_GITHUB_TIMEOUT", TIMEOUT)
    before = hub.branch_sha("main")
    _, broken = broken_then_resumed(
        project, reference,
        fault=lambda: hub.inject_fault("PUT", r"/pulls/\d+/merge", mode="hang"),
        heal=lambda: None, says="GitHub did not answer")
    [(_, state, merged, _, _)] = broken["pulls"]
    assert (state, merged) == ("open", False) and before == project.main


def test_a_merge_whose_answer_was_lost(project: Project, reference: Reference,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub merged, the answer never came: the resume records that merge, brings this
    clone's main up to it, and merges nothing a second time."""
    hub = project.hub
    monkeypatch.setenv("ALPHALOOP_GITHUB_TIMEOUT", TIMEOUT)
    _, broken = broken_then_resumed(
        project, reference,
        fault=lambda: hub.inject_fault("PUT", r"/pulls/\d+/merge", mode="lost"),
        heal=lambda: None, says="GitHub did not answer")
    [(_, state, merged, _, _)] = broken["pulls"]
    assert (state, merged) == ("closed", True)  # on GitHub, before the resume
    merges = [path for method, path in hub.requests
              if method == "PUT" and path.endswith("/merge")]
    assert len(merges) == 1


def test_the_resume_refuses_while_github_still_fails(project: Project,
                                                     reference: Reference) -> None:
    """A resume that meets the same fault stops the same way, and one after it ends
    the cycle as an unbroken one."""
    hub, clone = project.hub, project.clone
    source = more_cash(clone)
    hub.inject_fault("PUT", r"/pulls/\d+/merge", status=500, times=2)
    for resume in (False, True):
        with pytest.raises(CycleError, match="stopped in merge") as info:
            run_cycles(clone, GITHUB, resume=resume, hypothesis_source=source)
        assert "GitHub answered 500" in str(info.value)
        assert hub.branch_sha("main") == project.main == git(clone, "rev-parse", "main")
    [summary] = run_cycles(clone, GITHUB, resume=True, hypothesis_source=source)
    assert summary.outcome == reference.summary.outcome
    assert _state(project)["ledger"] == reference.state["ledger"]


def test_an_unreachable_github_stops_the_cycle_without_a_traceback(
        project: Project, reference: Reference, tmp_path: Path) -> None:
    """The whole API unreachable (a port nothing listens on) as the cycle starts."""
    hub, clone = project.hub, project.clone
    closed = subprocess.run(["python3", "-c", "import socket; s = socket.socket(); "
                             "s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                            check=True, capture_output=True, text=True).stdout.strip()
    env = {**github_env(hub), "GITHUB_API_URL": f"http://127.0.0.1:{closed}/api/v3"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(CycleError) as info:
            run_cycles(clone, GITHUB, hypothesis_source=more_cash(clone))
    assert "GitHub did not answer" in str(info.value)
    assert hub.branch_sha("main") == project.main and hub.pulls == {}
