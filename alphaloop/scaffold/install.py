"""Add AlphaLoop to a strategy repository: policies, role charters, a backlog, workflows
and ``alphaloop.toml``, which names the strategy's entry point.

AlphaLoop runs a repository's ``strategy/`` package through its factory
``strategy:create_strategy`` (the sandbox imports it; backtests and cycles call it).
``--strategy-entry`` names where that factory is defined (``strategy.engine`` or
``strategy.engine:build``); it is checked by reading the source (nothing is imported),
and so is ``strategy/__init__.py``'s ``create_strategy``. Every check runs before any
file is written. A file the repository already has is kept unless ``force`` is given
(one with the template's content is simply reported unchanged), so running it twice
changes nothing.
"""

from __future__ import annotations

import ast
import contextlib
import json
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure
from alphaloop.policy import PolicyError, load_policies
from alphaloop.repo import GitError, GitRepo

__all__ = ["CONFIG_FILE", "InitError", "InitResult", "check_entry", "init_project",
           "template_files"]

CONFIG_FILE = "alphaloop.toml"
PACKAGE = "strategy"
FACTORY = "create_strategy"
#: The project's workflows a strategy repository gets (its CI is the project's own).
WORKFLOWS = ("cycle.yml", "review.yml", "merge.yml")
#: The workflows' line naming AlphaLoop's pip requirement, filled in by ``init``.
INSTALL_LINE = b'ALPHALOOP_INSTALL: ""'


class InitError(Failure, ValueError):
    """The repository cannot take AlphaLoop as it is; the message says what to change."""


class InitResult(BaseModel):
    """What ``alphaloop init`` did, file by file (paths relative to the repository)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    root: Path
    entry: str
    written: list[str] = Field(default_factory=list)
    overwritten: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list, description="the user's, not overwritten")
    notes: list[str] = Field(default_factory=list)


def _walk(node: Traversable, prefix: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name.startswith(("__pycache__", ".")):
            continue
        path = f"{prefix}{child.name}"
        if child.is_dir():
            files.update(_walk(child, path + "/"))
        else:
            files[path] = child.read_bytes()
    return files


def install_requirement() -> str:
    """The pip requirement of the AlphaLoop running now (the workflows install it)."""
    try:
        return f"alphaloop=={version('alphaloop')}"
    except PackageNotFoundError:
        return "alphaloop"


def template_files(install: str | None = None) -> dict[str, bytes]:
    """Every file ``alphaloop init`` writes but ``alphaloop.toml``: path -> content; the
    workflows install AlphaLoop with the pip requirement ``install`` (default: this
    version of it)."""
    root = resources.files("alphaloop.scaffold") / "templates"
    files = {**_walk(root / "policies", "policies/"), **_walk(root / "roles", "roles/")}
    files[".github/CODEOWNERS"] = (root / "github" / "CODEOWNERS").read_bytes()
    requirement = json.dumps(install or install_requirement()).encode()
    for name in WORKFLOWS:
        text = (root / "github" / "workflows" / name).read_bytes()
        files[f".github/workflows/{name}"] = text.replace(
            INSTALL_LINE, INSTALL_LINE[:-2] + requirement)
    files["task.md"] = (root / "task.md").read_bytes()
    return files


def _top_names(source: str, path: str) -> set[str]:
    """Names a module defines, imports or lists in ``__all__`` at its top level."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        raise InitError(f"{path} does not parse ({error.msg}, line {error.lineno}); fix it "
                        "before adding AlphaLoop.") from None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            is_all = any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)
            if is_all and node.value is not None:
                with contextlib.suppress(ValueError):
                    names.update(str(v) for v in ast.literal_eval(node.value))
    return names


