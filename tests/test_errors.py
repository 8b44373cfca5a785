"""One exception tree: every error AlphaLoop defines is an ``AlphaLoopError``.

The classes are found by importing every module under ``alphaloop/`` (a new error class
is covered without editing this file). The tree drawn in ``alphaloop/errors.py`` must
name each family, and a failure inside a cycle reaches the user as one clean line.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, git, make_repo
from typer.testing import CliRunner

import alphaloop
from alphaloop import errors
from alphaloop.cli import app
from alphaloop.cycle import CycleError
from alphaloop.data.panel import DataError
from alphaloop.errors import AlphaLoopError, Failure, Steering
from alphaloop.llm.base import LLMError
from alphaloop.policy import PolicyError
from alphaloop.report.taskfile import TaskFileError, TaskNotFound
from alphaloop.sandbox import SandboxError

# Exceptions that stand outside the tree on purpose (see alphaloop/errors.py).
OUTSIDE_THE_TREE = frozenset({
    # The contract imports nothing of AlphaLoop: strategies import it alone.
    "alphaloop.contract.ContractError",
    "alphaloop.contract.WeightError",
    "alphaloop.contract.ModelUnavailable",
    # The sandbox's wire framing is copied into the sandbox, where only the contract
    # exists; both signals are caught inside alphaloop.sandbox.
    "alphaloop.sandbox._wire.WireClosed",
    "alphaloop.sandbox._wire.WireTimeout",
    # The FMP client's marker for a request worth retrying; it never leaves the client.
    "alphaloop.data.fmp_client._Retryable",
    # SIGTERM unwinding a cycle (a BaseException, so no ``except Exception`` stops it).
    "alphaloop.cycle.run._Terminated",
})


def _modules() -> list[str]:
    """Every module of the package but the programs (``__main__`` runs the CLI)."""
    return sorted(info.name for info in pkgutil.walk_packages(alphaloop.__path__, "alphaloop.")
                  if not info.name.endswith("__main__"))


def _exception_classes() -> dict[str, type[BaseException]]:
    """``module.Class`` -> class, for every exception class defined under alphaloop/."""
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


CLASSES = _exception_classes()


def test_the_walk_finds_the_families() -> None:
    names = {cls.__name__ for cls in CLASSES.values()}
    assert {"GitError", "SandboxError", "DataError", "PolicyError", "ForgeError",
            "HarnessError", "LedgerError", "CycleError", "LLMError"} <= names


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_error_is_an_alphaloop_error(name: str) -> None:
    if name in OUTSIDE_THE_TREE:
        assert not issubclass(CLASSES[name], AlphaLoopError), (
            f"{name} joined the tree: remove it from OUTSIDE_THE_TREE")
        return
    assert issubclass(CLASSES[name], AlphaLoopError), (
        f"{name} must derive from alphaloop.errors.Failure (or Steering), or be listed, "
        "with the reason, in OUTSIDE_THE_TREE")


def test_the_allowlist_names_only_existing_classes() -> None:
    assert not OUTSIDE_THE_TREE - set(CLASSES), "remove the names of deleted classes"


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_the_families_are_disjoint(name: str) -> None:
    cls = CLASSES[name]
    assert not (issubclass(cls, Steering) and issubclass(cls, Failure)), name


@pytest.mark.parametrize("cls", [errors.Vetoed, errors.NeedsHuman, errors.NothingToDo])
def test_steering_outcomes_are_not_failures(cls: type[AlphaLoopError]) -> None:
    assert issubclass(cls, Steering) and not issubclass(cls, Failure)


def test_the_drawn_tree_names_every_family() -> None:
    doc = errors.__doc__ or ""
    children = {cls.__name__ for cls in CLASSES.values()
                if Failure in cls.__bases__ or Steering in cls.__bases__}
    children |= {cls.__name__ for cls in vars(errors).values()
                 if inspect.isclass(cls) and Steering in cls.__bases__}
    missing = sorted(name for name in children if f"── {name} " not in doc)
    assert not missing, f"draw these in alphaloop/errors.py's tree: {missing}"


@pytest.mark.parametrize(("cls", "builtin"), [
    (DataError, ValueError), (PolicyError, ValueError), (TaskFileError, ValueError),
    (TaskNotFound, LookupError), (SandboxError, RuntimeError), (CycleError, RuntimeError),
    (LLMError, RuntimeError),
])
def test_builtin_bases_are_kept(cls: type[Exception], builtin: type[Exception]) -> None:
    """``except ValueError`` written before the tree existed still catches these."""
    assert issubclass(cls, Failure) and issubclass(cls, builtin)


def test_errors_is_a_leaf() -> None:
    """Every package may import the tree, so it imports nothing of AlphaLoop."""
    tree = ast.parse(Path(errors.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)]
    assert [name for name in imported if name.split(".")[0] == "alphaloop"] == []


def test_a_failure_inside_a_cycle_is_one_clean_line(tmp_path: Path) -> None:
    """A strategy that crashes while the Quant reviews main: a harness failure, caught
    by the cycle as a Failure and printed by the CLI without a traceback."""
    repo = make_repo(tmp_path / "project")
    engine = repo / "strategy" / "engine.py"
    anchor = "        prices = view.prices\n"
    assert anchor in engine.read_text(), "the fixture strategy's decide() changed"
    engine.write_text(engine.read_text().replace(
        anchor, "        raise RuntimeError('the model file is gone')\n" + anchor))
    git(repo, "commit", "-qam", "a strategy that crashes")
    result = CliRunner().invoke(app, [
        "cycle", "--repo", str(repo), "--data", OPTIONS.data,
        "--frequency", OPTIONS.frequency, "--holdout-days", str(OPTIONS.holdout_days),
        "--folds", str(OPTIONS.n_folds), "--warmup-days", str(OPTIONS.warmup_days)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # typer's exit, not a crash
    assert "Traceback" not in result.stderr
    assert "alphaloop cycle: c0001 stopped in quant_review:" in result.stderr
    assert "the model file is gone" in result.stderr
    assert "alphaloop cycle --resume" in result.stderr


def test_invalid_cycle_options_are_one_clean_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cycle", "--repo", str(tmp_path),
                                      "--holdout-days", "5"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "Invalid value for '--holdout-days'" in " ".join(
        result.stderr.replace("│", " ").split())
