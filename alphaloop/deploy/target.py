"""What a deployment runs: the strategy of one commit, packaged for its backend.

With the Docker sandbox the commit's ``strategy/`` is baked into a deploy image
(``sandbox/deploy.Dockerfile``) tagged with the commit and labelled with its cycle, and the
service runs in a container of that image. With the process sandbox the service runs the
commit's tree, written exactly as git stores it, and the record says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alphaloop.deploy.errors import DeployError
from alphaloop.errors import Failure
from alphaloop.evaluation import Evaluator
from alphaloop.sandbox import Sandbox

__all__ = ["DEPLOY_LABEL", "DeployTarget", "prepare_target"]

#: The label on the containers of a deployment (its value: the deployed commit), which
#: ``alphaloop halt`` stops; the reviews' backtest containers do not carry it.
DEPLOY_LABEL = "org.alphaloop.deployment"


@dataclass(frozen=True)
class DeployTarget:
    commit: str
    backend: str
    image: str | None
    checkout: Path
    sandbox: Sandbox

    def describe(self) -> str:
        if self.image is not None:
            return f"image {self.image} ({self.backend})"
        return f"the tree of {self.commit[:10]} in the {self.backend} sandbox (no image)"


def prepare_target(evaluator: Evaluator, commit: str, cycle_id: str | None) -> DeployTarget:
    """The deploy target of ``commit`` for the evaluator's sandbox backend.

    Raises :class:`DeployError` when the image cannot be built; nothing is deployed then.
    """
    checkout = evaluator.checkout(commit)
    sandbox = evaluator.sandbox
    backend = sandbox.isolation.backend
    if backend != "docker":
        return DeployTarget(commit=commit, backend="process" if backend == "bubblewrap"
                            else backend, image=None, checkout=checkout, sandbox=sandbox)
    from alphaloop.sandbox.docker_engine import docker_client
    from alphaloop.sandbox.docker_sandbox import DockerSandbox
    from alphaloop.sandbox.images import build_deploy_image, find_backtest_image

    try:
        client = docker_client()
        # on the same base as the backtest image the reviews ran in
        backtest = find_backtest_image(client)
        base = (client.images.get(backtest).labels.get("org.alphaloop.base")
                if backtest else None)
        image = build_deploy_image(checkout, commit=commit, cycle_id=cycle_id, base=base,
                                   client=client)
    except Failure as error:
        raise DeployError(f"the deploy image of {commit[:10]} could not be built: {error}. "
                          "Nothing was deployed.") from None
    return DeployTarget(commit=commit, backend="docker", image=image.tag, checkout=checkout,
                        sandbox=DockerSandbox(limits=sandbox.limits, image=image.tag,
                                              baked_checkout=True,
                                              labels={DEPLOY_LABEL: commit}))
