"""The package map holds: imports run downwards only, and packages form no import cycle.

Every ``.py`` file under ``alphaloop/`` and ``strategy/`` is read with :mod:`ast` (nothing
is imported), so a broken direction is caught even in a module no test loads. Imports
inside functions and under ``if TYPE_CHECKING:`` count like any other (see
``tests/support/import_graph.py``). Dynamic imports (``importlib.import_module``) are
not seen: that is how the registry builds a role from its configured name.

The map is :data:`PACKAGES`: each package's layer and, where the design narrows it, what
it may import and who may import it. A package may import packages in lower layers, and
in its own layer only those it lists in ``beside``. A new package must be placed in the
table before it can land.

The last test checks each ``__all__``: every package defines one, and every name it
lists exists and is listed once.
"""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from support.import_graph import Import, cycles, read_imports

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("alphaloop", "strategy")


@dataclass(frozen=True)
class Place:
    """Where a package sits and what the design adds to "import only downwards".

    ``only``: when set, the only packages (or modules) of the project it may import.
    ``beside``: packages of its own layer it may import.
    ``imported_by``: when set, the only packages that may import it.
    ``never``: lower packages it must not import all the same.
    """

    layer: int
    only: tuple[str, ...] | None = None
    beside: tuple[str, ...] = ()
    imported_by: tuple[str, ...] | None = None
    never: tuple[str, ...] = ()


ENTRY = 10  # the ``__main__`` modules: programs, not libraries
ROLE_PLUMBING = ("alphaloop.roles.base", "alphaloop.roles.charter", "alphaloop.roles.registry")

PACKAGES: dict[str, Place] = {
    # 0 - leaves. The root package holds the version only.
    "alphaloop": Place(0, only=()),
    # What a strategy may import; it imports nothing of AlphaLoop.
    "alphaloop.contract": Place(0, only=()),
    # The bot's signing key and the one exception tree: leaves every package may use.
    "alphaloop.keys": Place(0, only=()),
    "alphaloop.errors": Place(0, only=()),
    # Package attributes imported on first use.
    "alphaloop.lazy": Place(0, only=()),
    # 1 - sources and backends. They know nothing of roles (nor of anything above).
    "alphaloop.data": Place(1),
    # Compliance as code reads the data's asset classes.
    "alphaloop.policy": Place(1, beside=("alphaloop.data",)),
    "alphaloop.repo": Place(1),
    # Untrusted code's runner needs the contract it hands across, nothing else.
    "alphaloop.sandbox": Place(1, only=("alphaloop.contract", "alphaloop.errors")),
    "alphaloop.llm": Place(1),
    # The engine imports only the contract, and AlphaLoop never imports the engine: the
    # harness is handed a strategy, roles reach strategy code through the sandbox.
    "strategy": Place(1, only=("alphaloop.contract",), imported_by=("strategy.__main__",)),
    # 2 - the accountant, the gates, the forge.
    # The harness simulates what it is handed: never the strategy, never the report.
    "alphaloop.harness": Place(2, only=("alphaloop.contract", "alphaloop.data",
                                        "alphaloop.errors", "alphaloop.lazy")),
    "alphaloop.checks": Place(2, only=("alphaloop.contract", "alphaloop.policy",
                                       "alphaloop.repo", "alphaloop.errors")),
    "alphaloop.forge": Place(2, only=("alphaloop.keys", "alphaloop.repo", "alphaloop.errors")),
    # 3 - the records every stage shares (they may carry harness results).
    "alphaloop.records": Place(3),
    # 4 - the backtest service and the parameter space.
    "alphaloop.evaluation": Place(4),
    # 5 - walkthrough.md, task.md and their plots.
    "alphaloop.report": Place(5),
    # 5 - deployments: the paper-trading service, the canary, the deployment ledger.
    "alphaloop.deploy": Place(5),
    # 6 - the ``alphaloop backtest`` library, and the roles.
    "alphaloop.backtest": Place(6),
    # The roles' public package: the seam and the registry.
    "alphaloop.roles": Place(6, beside=ROLE_PLUMBING),
    # Shared role plumbing, importable by every role.
    "alphaloop.roles.base": Place(6),
    "alphaloop.roles.charter": Place(6),
    "alphaloop.roles.registry": Place(6, beside=("alphaloop.roles.base",
                                                 "alphaloop.roles.charter")),
    # A role's own package: the registry builds it from its configured name, so nothing
    # imports it, and one role never imports another.
    "alphaloop.roles.pm": Place(6, beside=ROLE_PLUMBING, imported_by=()),
    "alphaloop.roles.quant": Place(6, beside=ROLE_PLUMBING, imported_by=()),
    "alphaloop.roles.risk": Place(6, beside=ROLE_PLUMBING, imported_by=()),
    "alphaloop.roles.qa": Place(6, beside=ROLE_PLUMBING, imported_by=()),
    "alphaloop.roles.engineer": Place(6, beside=ROLE_PLUMBING, imported_by=()),
    "alphaloop.roles.sre": Place(6, beside=ROLE_PLUMBING, imported_by=()),
    # 7 - the stage machine: it sees roles only through alphaloop.roles, .base, .registry.
    "alphaloop.cycle": Place(7, never=("alphaloop.roles.charter",)),
    # 8 - verifies the cycle's journal.
    "alphaloop.audit": Place(8),
    # 8 - ``alphaloop init``: writes the project's files into a strategy repository.
    "alphaloop.scaffold": Place(8),
    # 9 - typer commands; only ``python -m alphaloop`` imports them.
    "alphaloop.cli": Place(9, imported_by=("alphaloop.__main__",)),
    # Programs: nothing imports them. ``python -m strategy`` reaches AlphaLoop through the
    # contract and the thin entry point alphaloop.backtest.entry only.
    "alphaloop.__main__": Place(ENTRY, only=("alphaloop.cli",), imported_by=()),
    "strategy.__main__": Place(ENTRY, only=("strategy", "alphaloop.contract",
                                            "alphaloop.backtest.entry"), imported_by=()),
}

