"""The AST policy over strategy code: imports, access, dynamic code and literal limits.

``check_strategy_source`` checks one file's text; ``check_strategy_files`` checks files
on disk; ``check_strategy_file_types`` refuses files Python could load as native code.
The rules themselves live in :mod:`~alphaloop.checks.ast_access` and
:mod:`~alphaloop.checks.ast_limits`, and read ``policies/imports.toml`` and
``policies/risk.toml``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from alphaloop.checks.ast_access import AccessVisitor
from alphaloop.checks.ast_common import SourceFile
from alphaloop.checks.ast_limits import check_literal_limits
from alphaloop.checks.findings import Finding, Severity
from alphaloop.policy import Policies, normalize_repo_path, path_matches

__all__ = [
    "check_strategy_file_types",
    "check_strategy_files",
    "check_strategy_package",
    "check_strategy_source",
    "is_strategy_file",
]


def is_strategy_file(path: str, policies: Policies) -> bool:
    """Whether ``path`` is a Python file of the strategy package."""
    return path.endswith(".py") and path_matches(path, f"{policies.imports.strategy.package}/**")


def check_strategy_source(source: str, path: str, policies: Policies) -> list[Finding]:
    """Every AST-policy finding for one strategy file, in line order.

    ``path`` is the file's repository-relative path: it places relative imports and
    selects the runner's rules for ``strategy/__main__.py``.
    """
    path = normalize_repo_path(path)
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return [Finding(check="ast.syntax", severity=Severity.BLOCK, path=path,
                        line=exc.lineno if exc.lineno and exc.lineno > 0 else None,
                        message=f"the file does not parse ({exc.msg}); fix the syntax",
                        evidence={"rule": "syntax", "snippet": (exc.text or "").strip()})]
    src = SourceFile(path=path, source=source, tree=tree)
    runner = path == policies.imports.runner.path
    AccessVisitor(src, policies.imports, runner=runner).run()
    check_literal_limits(src, policies.risk)
    return sorted(src.findings, key=lambda f: (f.line or 0, f.check))


def check_strategy_files(root: Path | str, paths: Iterable[str],
                         policies: Policies) -> list[Finding]:
    """The AST policy over the strategy files among ``paths`` (relative to ``root``)."""
    findings: list[Finding] = []
    for raw in paths:
        path = normalize_repo_path(raw)
        if not is_strategy_file(path, policies):
            continue
        try:
            source = (Path(root) / path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            findings.append(Finding(check="ast.syntax", severity=Severity.BLOCK, path=path,
                                    message=f"the file is not UTF-8 text ({exc.reason}); save "
                                    "it as UTF-8", evidence={"rule": "encoding"}))
            continue
        findings.extend(check_strategy_source(source, path, policies))
    return findings


def check_strategy_package(root: Path | str, policies: Policies) -> list[Finding]:
    """The AST policy over every Python file of the strategy package under ``root``."""
    base = Path(root)
    package = base / policies.imports.strategy.package
    paths = sorted(p.relative_to(base).as_posix() for p in package.rglob("*.py"))
    return check_strategy_files(base, paths, policies)


def check_strategy_file_types(paths: Iterable[str], policies: Policies) -> list[Finding]:
    """Block files in the strategy package that Python could load as native code."""
    package = policies.imports.strategy.package
    denied = policies.imports.strategy.denied_suffixes
    findings = []
    for raw in paths:
        path = normalize_repo_path(raw)
        suffix = next((s for s in denied if path.lower().endswith(s)), None)
        if suffix is not None and path_matches(path, f"{package}/**"):
            findings.append(Finding(
                check="ast.files", severity=Severity.BLOCK, path=path,
                message=(f"{path} is a {suffix} file, which Python can load as native or "
                         "precompiled code; strategy code must be Python source"),
                evidence={"rule": "denied-suffix", "suffix": suffix}))
    return findings