def _module_file(root: Path, module: str) -> Path:
    parts = module.split(".")
    for candidate in (root.joinpath(*parts).with_suffix(".py"),
                      root.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    raise InitError(f"--strategy-entry {module}: there is no {'/'.join(parts)}.py or "
                    f"{'/'.join(parts)}/__init__.py in {root}.")


def check_entry(root: Path, entry: str | None) -> str:
    """The entry point ``module:factory`` after checking it against the sources."""
    if not (root / PACKAGE / "__init__.py").is_file():
        raise InitError(
            f"{root} has no {PACKAGE}/ package ({PACKAGE}/__init__.py): AlphaLoop improves "
            f"a strategy kept there, whose {FACTORY}(profile=...) returns an object with "
            "decide(view, portfolio). Move the strategy into strategy/ (or re-export it "
            "from there), then run alphaloop init again.")
    module, _, factory = (entry or PACKAGE).partition(":")
    factory = factory or FACTORY
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        raise InitError(f"--strategy-entry {entry}: the entry point must be in the "
                        f"{PACKAGE} package (e.g. {PACKAGE}.engine:{FACTORY}), the code "
                        "AlphaLoop reviews and runs sandboxed.")
    if not module.replace(".", "").replace("_", "").isalnum() or not factory.isidentifier():
        raise InitError(f"--strategy-entry {entry}: write it as module or module:function.")
    path = _module_file(root, module)
    relative = path.relative_to(root).as_posix()
    if factory not in _top_names(path.read_text(encoding="utf-8"), relative):
        raise InitError(f"--strategy-entry {entry}: {relative} defines no {factory}; name "
                        "the function that builds the strategy.")
    package = (root / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    if FACTORY not in _top_names(package, f"{PACKAGE}/__init__.py"):
        how = (f"from {module} import {factory} as {FACTORY}" if factory != FACTORY
               else f"from {module} import {FACTORY}")
        raise InitError(f"{PACKAGE}/__init__.py does not provide {FACTORY}, which AlphaLoop "
                        f"calls to build the strategy; add `{how}` to it.")
    return f"{module}:{factory}"


def _config(entry: str, root: Path) -> bytes:
    tunables = f"{PACKAGE}/tunables.py"
    return (
        "# AlphaLoop in this repository (written by `alphaloop init`).\n"
        "#\n"
        "# AlphaLoop reviews and changes the strategy package below and builds the strategy\n"
        f"# with {PACKAGE}:{FACTORY}(profile=...); `entry` is the function that does it.\n"
        "# Policies are in policies/, role charters in roles/, the backlog in task.md.\n\n"
        "[strategy]\n"
        f'package = "{PACKAGE}"\n'
        f'entry = "{entry}"\n'
        f'tunables = "{tunables}"   # the values a hypothesis edits\n'
    ).encode()


def init_project(root: Path, *, force: bool = False, strategy_entry: str | None = None,
                 install: str | None = None) -> InitResult:
    """Write AlphaLoop's files into the repository at ``root`` (see the module's doc);
    the workflows install AlphaLoop with the pip requirement ``install``."""
    root = Path(root)
    try:
        repo = GitRepo.open(root)
    except GitError as error:
        raise InitError(f"{error} AlphaLoop works in a git repository: run `git init` "
                        f"there first.") from None
    root = repo.work_tree
    entry = check_entry(root, strategy_entry)
    files = {**template_files(install), CONFIG_FILE: _config(entry, root)}
    result = InitResult(root=root, entry=entry)
    for path, content in files.items():
        target = root / path
        if target.is_file() and target.read_bytes() == content:
            result.unchanged.append(path)
            continue
        if target.exists() and not force:
            result.kept.append(path)
            continue
        (result.overwritten if target.exists() else result.written).append(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    if not (root / PACKAGE / "tunables.py").is_file():
        result.notes.append(f"{PACKAGE}/tunables.py is missing: the Quant proposes parameter "
                            "changes by editing the values there (and their ranges in "
                            f"{PACKAGE}/parameters.py); without it only code changes are tried.")
    try:
        load_policies(root)
    except PolicyError as error:
        result.notes.append(f"the policies in {root / 'policies'} do not load: {error}")
    if "/.github/" in (root / ".github" / "CODEOWNERS").read_text(errors="replace") and \
            "@alphaloop/maintainers" in (root / ".github" / "CODEOWNERS").read_text(
                errors="replace"):
        result.notes.append("replace @alphaloop/maintainers in .github/CODEOWNERS with "
                            "your maintainers' team")
    return result
