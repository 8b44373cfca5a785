"""AlphaLoop's exceptions: one base, two families.

A *steering outcome* says how a step ended when it did not end with a result: the
change was vetoed, a person must decide, or there is nothing to do. It is not a
failure; a role raises it and the cycle turns it into the cycle's outcome.

A *failure* says something went wrong: git refused, the sandbox broke a limit, the
data or a policy file is unusable. Its message names the problem and what to do
about it, so the cycle and the command line catch :class:`Failure` and show the
message, never a traceback.

Each failure family keeps its class in its own package (its import path is public)
and keeps its builtin base too, so ``except ValueError`` around, say, loading data
still works::

    AlphaLoopError                 anything AlphaLoop raises on purpose
    ├── Steering                   how a step ended; not a failure
    │   ├── Vetoed                 a reviewer blocked the change
    │   ├── NeedsHuman             a person must decide before the change goes on
    │   └── NothingToDo            no open task, or no untried idea to work on
    └── Failure                    something went wrong; the message says what to do
        ├── InfrastructureFailure  the machine failed, not the code under review
        ├── GitError               alphaloop.repo.errors: git refused or failed
        ├── SandboxError           alphaloop.sandbox.base: sandboxed code failed (RuntimeError)
        ├── DataError              alphaloop.data.panel: unusable market data (ValueError)
        ├── PolicyError            alphaloop.policy.errors: a policy or charter file (ValueError)
        ├── ForgeError             alphaloop.forge.errors: a pull request or review refused
        ├── HarnessError           alphaloop.harness.errors: a backtest cannot go on
        ├── LedgerError            alphaloop.cycle.ledger: the ledger or the run store
        ├── CycleError             alphaloop.cycle.options: the cycle cannot go on (RuntimeError)
        ├── CycleLocked            alphaloop.cycle.lock: another cycle holds the lock
        ├── LLMError               alphaloop.llm.base: no usable answer (RuntimeError)
        ├── DeployError            alphaloop.deploy.errors: a deployment (RuntimeError)
        ├── InitError              alphaloop.scaffold.install: `alphaloop init` (ValueError)
        ├── TaskFileError          alphaloop.report.taskfile: task.md breaks the format (ValueError)
        ├── TaskNotFound           alphaloop.report.taskfile: no such task (LookupError)
        ├── GoalError              alphaloop.report.goals: a task's goal (ValueError)
        ├── HistoryError           alphaloop.report.history: a ledger entry (ValueError)
        ├── PlotError              alphaloop.report.curves: curves (ValueError)
        ├── ToolFailure            alphaloop.checks.tools: a linter gave no verdict
        ├── EditError              alphaloop.evaluation.tunables: a parameter edit (ValueError)
        ├── ExecutorError          alphaloop.evaluation.executor: fan-out backend (RuntimeError)
        ├── SteeringError          alphaloop.roles.quant.steering: a pin or exclusion (ValueError)
        └── CommitRefused          alphaloop.roles.qa.commit: QA's tests were not committed

The families with members of their own draw them in their modules:
:mod:`alphaloop.repo.errors`, :mod:`alphaloop.forge.errors`,
:mod:`alphaloop.harness.errors`, :mod:`alphaloop.deploy.errors`;
:class:`~alphaloop.data.fmp_client.FMPError` is a ``DataError``; ``CharterError`` and
``RoleConfigError`` derive from ``PolicyError``; the Engineer's ``FormatFailure`` is a
``ToolFailure``; ``SandboxUnavailable`` (no engine, or the engine died mid-run) is
also an ``InfrastructureFailure``.

Standing apart on purpose:

- :class:`alphaloop.contract.ContractError` (and its ``WeightError``), and the
  contract's ``ModelUnavailable`` (no model answers a strategy's question): the contract is
  what a strategy imports, and it imports nothing of AlphaLoop, this module included.
  Commands that run strategies catch it beside :class:`Failure`.
- The engine's errors under ``strategy/``: the engine imports only the contract.
- Private signals that never leave their module: the sandbox's wire framing
  (``WireClosed``, ``WireTimeout``; copied into the sandbox, where only the contract
  exists), the FMP client's retry marker, and the cycle's SIGTERM unwinding.

This module imports nothing of AlphaLoop, so every package may use it.
"""

from __future__ import annotations

__all__ = [
    "AlphaLoopError",
    "Failure",
    "InfrastructureFailure",
    "NeedsHuman",
    "NothingToDo",
    "Steering",
    "Vetoed",
]


class AlphaLoopError(Exception):
    """Base class of every exception AlphaLoop raises on purpose."""


class Steering(AlphaLoopError):
    """How a step ended when it produced no result; an outcome, not a failure."""


class Vetoed(Steering):
    """A reviewer blocked the change; the message gives the reasons."""


class NeedsHuman(Steering):
    """A person must decide (approve, or settle a deadlock) before the change goes on."""


class NothingToDo(Steering):
    """There is no open task, or no untried idea for it; the cycle ends idle."""


class Failure(AlphaLoopError):
    """Something went wrong; the message names the problem and what to do about it.

    The families live in their packages (see the tree in this module's docstring);
    callers that can only report a failure catch this class.
    """


class InfrastructureFailure(Failure):
    """The machine failed, not the code under review: a sandbox engine that stopped
    answering, say. Never a verdict on a change: the harness and the reviewers let it
    through, and the cycle stops resumable instead of vetoing."""