# Packages whose modules are each placed on their own (a new module there is a new
# package of the map), rather than sharing their parent's place.
OPEN = frozenset({"alphaloop", "alphaloop.roles"})

# Modules copied into the sandbox, where the only AlphaLoop module is the contract.
STAGED_INTO_SANDBOX: dict[str, tuple[str, ...]] = {
    "alphaloop.sandbox._child": ("alphaloop.contract", "alphaloop.sandbox._wire"),
    "alphaloop.sandbox._wire": (),
}

# Imports that break the map but are accepted for now, each (file, imported module);
# none today. The list can only shrink: an entry that no longer occurs fails the test
# until it is deleted here.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def package_of(module: str) -> str | None:
    """The entry of :data:`PACKAGES` a module belongs to, or None when it is unplaced."""
    name = module
    while name:
        if name in PACKAGES and (name == module or name not in OPEN):
            return name
        name = name.rpartition(".")[0]
    return None


def _within(module: str, names: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def _broken_rule(importer: str, imported: str, module: str) -> str | None:
    """Why package ``importer`` may not import ``module`` of package ``imported``, if so."""
    mine, theirs = PACKAGES[importer], PACKAGES[imported]
    if theirs.imported_by is not None and importer not in theirs.imported_by:
        if not theirs.imported_by:
            return f"nothing may import {imported}"
        return f"only {', '.join(theirs.imported_by)} may import {imported}"
    if mine.only is not None:  # an explicit list is the whole rule
        if _within(module, mine.only):
            return None
        return f"{importer} may import {', '.join(mine.only) or 'nothing of the project'} only"
    if _within(module, mine.never):
        return f"{importer} must not import {module}"
    if theirs.layer > mine.layer:
        return "a lower layer may not import a higher one"
    if theirs.layer == mine.layer and imported not in mine.beside:
        return f"same layer, and {importer} does not list {imported} beside it"
    return None


@dataclass(frozen=True)
class Violation:
    """One import that breaks the map, with the reason in words."""

    found: Import
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        return self.found.path, self.found.imported

    def __str__(self) -> str:
        found = self.found
        importer = PACKAGES[package_of(found.importer) or ""].layer
        imported = PACKAGES[package_of(found.imported) or ""].layer
        return (f"{found.path}:{found.line} imports {found.imported} (layer {imported}) "
                f"from layer {importer}: {self.reason}")


@pytest.fixture(scope="module")
def imports() -> tuple[dict[str, Path], list[Import]]:
    return read_imports(ROOT, SCANNED)


def _violations(found: list[Import]) -> list[Violation]:
    violations: list[Violation] = []
    for item in found:
        importer, imported = package_of(item.importer), package_of(item.imported)
        if importer is None or imported is None:
            continue  # reported by test_every_package_is_placed
        staged = STAGED_INTO_SANDBOX.get(item.importer)
        if staged is not None and item.imported not in staged:
            reason = f"{item.importer} runs in the sandbox, which holds {staged or 'nothing'}"
            violations.append(Violation(item, reason))
        elif importer != imported and (reason := _broken_rule(importer, imported,
                                                              item.imported)):
            violations.append(Violation(item, reason))
    return violations


def test_every_package_is_placed(imports: tuple[dict[str, Path], list[Import]]) -> None:
    modules, _ = imports
    unplaced = sorted({module for module in modules if package_of(module) is None})
    assert not unplaced, (
        "place these in PACKAGES in tests/test_architecture.py (a layer, and what they may "
        "import): " + ", ".join(unplaced))


def test_imports_follow_the_package_map(
        imports: tuple[dict[str, Path], list[Import]]) -> None:
    violations = _violations(imports[1])
    new = [str(v) for v in violations if v.key not in KNOWN_VIOLATIONS]
    assert not new, ("imports that break the package map (PACKAGES at the top of "
                     "tests/test_architecture.py):\n" + "\n".join(new))


def test_known_violations_still_occur(imports: tuple[dict[str, Path], list[Import]]) -> None:
    seen = {v.key for v in _violations(imports[1])}
    fixed = sorted(KNOWN_VIOLATIONS - seen)
    assert not fixed, ("fixed, so remove it from KNOWN_VIOLATIONS: "
                       + ", ".join(f"{path} -> {module}" for path, module in fixed))


def test_no_import_cycle_between_packages(
        imports: tuple[dict[str, Path], list[Import]]) -> None:
    known = {v.found for v in _violations(imports[1]) if v.key in KNOWN_VIOLATIONS}
    graph: dict[str, set[str]] = defaultdict(set)
    evidence: dict[tuple[str, str], Import] = {}
    for item in imports[1]:
        importer, imported = package_of(item.importer), package_of(item.imported)
        if importer and imported and importer != imported and item not in known:
            graph[importer].add(imported)
            evidence.setdefault((importer, imported), item)
    found = cycles(graph)
    lines = []
    for component in found:
        loop = _shortest_loop(component[0], graph, set(component))
        lines.append(f"{' -> '.join(loop)} (a cycle among {', '.join(component)}):")
        lines += [f"  {evidence[a, b].path}:{evidence[a, b].line} imports "
                  f"{evidence[a, b].imported}" for a, b in pairwise(loop)]
    assert not found, "packages that import each other:\n" + "\n".join(lines)


def _shortest_loop(start: str, graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """The shortest path from ``start`` back to itself inside one component."""
    paths = {start: [start]}
    queue = [start]
    for node in queue:  # breadth first; the queue grows while it is read
        for successor in sorted(graph[node] & members):
            if successor == start:
                return [*paths[node], start]
            if successor not in paths:
                paths[successor] = [*paths[node], successor]
                queue.append(successor)
    raise AssertionError(f"{start} is on no loop")  # cannot happen inside a component


@pytest.mark.parametrize(("importer", "module", "allowed"), [
    ("strategy", "alphaloop.contract", True),
    ("strategy", "alphaloop.harness.metrics", False),
    ("strategy.__main__", "alphaloop.backtest.entry", True),
    ("strategy.__main__", "alphaloop.backtest.run", False),
    ("alphaloop.contract", "alphaloop.data", False),
    ("alphaloop.harness", "strategy.engine", False),
    ("alphaloop.harness", "alphaloop.report.plots", False),
    ("alphaloop.evaluation", "strategy.parameters", False),
    ("alphaloop.policy", "alphaloop.data.crises", True),
    ("alphaloop.records", "alphaloop.harness.compare", True),
    ("alphaloop.records", "alphaloop.cycle", False),
    ("alphaloop.cycle", "alphaloop.roles", True),
    ("alphaloop.cycle", "alphaloop.roles.registry", True),
    ("alphaloop.cycle", "alphaloop.roles.quant.search", False),
    ("alphaloop.cycle", "alphaloop.roles.risk.review", False),
    ("alphaloop.roles.risk", "alphaloop.roles.quant.space", False),
    ("alphaloop.roles.quant", "alphaloop.roles.pm", False),
    ("alphaloop.roles.risk", "alphaloop.roles.base", True),
    ("alphaloop.forge", "alphaloop.roles.base", False),
    ("alphaloop.llm", "alphaloop.roles", False),
    ("alphaloop.sandbox", "alphaloop.roles.charter", False),
    ("alphaloop.data", "alphaloop.roles.registry", False),
    ("alphaloop.audit", "alphaloop.cli", False),
    ("alphaloop.__main__", "alphaloop.cli", True),
])
def test_the_map_keeps_the_design_directions(importer: str, module: str,
                                             allowed: bool) -> None:
    imported = package_of(module)
    assert imported is not None
    assert (_broken_rule(importer, imported, module) is None) is allowed


def test_cycles_finds_every_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def _declared_all(path: Path) -> ast.expr | None:
    """The value assigned to ``__all__`` at the top of a module, if any."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return node.value
    return None


def test_every_package_defines_all(imports: tuple[dict[str, Path], list[Import]]) -> None:
    modules, _ = imports
    missing = sorted(str(path.relative_to(ROOT)) for module, path in modules.items()
                     if path.name == "__init__.py" and _declared_all(path) is None)
    assert not missing, "packages without __all__: " + ", ".join(missing)


def test_all_names_exist_once(imports: tuple[dict[str, Path], list[Import]]) -> None:
    modules, _ = imports
    problems: list[str] = []
    for module, path in sorted(modules.items()):
        if module.endswith("__main__") or _declared_all(path) is None:
            continue
        loaded = importlib.import_module(module)
        names = list(loaded.__all__)
        problems += [f"{module}.__all__ lists {name!r} twice"
                     for name in sorted({n for n in names if names.count(n) > 1})]
        problems += [f"{module}.__all__ lists {name!r}, which it does not define"
                     for name in dict.fromkeys(names) if not hasattr(loaded, name)]
    assert not problems, "\n".join(problems)
