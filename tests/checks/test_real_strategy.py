"""The strategy package in this repository passes the AST policy it is held to."""

from __future__ import annotations

from pathlib import Path

import pytest

from alphaloop.checks import check_strategy_package
from alphaloop.policy import Policies

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_strategy_package_has_no_restricting_or_blocking_finding(policies: Policies) -> None:
    if not (REPO_ROOT / "strategy" / "__init__.py").is_file():
        pytest.skip("this checkout has no strategy package")
    findings = check_strategy_package(REPO_ROOT, policies)
    serious = [f"{f.location()}: {f.check}: {f.message}" for f in findings if f.severity >= 2]
    assert serious == []
    # the only accepted exceptions are the spec's aggressive profile in config.py
    assert {(f.path, f.evidence["name"]) for f in findings} <= {
        ("strategy/config.py", "max_single_asset"), ("strategy/config.py", "max_asset_class")}
