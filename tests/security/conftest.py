"""Fixtures for the adversarial suite: canaries, a local server, hostile checkouts."""

from __future__ import annotations

import secrets
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.listener import tcp_listener

from alphaloop.data.synthetic import SyntheticConfig, SyntheticSource


@dataclass(frozen=True)
class Canaries:
    """Secrets planted where a strategy might look; none may appear in any record."""

    env_token: str
    git_config_token: str
    credentials_token: str
    ssh_key: str
    home: Path
    repo: Path

    def all(self) -> tuple[str, ...]:
        return (self.env_token, self.git_config_token, self.credentials_token, self.ssh_key)

    def found_in(self, text: str) -> list[str]:
        return [c for c in self.all() if c in text]


@pytest.fixture()
def canaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Canaries:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    made = Canaries(env_token="ghp_" + secrets.token_hex(18),
                    git_config_token="canary" + secrets.token_hex(12),
                    credentials_token="canary" + secrets.token_hex(12),
                    ssh_key="canary" + secrets.token_hex(12), home=home,
                    repo=tmp_path / "repo")
    (home / ".git-credentials").write_text(
        f"https://bot:{made.credentials_token}@github.com\n")
    (home / ".ssh" / "id_rsa").write_text(made.ssh_key)
    made.repo.mkdir()
    subprocess.run(["git", "init", "-q", str(made.repo)], check=True)
    with open(made.repo / ".git" / "config", "a") as handle:
        handle.write(f'[http]\n\textraheader = "AUTHORIZATION: basic {made.git_config_token}"\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ALPHALOOP_CANARY_TOKEN", made.env_token)
    monkeypatch.setenv("GITHUB_TOKEN", made.env_token)
    return made


@pytest.fixture()
def listener():
    """A TCP server on 127.0.0.1 the host can reach; yields (port, accepted connections)."""
    with tcp_listener() as served:
        yield served


@pytest.fixture(scope="session")
def small_panel():
    return SyntheticSource(SyntheticConfig(years=2)).load()


def hostile_checkout(root: Path, decide_body: str, *, prelude: str = "") -> Path:
    """A checkout whose strategy runs ``decide_body`` inside ``decide``.

    The body ends with ``return w`` (equal weights) unless it raises first.
    """
    package = root / "strategy"
    package.mkdir(parents=True)
    body = textwrap.indent(textwrap.dedent(decide_body).strip("\n"), " " * 8)
    (package / "__init__.py").write_text(
        f"{textwrap.dedent(prelude)}\n\n"
        "class Hostile:\n"
        "    lookback = 60\n\n"
        "    def decide(self, view, portfolio):\n"
        "        w = {t: 1.0 / len(view.tickers) for t in view.tickers}\n"
        f"{body}\n"
        "        return w\n\n\n"
        "def create_strategy(**kwargs):\n"
        "    return Hostile()\n")
    return root
