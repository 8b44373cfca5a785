"""Planted secrets appear in no record and no commit after real cycles run hostile code.

Canaries: a GitHub-shaped token and a password of no known shape in the trusted parent's
environment, a token in the repository's ``.git/config`` (an http extraheader) and one
in ``~/.git-credentials`` under a temporary ``$HOME``. Two cycles each run a strategy
change carried by a patch hypothesis, with the static layers switched off so the code
reaches the sandbox:

- a probe that reads each canary (the environment, ``/proc/self/environ``, the
  repository's ``.git/config`` by relative and absolute path, ``~/.git-credentials``),
  writes whatever it found to stderr and raises it;
- a strategy that raises the parent's token and password verbatim (the test hands it
  their values, hex-encoded in the patch): only redaction of known values stands
  between them and the records.

Then every place a cycle writes is searched for each canary: the ledger, every blob of
the forge branch, ``walkthrough.md``, the reports, ``git log -p --all``, every object in
the repository and the bot's run folders.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git, make_repo, patch_hypothesis

import alphaloop.sandbox.process as sandbox_process
import alphaloop.sandbox.strategy_host as strategy_host
from alphaloop.contract import PortfolioState
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.records import Outcome
from alphaloop.sandbox import Limits, ProcessSandbox, SandboxedStrategy, StrategyFailed
from alphaloop.sandbox.process import UnsandboxedRunner
from security.hostile_changes import hook_patch, static_layer_off

PROBE = '''
import logging

REPO = {repo!r}
HOME = {home!r}


def hook(view):
    os = logging.sys.modules["os"]
    opener = print.__self__.open
    found = ["environment: " + repr({{k: v for k, v in os.environ.items()
                                     if "TOKEN" in k or "PASS" in k}})]
    paths = ["/proc/self/environ", ".git/config", "../.git/config", "../../.git/config",
             REPO + "/.git/config", HOME + "/.git-credentials",
             os.path.expanduser("~/.git-credentials")]
    for path in paths:
        try:
            found.append(path + ": " + opener(path).read())
        except OSError as exc:
            found.append(path + ": " + type(exc).__name__ + ": " + str(exc))
    text = "\\n".join(found)
    logging.sys.stderr.write(text + "\\n")
    logging.sys.stderr.flush()
    raise FileNotFoundError("probe: " + text)
'''

VERBATIM = '''
SECRET = bytes.fromhex({hex!r}).decode()


def hook(view):
    raise RuntimeError(SECRET)
'''


@dataclass(frozen=True)
class Planted:
    repo: Path
    home: Path
    env_token: str
    env_password: str
    git_config_token: str
    credentials_token: str

    def all(self) -> dict[str, str]:
        return {"environment token": self.env_token,
                "environment password": self.env_password,
                ".git/config token": self.git_config_token,
                "~/.git-credentials token": self.credentials_token}


@pytest.fixture()
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Planted:
    home = tmp_path / "home"
    home.mkdir()
    made = Planted(repo=tmp_path / "project", home=home,
                   env_token="ghp_" + secrets.token_hex(18),
                   env_password=f"canary words {secrets.token_hex(4)} here",
                   git_config_token="canarycfg" + secrets.token_hex(12),
                   credentials_token="canarycred" + secrets.token_hex(12))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GITHUB_TOKEN", made.env_token)
    monkeypatch.setenv("ALPHALOOP_DEPLOY_PASSWORD", made.env_password)
    (home / ".git-credentials").write_text(
        f"https://bot:{made.credentials_token}@github.com\n")
    make_repo(made.repo)
    with open(made.repo / ".git" / "config", "a") as handle:
        handle.write(f'[http]\n\textraheader = "AUTHORIZATION: basic {made.git_config_token}"\n')
    return made


def _everything_written(repo: Path) -> dict[str, bytes]:
    """Each place a cycle writes, by name, as bytes."""
    def run(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=repo, check=True,
                              capture_output=True).stdout

    places: dict[str, bytes] = {}
    for path in sorted((repo / "ledger").rglob("*")):
        if path.is_file():
            places[f"ledger file {path.relative_to(repo)}"] = path.read_bytes()
    for name in run("ls-tree", "-r", "--name-only", "alphaloop/forge").decode().split():
        places[f"forge blob {name}"] = run("show", f"alphaloop/forge:{name}")
    places["walkthrough.md"] = (repo / "walkthrough.md").read_bytes()
    for path in sorted((repo / "reports").rglob("*")):
        if path.is_file():
            places[f"report {path.relative_to(repo)}"] = path.read_bytes()
    places["git log -p --all"] = run("log", "-p", "--all", "--format=fuller")
    places["every git object"] = run("cat-file", "--batch-all-objects", "--batch")
    bot = repo / ".git" / "alphaloop"
    for path in sorted(bot.rglob("*")) if bot.exists() else ():
        if path.is_file():
            places[f"bot file {path.relative_to(repo)}"] = path.read_bytes()
    return places


def _risk_findings(repo: Path, cycle: int) -> list[dict]:
    entry = Ledger(repo).entries()[cycle]
    return entry.records["risk_review"]["findings"]


def test_canaries_reach_no_record_and_no_commit(planted: Planted,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    static_layer_off(monkeypatch)
    repo = planted.repo
    main_before = git(repo, "rev-parse", "main")
    probe = hook_patch(repo, "_probe", PROBE.format(repo=str(repo), home=str(planted.home)))
    [first] = run_cycles(repo, OPTIONS, hypothesis_source=patch_hypothesis(
        "probe-canaries", probe, "Read every canary"))
    secret = f"{planted.env_token} {planted.env_password}".encode().hex()
    verbatim = hook_patch(repo, "_verbatim", VERBATIM.format(hex=secret))
    [second] = run_cycles(repo, OPTIONS, hypothesis_source=patch_hypothesis(
        "raise-the-token", verbatim, "Raise the parent's token"))

    assert first.outcome == second.outcome == Outcome.VETOED
    # main moved only by the PM's ledger commits: its strategy is the one it had
    assert git(repo, "rev-parse", "main:strategy") == git(repo, "rev-parse",
                                                          f"{main_before}:strategy")
    # the findings say what happened, in redacted form
    [probe_finding] = [f for f in _risk_findings(repo, 0) if f["check"] == "sandbox.strategy"]
    text = probe_finding["message"]
    assert "strategy failed in the sandbox" in text and "FileNotFoundError" in text
    assert text.count("No such file or directory") >= 5  # .git/config x4, credentials
    assert "environment: {}" in text  # the sandbox's environment holds no token
    assert "(at strategy/_probe.py:" in text
    [raised] = [f for f in _risk_findings(repo, 1) if f["check"] == "sandbox.strategy"]
    assert "strategy failed in the sandbox" in raised["message"]
    assert "RuntimeError: [redacted] [redacted]" in raised["message"]

    places = _everything_written(repo)
    assert any(name.startswith("forge blob") for name in places)
    assert any(name.startswith("ledger file") for name in places)
    leaks = [f"{what} in {where}" for where, data in places.items()
             for what, value in planted.all().items() if value.encode() in data]
    assert leaks == []


def _checkout(root: Path, hook_source: str) -> Path:
    package = root / "strategy"
    package.mkdir(parents=True)
    (package / "_hook.py").write_text(hook_source)
    (package / "__init__.py").write_text(
        "from strategy._hook import hook\n\n\n"
        "class Hooked:\n    lookback = 20\n\n"
        "    def decide(self, view, portfolio):\n        hook(view)\n"
        "        return {t: 0.0 for t in view.tickers}\n\n\n"
        "def create_strategy(**kwargs):\n    return Hooked()\n")
    return root


def _failure(runner, checkout: Path, panel, scratch: Path) -> StrategyFailed:
    with SandboxedStrategy(runner, checkout=checkout, scratch=scratch) as strategy:
        view = panel.view(100, 40)
        with pytest.raises(StrategyFailed) as info:
            strategy.decide(view, PortfolioState(as_of=view.as_of, weights={}, cash=1.0,
                                                 value=1.0, peak_value=1.0))
    return info.value


def test_the_probes_would_leak_without_the_controls(planted: Planted, small_panel,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The canary test can fail: with redaction off, the probe run without the sandbox
    reports both file canaries, and the verbatim strategy run in the sandbox reports the
    parent's token and password."""
    monkeypatch.setattr(strategy_host, "redact", lambda text, **kwargs: text)
    monkeypatch.setattr(sandbox_process, "redact", lambda text, **kwargs: text)
    probe = _checkout(tmp_path / "probe", PROBE.format(repo=str(planted.repo),
                                                       home=str(planted.home)))
    text = str(_failure(UnsandboxedRunner(Limits(wall_seconds=20)), probe, small_panel,
                        tmp_path / "s1"))
    assert planted.git_config_token in text and planted.credentials_token in text
    secret = f"{planted.env_token} {planted.env_password}".encode().hex()
    verbatim = _checkout(tmp_path / "verbatim", VERBATIM.format(hex=secret))
    text = str(_failure(ProcessSandbox(Limits(wall_seconds=20)), verbatim, small_panel,
                        tmp_path / "s2"))
    assert planted.env_token in text and planted.env_password in text
    assert os.environ["GITHUB_TOKEN"] == planted.env_token
