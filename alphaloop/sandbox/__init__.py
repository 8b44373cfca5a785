"""Running untrusted strategy code: the bubblewrap process sandbox (default) or Docker.

``open_sandbox()`` returns a :class:`Sandbox` (the protocol every backend implements)
after checking that the isolation works, and refuses to run without one unless
``allow_unsandboxed=True``;
:class:`SandboxedStrategy` puts a branch's strategy behind the strategy contract, and
answers the questions it asks a model through a :class:`ModelAnswerer`
(:mod:`alphaloop.sandbox.model_questions`).
"""

from alphaloop.sandbox.base import (
    Isolation,
    Limits,
    Sandbox,
    SandboxedProcess,
    SandboxError,
    SandboxResult,
    SandboxUnavailable,
)
from alphaloop.sandbox.docker_sandbox import DockerSandbox
from alphaloop.sandbox.model_questions import (
    ModelAnswer,
    ModelAnswerer,
    ModelLimits,
    ModelQuestion,
    ModelUsage,
    NoModel,
)
from alphaloop.sandbox.process import ProcessSandbox, UnsandboxedRunner, open_sandbox
from alphaloop.sandbox.strategy_host import SandboxedStrategy, StrategyFailed

__all__ = [
    "DockerSandbox",
    "Isolation",
    "Limits",
    "ModelAnswer",
    "ModelAnswerer",
    "ModelLimits",
    "ModelQuestion",
    "ModelUsage",
    "NoModel",
    "ProcessSandbox",
    "Sandbox",
    "SandboxError",
    "SandboxResult",
    "SandboxUnavailable",
    "SandboxedProcess",
    "SandboxedStrategy",
    "StrategyFailed",
    "UnsandboxedRunner",
    "open_sandbox",
]
