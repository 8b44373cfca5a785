"""The deterministic gates a change passes before any backtest runs.

Each check returns :class:`Finding` objects graded 0 pass, 1 warn, 2 restrict, 3 block;
:func:`check_change` runs them all over the files changed between two commits and
returns a :class:`CheckReport`:

- path ownership (:func:`check_paths`, :func:`check_file_modes`), from ``policies/paths.toml``;
- the AST policy over strategy code (:func:`check_strategy_source` and friends): imports
  allowlist, no file/network/process/environment access, no dynamic code or
  introspection escapes, no literal limit above ``policies/risk.toml``;
- ruff and bandit (:func:`run_ruff`, :func:`run_bandit`); a tool that cannot run is a
  severity-3 "could not verify" finding, never a pass;
- the formatting-only rule for roles limited to formatting (:func:`check_formatting_only`).
"""

from alphaloop.checks.ast_policy import (
    check_strategy_file_types,
    check_strategy_files,
    check_strategy_package,
    check_strategy_source,
    is_strategy_file,
)
from alphaloop.checks.change import check_change, export_tree
from alphaloop.checks.diff import ChangedFile, changed_files
from alphaloop.checks.findings import CheckReport, Finding, Severity, max_severity
from alphaloop.checks.formatting import check_formatting_only, same_code, same_text
from alphaloop.checks.paths import check_file_modes, check_paths
from alphaloop.checks.tools import run_bandit, run_ruff

__all__ = [
    "ChangedFile",
    "CheckReport",
    "Finding",
    "Severity",
    "changed_files",
    "check_change",
    "check_file_modes",
    "check_formatting_only",
    "check_paths",
    "check_strategy_file_types",
    "check_strategy_files",
    "check_strategy_package",
    "check_strategy_source",
    "export_tree",
    "is_strategy_file",
    "max_severity",
    "run_bandit",
    "run_ruff",
    "same_code",
    "same_text",
]
