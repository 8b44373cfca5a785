"""The import allowlist of the AST policy, rule by rule, with passing and failing code."""

from __future__ import annotations

import pytest

from alphaloop.checks import Finding

from .conftest import Check


def rules(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.check, f.line, f.evidence["rule"]) for f in findings]


def test_allowed_imports_pass(check: Check) -> None:
    assert check("""\
        from __future__ import annotations
        import math, statistics, copy, operator, itertools, functools, logging
        import numpy as np
        import numpy.linalg
        import pandas as pd
        import scipy.optimize
        from scipy import stats
        from scipy.cluster import hierarchy
        from collections.abc import Mapping
        from dataclasses import dataclass
        from enum import Enum
        from typing import Any
        from abc import ABC
        from pydantic import BaseModel
        from alphaloop.contract import MarketView, PortfolioState
        from alphaloop import contract
        import alphaloop.contract
        from strategy.tunables import LOOKBACK_DAYS
        import strategy.optimizers as opt
        from json import loads, dumps
        from types import MappingProxyType
        from inspect import signature

        x = np.linalg.norm(np.ones(3)) + math.pi + pd.Series([1]).sum()
        y = alphaloop.contract.MarketView
        z = opt
        """) == []


@pytest.mark.parametrize("line", [
    "import os", "import sys", "import subprocess", "import socket", "import shutil",
    "import pathlib", "import io", "import requests", "import urllib.request",
    "import http.client", "import ctypes", "import multiprocessing", "import threading",
    "import signal", "import importlib", "import pickle", "import builtins",
    "from os import path", "from os.path import join", "from importlib import import_module",
    "import alphaloop.harness", "from alphaloop import harness", "from alphaloop.data import x",
    "from alphaloop import cli", "import numpyx", "from types import CodeType",
    "from json import load", "from inspect import currentframe",
])
def test_refused_imports(check: Check, line: str) -> None:
    findings = check(line + "\n")
    assert len(findings) == 1, findings
    finding = findings[0]
    assert (finding.check, finding.line, finding.severity) == ("ast.imports", 1, 3)
    assert finding.evidence["snippet"] == line
    assert finding.path == "strategy/example.py"


def test_reasons_name_what_the_module_reaches(check: Check) -> None:
    [finding] = check("import subprocess\n")
    assert "starts processes" in finding.message
    [finding] = check("import socket\n")
    assert "network access" in finding.message


@pytest.mark.parametrize("line", [
    "import scipy.io", "from scipy.io import loadmat", "from scipy import io",
    "import numpy.lib.npyio", "from pandas.io import parquet", "import logging.handlers",
    "from logging.config import fileConfig", "from strategy import __main__",
])
def test_denied_parts_of_allowed_packages(check: Check, line: str) -> None:
    findings = check(line + "\n")
    assert [f.check for f in findings] == ["ast.imports"]
    assert "denied by policy" in findings[0].message


def test_denied_module_reached_through_an_allowed_import(check: Check) -> None:
    findings = check("""\
        import scipy
        data = scipy.io.loadmat
        """)
    assert rules(findings) == [("ast.imports", 2, "denied-module")]


def test_parent_package_import_does_not_open_siblings(check: Check) -> None:
    findings = check("""\
        import alphaloop.contract
        ok = alphaloop.contract.MarketView
        bad = alphaloop.harness.simulate
        """)
    assert rules(findings) == [("ast.imports", 3, "import")]
    assert "alphaloop.harness.simulate" in findings[0].message


def test_star_imports_are_refused(check: Check) -> None:
    findings = check("from numpy import *\n")
    assert rules(findings) == [("ast.imports", 1, "star-import")]


def test_relative_imports_resolve_inside_the_package(check: Check) -> None:
    path = "strategy/experts/stock.py"
    assert check("from . import base\nfrom .base import X\nfrom .. import tunables\n",
                 path) == []
    assert check("from .. import __main__\n", path)[0].check == "ast.imports"
    escaped = check("from ... import alphaloop\n", path)
    assert rules(escaped) == [("ast.imports", 1, "relative-escape")]
    # in a package's __init__, "." is the package itself
    assert check("from .stock import X\n", "strategy/experts/__init__.py") == []
    assert rules(check("from ...x import y\n", "strategy/experts/__init__.py")) == [
        ("ast.imports", 1, "relative-escape")]


def test_uses_of_a_refused_import_are_reported_where_they_happen(check: Check) -> None:
    findings = check("""\
        import os as operating_system

        def secret() -> str:
            return operating_system.environ["API_KEY"]
        """)
    assert rules(findings) == [("ast.imports", 1, "import"),
                               ("ast.access", 4, "refused-module-use")]
    assert "os.environ" in findings[1].message
    assert findings[1].evidence["snippet"] == 'return operating_system.environ["API_KEY"]'


def test_imports_inside_functions_count(check: Check) -> None:
    findings = check("""\
        def f():
            import subprocess
            subprocess.run(["ls"])
        """)
    assert rules(findings) == [("ast.imports", 2, "import"),
                               ("ast.access", 3, "refused-module-use")]


def test_runner_may_import_its_entry_point_but_not_eval(check: Check) -> None:
    runner = "strategy/__main__.py"
    assert check("""\
        import argparse, json, sys
        from pathlib import Path
        from alphaloop.backtest.entry import run_strategy_command
        Path(sys.argv[1]).write_text(json.dumps({}))
        with open("out.json", "w") as handle:
            json.dump({}, handle)
        """, runner) == []
    assert check("import os\n", runner)[0].check == "ast.imports"
    assert check("from alphaloop.harness import simulate\n", runner)[0].check == "ast.imports"
    assert check("eval('1')\n", runner)[0].check == "ast.dynamic"
    # the same file anywhere else gets the strategy rules
    assert check("from alphaloop.backtest.entry import run_strategy_command\n",
                 "strategy/main.py")
