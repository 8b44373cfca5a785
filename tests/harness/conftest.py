"""Fixtures of the harness tests.

``hb`` is the :mod:`harness_builders` module beside this file (small market panels, test
strategies, an independent per-day reference simulator). Tests run with
``--import-mode=importlib``, so it is loaded by path rather than imported by name.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def hb() -> ModuleType:
    path = Path(__file__).with_name("harness_builders.py")
    spec = importlib.util.spec_from_file_location("harness_builders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
