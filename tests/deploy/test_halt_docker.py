"""``alphaloop halt`` stops a deployment's container on a real Docker engine, and only
deployments' containers: a review's backtest container keeps running."""

from __future__ import annotations

import time
from pathlib import Path

from support.docker import leftover_containers, sandbox_image

from alphaloop.deploy import stop_containers
from alphaloop.deploy.target import DEPLOY_LABEL
from alphaloop.sandbox import Limits, SandboxedProcess
from alphaloop.sandbox.docker_sandbox import DockerSandbox

SLEEP = "import time; time.sleep(60)"


def _start(box: DockerSandbox, root: Path, name: str) -> SandboxedProcess:
    work = root / name
    (work / "checkout").mkdir(parents=True)
    work.chmod(0o755)
    (work / "checkout").chmod(0o755)
    argv = box.python_command(work / "checkout", code=SLEEP)
    return box.spawn(argv, workdir=work / "checkout", scratch=work / "scratch")


def test_halt_kills_deployment_containers_only(tmp_path: Path) -> None:
    image = sandbox_image()  # skips, saying why, without a Docker engine
    limits = Limits(wall_seconds=90)
    deployment = _start(DockerSandbox(limits, image=image, labels={DEPLOY_LABEL: "abc"}),
                        tmp_path, "deployment")
    review = _start(DockerSandbox(limits, image=image), tmp_path, "review")
    try:
        time.sleep(3)  # both containers are up
        assert deployment.popen.poll() is None and review.popen.poll() is None
        assert stop_containers() == 1
        deployment.popen.wait(timeout=30)
        assert review.popen.poll() is None  # the review's backtest was not touched
    finally:
        for proc in (deployment, review):
            proc.terminate()
    assert leftover_containers() == []
