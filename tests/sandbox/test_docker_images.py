"""Images for the Docker sandbox: cached builds, and deploy images carrying their commit.

Runs against the real engine; skipped, saying why, when none answers (tests/support/docker).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.docker import leftover_containers, sandbox_image

from alphaloop.sandbox import Limits
from alphaloop.sandbox.docker_engine import docker_client
from alphaloop.sandbox.docker_sandbox import DockerSandbox
from alphaloop.sandbox.images import (
    ImageBuildError,
    build_backtest_image,
    build_deploy_image,
    runtime_key,
)

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


@pytest.fixture(autouse=True)
def no_leftovers() -> object:
    sandbox_image()
    yield
    assert leftover_containers() == [], "a sandbox container was left behind"


def _commit(repo: Path, text: str) -> str:
    (repo / "strategy").mkdir(parents=True, exist_ok=True)
    (repo / "strategy" / "__init__.py").write_text(text)
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "strategy"], check=True)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_the_backtest_image_is_reused_for_the_same_inputs() -> None:
    client = docker_client()
    tag = sandbox_image()
    image = client.images.get(tag)
    assert image.labels["org.alphaloop.runtime"] == runtime_key()
    again = build_backtest_image(image.labels["org.alphaloop.base"], client=client)
    assert client.images.get(again).id == image.id


def test_a_deploy_image_carries_its_commit_and_cycle(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    sha = _commit(repo, "VERSION = 'deployed'\n")
    base = docker_client().images.get(sandbox_image()).labels["org.alphaloop.base"]
    image = build_deploy_image(repo, commit=sha, cycle_id="c0007", base=base)
    try:
        assert image.tag == f"alphaloop-deploy:{sha[:12]}" and image.commit == sha
        labels = docker_client().images.get(image.tag).labels
        assert labels["org.alphaloop.commit"] == sha
        assert labels["org.alphaloop.cycle"] == "c0007"
        assert build_deploy_image(repo, commit=sha, cycle_id="c0007",
                                  base=base).image_id == image.image_id  # cached

        # the baked checkout runs, not the work directory (which holds other code)
        elsewhere = tmp_path / "elsewhere"
        (elsewhere / "strategy").mkdir(parents=True)
        (elsewhere / "strategy" / "__init__.py").write_text("VERSION = 'not deployed'\n")
        box = DockerSandbox(Limits(wall_seconds=30), image=image.tag, baked_checkout=True)
        code = ("import os, strategy; print(strategy.VERSION, "
                "os.path.exists('/sandbox/checkout/.git'))")
        result = box.run(box.python_command(elsewhere, code=code), workdir=elsewhere,
                         scratch=tmp_path / "scratch")
        assert result.ok, result.stderr
        assert result.stdout.split() == ["deployed", "False"]
    finally:
        docker_client().images.remove(image.tag, force=True)


def test_a_deploy_image_needs_a_commit_and_a_strategy(tmp_path: Path) -> None:
    with pytest.raises(ImageBuildError, match="not a commit id"):
        build_deploy_image(tmp_path, commit="main")
    with pytest.raises(ImageBuildError, match="no strategy/ package"):
        build_deploy_image(tmp_path, commit="a" * 40)


def test_alphaloop_sandbox_build_prints_the_tag_or_a_clean_error() -> None:
    from typer.testing import CliRunner

    from alphaloop.cli import app

    client = docker_client()
    tag = sandbox_image()
    base = client.images.get(tag).labels["org.alphaloop.base"]
    built = CliRunner().invoke(app, ["sandbox", "build", "--base", base])
    assert built.exit_code == 0, built.output
    assert client.images.get(built.output.strip()).id == client.images.get(tag).id
    missing = CliRunner().invoke(app, ["sandbox", "build", "--base",
                                       "alphaloop-test/no-such-base:0"])
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert "building the backtest image failed" in missing.output
