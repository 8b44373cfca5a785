"""Deployments driven from the command line in real git repositories, with the process
sandbox: a healthy deploy is kept and moves the clock, a strategy that breaks a hard limit
only after the clock is rolled back on its own, a failed rollback halts everything, and a
halt holds until a person resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cycle_repos import git, make_repo
from support.docker import leftover_containers, sandbox_image
from support.listener import tcp_listener
from typer.testing import CliRunner

from alphaloop.cli import app
from alphaloop.data import open_source
from alphaloop.forge import LocalForge
from alphaloop.repo import GitRepo

DATA = "synthetic:years=7"
MARKET = open_source(DATA).load()
#: The clock starts two live periods (of 21 bars) before the data ends.
CLOCK = MARKET.dates[-60].date()
SECOND_PERIOD = MARKET.dates[-60 + 22].date()  # the first bar after the first period
ARGS = ["--data", DATA, "--frequency", "weekly"]


def _cli(repo: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--repo", str(repo)])
    return result.exit_code, result.output


def _status(repo: Path) -> dict:
    code, out = _cli(repo, "status", "--json")
    assert code == 0, out
    return json.loads(out)


def _engine_commit(repo: Path, old: str, new: str, message: str) -> str:
    engine = repo / "strategy" / "engine.py"
    text = engine.read_text()
    assert old in text
    engine.write_text(text.replace(old, new, 1))
    git(repo, "commit", "-qam", message)
    return git(repo, "rev-parse", "HEAD")


_RETURN = "        return Decision(weights="


def _bomb(action: str) -> str:
    """Code that behaves before the second live period and does ``action`` from it on."""
    return (f"        if view.as_of >= np.datetime64('{SECOND_PERIOD}'):\n"
            f"            {action}\n{_RETURN}")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


@pytest.mark.parametrize("sandbox", ["process", "docker"])
def test_healthy_deploy_is_kept_and_a_late_limit_break_is_rolled_back(repo: Path,
                                                                       sandbox: str) -> None:
    if sandbox == "docker":
        sandbox_image()  # skips, saying why, without a Docker engine
    args = [*ARGS, "--sandbox", sandbox]
    good = git(repo, "rev-parse", "main")
    code, out = _cli(repo, "deploy", *args, "--clock", str(CLOCK))
    assert code == 0, out
    assert "canary successful" in out and f"The clock moved from {CLOCK}" in out
    first = _status(repo)
    assert first["current"]["commit"] == good and first["current"]["canary"]["grade"] == \
        "successful"
    assert first["clock"] == str(MARKET.dates[-60 + 21].date())
    # A change that concentrates 60% in one asset, but only from the next period on: every
    # backtest up to the clock is clean.
    bad = _engine_commit(repo, _RETURN, _bomb("weights = np.zeros_like(weights); "
                                               "weights[0] = 0.6"), "Concentrate later")
    code, out = _cli(repo, "deploy", *args)
    assert code == 1, out
    assert "canary failed" in out and "above the hard limit of 15% for one asset" in out
    assert f"rolled back to {good[:10]}" in out and f"reverted {bad[:10]}" in out
    state = _status(repo)
    deploy, rollback = state["history"][-2:]
    assert deploy["kind"] == "deploy" and deploy["commit"] == bad
    assert deploy["canary"]["grade"] == "failed" and deploy["live"]["bars"] == 21
    assert rollback["kind"] == "rollback" and rollback["commit"] == good
    assert rollback["reverted"] == [bad] and rollback["decided_by"] == "sre"
    assert state["current"]["id"] == rollback["id"]
    assert state["clock"] == str(MARKET.dates[-60 + 42].date())  # the bad period was lived
    # main: the strategy is the good one again, through a merged rollback pull request
    assert git(repo, "diff", good, "main", "--", "strategy") == ""
    forge = LocalForge(GitRepo.open(repo))
    [pr] = forge.list_prs(state="merged")
    assert "rollback" in pr.labels and pr.author_role == "sre"
    assert pr.merge_sha == rollback["revert_commit"]
    assert "canary failed" in git(repo, "log", "-1", "--format=%B", pr.merge_sha)
    assert git(repo, "log", "-1", "--format=%an", pr.merge_sha) == "AlphaLoop SRE"
    # the rollback merged without approvals, and the audit accepts it as a pure revert
    code, out = _cli(repo, "audit", "verify")
    assert code == 0 and "3 deployment events" in out and "consistent" in out, out
    if sandbox == "docker":  # the good commit's image runs again, and nothing is left over
        assert first["current"]["image"] == f"alphaloop-deploy:{good[:12]}"
        assert deploy["image"] == f"alphaloop-deploy:{bad[:12]}"
        assert rollback["image"] == first["current"]["image"]
        assert leftover_containers() == []
    else:
        assert rollback["image"] is None and rollback["backend"] == "process"


def test_a_failed_rollback_halts_until_a_person_resumes(repo: Path) -> None:
    # Good before the second period only: it raises from there on, so it can be deployed
    # first, and a rollback to it then fails its health check.
    _engine_commit(repo, _RETURN, _bomb("raise RuntimeError('feed gone')"), "Fragile")
    assert _cli(repo, "deploy", *ARGS, "--clock", str(CLOCK))[0] == 0
    _engine_commit(repo, "CLASS_CAP = 0.45", "CLASS_CAP = 0.44", "Lower the class cap")
    main_before = git(repo, "rev-parse", "main")
    code, out = _cli(repo, "deploy", *ARGS)
    assert code == 1, out
    assert "feed gone" in out and "the rollback failed" in out and "halted" in out
    state = _status(repo)
    assert state["halted"] is not None and state["halted"]["decided_by"] == "sre"
    assert "health check" in state["halted"]["reason"]
    assert git(repo, "rev-list", f"{main_before}..main", "--", "strategy") == ""
    # everything refuses while halted, and says how to lift it
    for command in (["deploy", *ARGS], ["cycle", *ARGS]):
        code, out = _cli(repo, *command)
        assert code != 0 and "halted" in out and "alphaloop resume" in out, out
    # a role's identity cannot lift it; a person can, once
    git(repo, "config", "user.email", "sre@alphaloop.local")
    code, out = _cli(repo, "resume", "--reason", "fine")
    assert code == 2 and "one of AlphaLoop's own roles" in out
    git(repo, "config", "user.email", "human@example.com")
    code, out = _cli(repo, "resume", "--reason", "restored the feed")
    assert code == 0 and "resumed" in out
    assert _status(repo)["halted"] is None
    assert _cli(repo, "resume", "--reason", "again")[0] == 2


def test_halt_records_who_and_why(repo: Path) -> None:
    code, out = _cli(repo, "halt", "--reason", "exchange outage")
    assert code == 0 and "halted" in out
    [event] = _status(repo)["history"]
    assert event["kind"] == "halt" and event["reason"] == "exchange outage"
    assert event["decided_by"] == "Test Human <human@example.com>"
    assert git(repo, "log", "-1", "--format=%an", "main") == "Test Human"
    assert (GitRepo.open(repo).alphaloop_dir / "halt.json").is_file()
    code, out = _cli(repo, "halt", "--reason", " ")
    assert code != 0 and "needs a reason" in out


@pytest.mark.parametrize(("case", "action", "reported"), [
    ("hang", "while True: pass", "no answer for 4 s: the service was stopped"),
    ("memory", "hoard = bytearray(12 * 1024 ** 3)", "MemoryError"),
    ("network", "__import__('socket').create_connection(('127.0.0.1', PORT), timeout=2)",
     "strategy failed in the sandbox"),
])
def test_a_deployment_that_misbehaves_live_is_contained_and_rolled_back(
        repo: Path, case: str, action: str, reported: str) -> None:
    deploy_policy = repo / "policies" / "deploy.toml"
    deploy_policy.write_text(deploy_policy.read_text().replace(
        "max_heartbeat_gap_seconds = 60.0", "max_heartbeat_gap_seconds = 4.0"))
    git(repo, "commit", "-qam", "A short heartbeat for this test")
    good = git(repo, "rev-parse", "main")
    assert _cli(repo, "deploy", *ARGS, "--clock", str(CLOCK))[0] == 0
    with tcp_listener() as (port, accepted):
        bad = _engine_commit(repo, _RETURN, _bomb(action.replace("PORT", str(port))),
                             f"Misbehave live: {case}")
        code, out = _cli(repo, "deploy", *ARGS)
        assert accepted == []  # nothing reached the host
    assert code == 1, out
    assert "canary failed" in out and reported in out, out
    assert f"rolled back to {good[:10]}" in out and f"reverted {bad[:10]}" in out
    assert git(repo, "diff", good, "main", "--", "strategy") == ""
    assert _status(repo)["current"]["kind"] == "rollback"


def test_a_cycle_killed_between_a_failed_deploy_and_its_rollback_finishes_it(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alphaloop.cycle import CycleOptions
    from alphaloop.cycle.context import CycleContext
    from alphaloop.cycle.operate import operate
    from alphaloop.roles import DeployRequest
    from alphaloop.roles.sre.role import SRE

    good = git(repo, "rev-parse", "main")
    assert _cli(repo, "deploy", *ARGS, "--clock", str(CLOCK))[0] == 0
    bad = _engine_commit(repo, _RETURN, _bomb("weights = np.zeros_like(weights); "
                                               "weights[0] = 0.6"), "Concentrate later")
    options = CycleOptions(data=DATA, frequency="weekly")

    def request(ctx: CycleContext) -> DeployRequest:
        return DeployRequest(cycle_id="c0009", base_branch="main", commit=bad,
                             clock=ctx.clock, research=ctx.data, market=ctx.market,
                             windows=ctx.windows)

    class Killed(BaseException):
        pass

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    with operate(repo, options) as (ctx, sre):
        real = SRE._roll_back_failed
        monkeypatch.setattr(SRE, "_roll_back_failed", killed)
        with pytest.raises(Killed):
            sre.deploy(request(ctx))
        monkeypatch.setattr(SRE, "_roll_back_failed", real)
    assert [e["kind"] for e in _status(repo)["history"]] == ["deploy", "deploy"]
    with operate(repo, options) as (ctx, sre):  # the resumed cycle's deploy stage
        record = sre.deploy(request(ctx))
    assert record.grade == "failed" and record.rolled_back
    history = _status(repo)["history"]
    assert [e["kind"] for e in history] == ["deploy", "deploy", "rollback"]
    assert history[-1]["commit"] == good and history[-1]["cycle_id"] == "c0009"
    assert git(repo, "diff", good, "main", "--", "strategy") == ""


def test_a_loss_the_market_caused_halts_instead_of_reverting_unrelated_code(
        repo: Path) -> None:
    """The same code that ran before fails the canary (here: a drawdown bound no month
    meets). No earlier deployment ran other code, so nothing is reverted: the SRE halts
    deployments for a person."""
    policy = repo / "policies" / "deploy.toml"
    policy.write_text(policy.read_text().replace("max_drawdown = 0.10", "max_drawdown = 0.0001"))
    (repo / "docs.md").write_text("a change that is not the strategy\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "A tight drawdown bound, and a note")
    before = git(repo, "rev-parse", "main")
    code, out = _cli(repo, "deploy", *ARGS, "--clock", str(CLOCK))
    assert code == 1 and "above the 0% the policy allows" in out, out
    assert "nothing to roll back to" in out and "halted" in out
    state = _status(repo)
    assert [e["kind"] for e in state["history"]] == ["deploy", "halt"]
    assert state["halted"]["decided_by"] == "sre"
    # only the two events landed on main: no revert of the note or anything else
    assert git(repo, "diff", "--stat", before, "main", "--", ".", ":!deploy") == ""
