"""The import graph of the project's own packages, read from source without importing it.

:func:`read_imports` parses every ``.py`` file under the given package folders with
:mod:`ast` and returns one :class:`Import` per first-party module each file names:

- absolute (``import alphaloop.x``, ``from alphaloop.x import y``) and relative
  (``from ..x import y``) imports are both resolved to a dotted module name;
- ``from package import name`` points at ``package.name`` when that is a module of the
  tree, else at ``package`` (``name`` is then an attribute of the package);
- imports anywhere count: at the top, inside functions, under ``try:`` and under
  ``if TYPE_CHECKING:``. A type-only import still ties the two packages together for a
  reader and for a type checker, so it obeys the same directions (the stricter choice);
- ``importlib.import_module("...")`` and other dynamic imports are not seen.

:func:`cycles` finds the strongly connected components of a graph (Tarjan's algorithm),
so every import cycle between packages is reported once, whatever its length.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Import", "cycles", "module_files", "read_imports"]


@dataclass(frozen=True, order=True)
class Import:
    """``importer`` (a dotted module name, read from ``path``) imports ``imported`` at ``line``."""

    path: str
    line: int
    importer: str
    imported: str


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of ``packages`` (top-level folders under ``root``), by dotted name.

    A package's ``__init__.py`` is named after the package itself.
    """
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    """The package a relative import in ``module`` starts from."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _known(name: str, modules: Mapping[str, Path]) -> str:
    """``name`` itself when it is a module of the tree, else its longest module prefix."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _targets(node: ast.Import | ast.ImportFrom, module: str, path: Path,
             modules: Mapping[str, Path]) -> list[str]:
    """The modules one import statement names, before filtering out third-party ones."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = _package_of(module, path).split(".")
        anchor = ".".join(package[:len(package) - node.level + 1])
        base = f"{anchor}.{base}" if base else anchor
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names]


def read_imports(root: Path, packages: Iterable[str]) -> tuple[dict[str, Path], list[Import]]:
    """The modules of ``packages`` and every import between them, sorted by file and line."""
    packages = tuple(packages)
    modules = module_files(root, packages)
    found: set[Import] = set()
    for module, path in modules.items():
        relative = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, module, path, modules):
                if target.split(".")[0] in packages:
                    found.add(Import(relative, node.lineno, module, _known(target, modules)))
    return modules, sorted(found)


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one node, each sorted.

    Every node on an import cycle is in exactly one component; a component with two or
    more nodes is a set of packages that all import each other, directly or not.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)
