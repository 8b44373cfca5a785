"""Running tests with pytest inside the sandbox, and reading back what happened.

The suite runs in the same bubblewrap sandbox as Risk's backtests (no network, a
read-only checkout holding only ``strategy/`` and ``tests/generated/``, the contract and
the allowed libraries, here with pytest, hypothesis and coverage added). A small runner
started in the sandbox calls ``pytest.main`` with a plugin that notes each test's
outcome and failure report, optionally under coverage of ``strategy/``, and writes them
as JSON to the scratch directory; nothing of the sandbox's output is trusted beyond
that file's shape.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.sandbox import Sandbox, SandboxError, open_sandbox
from alphaloop.sandbox.redact import redact

__all__ = ["QA_LIBRARIES", "SuiteRun", "TestOutcome", "flaky_tests", "qa_sandbox", "run_suite"]

#: What the sandbox holds for QA beyond the strategy's libraries.
QA_LIBRARIES = ("hypothesis", "pytest", "coverage")

OUTPUT_LIMIT = 4000

_RUNNER = r"""
import json, os, sys
config = json.loads(sys.argv[1])
import pytest

class Collector:
    def __init__(self):
        self.tests = {}

    def pytest_configure(self, config):
        # Hypothesis reads constants from the source of every module it thinks local;
        # the sandbox's libraries are not under a "site-packages" path: say where they are.
        try:
            import pathlib
            from hypothesis.internal import scrutineer
            here = pathlib.Path.cwd().resolve()
            scrutineer.SITE_PACKAGES_DIRS.update(
                pathlib.Path(p).resolve() for p in sys.path
                if p and pathlib.Path(p).resolve() != here)
        except Exception:
            pass

    def pytest_collectreport(self, report):
        if report.failed:
            self.tests[report.nodeid or "collection"] = {
                "outcome": "error", "output": report.longreprtext}

    def pytest_runtest_logreport(self, report):
        entry = self.tests.setdefault(report.nodeid, {"outcome": "passed", "output": ""})
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["output"] += report.longreprtext
        elif report.skipped and report.when in ("setup", "call"):
            entry["outcome"] = "skipped"

out = os.path.join(os.environ["HOME"], config["out"])
if config.get("probe") is not None:  # a mutant the strategy refuses to build is not run
    try:
        from strategy import create_strategy
        create_strategy(config["probe"])
    except Exception as exc:
        with open(out, "w") as handle:
            json.dump({"exit": -1, "tests": {}, "lines": {},
                       "refused": f"{type(exc).__name__}: {exc}"[:1000]}, handle)
        sys.exit(0)

collector = Collector()
cov = None
if config["coverage"]:
    import coverage
    cov = coverage.Coverage(data_file=None, source=[os.path.abspath("strategy")])
    cov.start()
code = pytest.main([*config["paths"], "-q", "-p", "no:cacheprovider", "--rootdir", "."],
                   plugins=[collector])
lines = {}
if cov is not None:
    cov.stop()
    for path in config["coverage"]:
        if os.path.exists(path):
            _, statements, _, missing, _ = cov.analysis2(os.path.abspath(path))
            lines[path] = {"statements": sorted(statements), "missing": sorted(missing)}
with open(out, "w") as handle:
    json.dump({"exit": int(code), "tests": collector.tests, "lines": lines}, handle)
"""

PYTEST_INI = "[pytest]\nfilterwarnings =\n    error\n"


class TestOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    __test__ = False

    outcome: Literal["passed", "failed", "error", "skipped"]
    output: str = ""


class FileLines(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    statements: list[int]
    missing: list[int]


class SuiteRun(BaseModel):
    """One pytest run in the sandbox: each test's outcome by node id, and for the files
    asked about, their statements and the statements no test ran."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exit_code: int
    tests: dict[str, TestOutcome] = Field(default_factory=dict)
    lines: dict[str, FileLines] = Field(default_factory=dict)
    refused: str = Field(default="", description="with a probe: why the strategy could "
                                                 "not be built (then no test ran)")

    def failed(self) -> dict[str, TestOutcome]:
        return {k: v for k, v in self.tests.items() if v.outcome in ("failed", "error")}

    def counts(self) -> dict[str, int]:
        out = {"collected": len(self.tests), "passed": 0, "failed": 0, "errors": 0,
               "skipped": 0}
        for result in self.tests.values():
            key = {"error": "errors"}.get(result.outcome, result.outcome)
            out[key] += 1
        return out


def flaky_tests(first: SuiteRun, second: SuiteRun) -> list[str]:
    """Tests with different outcomes in two runs of the same commit."""
    return sorted(t for t, result in first.tests.items()
                  if t in second.tests and result.outcome != second.tests[t].outcome)


def qa_sandbox(base: Sandbox) -> Sandbox:
    """A sandbox like ``base`` (same backend and limits) that also holds pytest,
    hypothesis and coverage."""
    libraries = tuple(dict.fromkeys((*getattr(base, "libraries", ()), *QA_LIBRARIES)))
    return open_sandbox("process" if base.sandboxed else "none", limits=base.limits,
                        allow_unsandboxed=not base.sandboxed, libraries=libraries)


def run_suite(sandbox: Sandbox, checkout: Path, scratch: Path, *,
              paths: Sequence[str] = ("tests/generated",),
              coverage: Sequence[str] = (), probe: str | None = None) -> SuiteRun:
    """Run pytest on ``paths`` of ``checkout`` in ``sandbox``; with ``coverage`` (files
    of ``strategy/``), measure which of their statements ran; with ``probe`` (a
    profile), first build the strategy and run nothing if it refuses."""
    (checkout / "pytest.ini").write_text(PYTEST_INI)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    config = {"paths": list(paths), "coverage": list(coverage), "out": "suite.json",
              "probe": probe}
    argv = sandbox.python_command(checkout, code=_RUNNER, args=[json.dumps(config)])
    result = sandbox.run(argv, workdir=checkout, scratch=scratch)
    report = scratch / "suite.json"
    if not report.is_file():
        stopped = f"stopped by the sandbox's {result.limit} limit; " if result.limit else ""
        raise SandboxError(f"the test suite did not finish in the sandbox: {stopped}"
                           f"{redact(result.stderr[-OUTPUT_LIMIT:] or result.stdout[-400:])}")
    try:
        raw = json.loads(report.read_text())
        tests = {k: TestOutcome(outcome=v["outcome"],
                                output=redact(v["output"][-OUTPUT_LIMIT:]))
                 for k, v in raw["tests"].items()}
        return SuiteRun(exit_code=int(raw["exit"]), tests=tests,
                        lines={k: FileLines(**v) for k, v in raw["lines"].items()},
                        refused=" ".join(redact(str(raw.get("refused", "")),
                                                limit=1000).split())[:300])
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise SandboxError(f"the sandboxed test run wrote an unreadable report: {exc}") from None
