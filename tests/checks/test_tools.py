"""ruff and bandit run as real subprocesses; failures to run are never a pass."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from alphaloop.checks import run_bandit, run_ruff

RUFF_CONFIG = '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nselect = ["E", "F"]\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(RUFF_CONFIG)
    (tmp_path / "pkg").mkdir()
    return tmp_path


def put(root: Path, name: str, text: str) -> str:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return name


def test_ruff_reports_each_violation_as_a_warning(project: Path) -> None:
    name = put(project, "pkg/a.py", "import os\n\nx = undefined_name\n")
    findings = run_ruff([name], root=project)
    assert sorted((f.evidence["rule"], f.line, int(f.severity)) for f in findings) == [
        ("F401", 1, 1), ("F821", 3, 1)]
    assert all(f.path == "pkg/a.py" and f.check == "ruff" for f in findings)


def test_ruff_clean_file_and_no_files(project: Path) -> None:
    name = put(project, "pkg/ok.py", "VALUE = 1\n")
    assert run_ruff([name], root=project) == []
    assert run_ruff([], root=project) == []


def test_ruff_uses_the_root_config_not_one_a_change_adds(project: Path) -> None:
    put(project, "pkg/ruff.toml", "[lint]\nselect = []\n")
    name = put(project, "pkg/a.py", "import os\n")
    assert [f.evidence["rule"] for f in run_ruff([name], root=project)] == ["F401"]


def test_ruff_syntax_error_blocks(project: Path) -> None:
    name = put(project, "pkg/bad.py", "def broken(:\n")
    findings = run_ruff([name], root=project)
    assert findings and all(f.severity == 3 for f in findings)


@pytest.mark.parametrize("command", [
    ["/nonexistent/ruff"],
    [sys.executable, "-c", "import sys; sys.exit(2)"],
    [sys.executable, "-c", "print('not json')"],
    [sys.executable, "-c", "print('{\"a\": 1}')"],
    [sys.executable, "-c", "import time; time.sleep(5)"],
])
def test_ruff_that_cannot_run_is_could_not_verify(project: Path, command: list[str]) -> None:
    name = put(project, "pkg/a.py", "VALUE = 1\n")
    [finding] = run_ruff([name], root=project, command=command, timeout=1.0)
    assert (finding.check, int(finding.severity)) == ("ruff", 3)
    assert finding.evidence["rule"] == "could-not-verify"
    assert finding.message.startswith("could not verify the change with ruff")


def test_bandit_grades_by_severity_and_ignores_nosec(project: Path) -> None:
    name = put(project, "pkg/risky.py", """\
        import pickle
        import subprocess


        def run(command: str) -> None:
            subprocess.call(command, shell=True)  # nosec


        def load(blob: bytes) -> object:
            return pickle.loads(blob)
        """)
    findings = run_bandit([name], root=project)
    graded = {(f.evidence["rule"], f.line): int(f.severity) for f in findings}
    assert graded[("B602", 6)] == 3  # shell=True with a variable: HIGH
    assert graded[("B301", 10)] == 2  # pickle.loads: MEDIUM
    assert graded[("B404", 2)] == 1  # import subprocess: LOW
    assert all(f.path == "pkg/risky.py" for f in findings)
    [shell] = [f for f in findings if f.evidence["rule"] == "B602"]
    assert "subprocess.call(command, shell=True)" in shell.evidence["snippet"]


def test_bandit_skip_and_clean_files(project: Path) -> None:
    name = put(project, "tests/test_x.py", "def test_x() -> None:\n    assert 1 + 1 == 2\n")
    assert [f.evidence["rule"] for f in run_bandit([name], root=project)] == ["B101"]
    assert run_bandit([name], root=project, skip=("B101",)) == []


def test_bandit_unparsable_file_blocks(project: Path) -> None:
    name = put(project, "pkg/bad.py", "def broken(:\n")
    [finding] = run_bandit([name], root=project)
    assert (int(finding.severity), finding.path) == (3, "pkg/bad.py")
    assert "could not scan" in finding.message


def test_bandit_that_cannot_run_is_could_not_verify(project: Path) -> None:
    name = put(project, "pkg/a.py", "VALUE = 1\n")
    for command in (["/nonexistent/bandit"],
                    [sys.executable, "-c", "import sys; sys.exit(2)"],
                    [sys.executable, "-c", "print('{\"results\": []}')"]):
        [finding] = run_bandit([name], root=project, command=command)
        assert (finding.check, int(finding.severity)) == ("bandit", 3), command
        assert finding.evidence["rule"] == "could-not-verify"


def test_bandit_reports_a_file_it_did_not_scan(project: Path) -> None:
    name = put(project, "pkg/a.py", "VALUE = 1\n")
    fake = [sys.executable, "-c",
            "import json; print(json.dumps({'results': [], 'errors': [], 'metrics': {}}))"]
    [finding] = run_bandit([name], root=project, command=fake)
    assert "did not scan pkg/a.py" in finding.message
