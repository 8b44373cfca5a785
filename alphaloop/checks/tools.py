"""Runners for the external linters: ruff (style and bugs) and bandit (security).

Both run as subprocesses with argument lists and JSON output, parsed into findings.
ruff findings warn (severity 1) except syntax errors (3); bandit grades HIGH 3,
MEDIUM 2, LOW 1. A tool that is missing, crashes, times out or prints something that is
not its JSON report yields a severity-3 "could not verify" finding: never a pass.
"""

from __future__ import annotations

import json
import subprocess  # nosec B404 - linters run with argument lists, never a shell
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alphaloop.checks.findings import Finding, Severity
from alphaloop.errors import Failure

__all__ = ["BANDIT_SEVERITY", "DEFAULT_TIMEOUT", "ToolFailure", "ruff_config_args", "run_bandit",
           "run_ruff"]

DEFAULT_TIMEOUT = 120.0
BANDIT_SEVERITY = {"HIGH": Severity.BLOCK, "MEDIUM": Severity.RESTRICT, "LOW": Severity.WARN}
_RUFF_SYNTAX = {"invalid-syntax", "syntax-error", "E999"}


class ToolFailure(Failure):
    """A linter could not give a verdict; becomes a severity-3 finding."""


def _could_not_verify(tool: str, detail: str, files: Sequence[str]) -> Finding:
    return Finding(
        check=tool, severity=Severity.BLOCK,
        message=(f"could not verify the change with {tool}: {detail}; install or repair "
                 f"{tool} (pip install {tool}) and run the review again"),
        evidence={"rule": "could-not-verify", "files": list(files)})


def _run(tool: str, argv: Sequence[str], cwd: Path, timeout: float,
         ok: Sequence[int]) -> Any:
    try:
        done = subprocess.run(  # nosec B603 - fixed argument list, no shell
            list(argv), cwd=cwd, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ToolFailure(f"{argv[0]} was not found") from None
    except PermissionError:
        raise ToolFailure(f"{argv[0]} cannot be executed (permission denied)") from None
    except subprocess.TimeoutExpired:
        raise ToolFailure(f"it did not finish within {timeout:g} s") from None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode not in ok:
        tail = stderr.splitlines()[-1] if stderr else "no message"
        raise ToolFailure(f"it exited with status {done.returncode} ({tail})")
    try:
        return json.loads(done.stdout)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ToolFailure(f"its output is not a JSON report ({stderr[:200] or 'empty'})"
                          ) from None


def _relative(filename: str, root: Path) -> str:
    path = Path(filename)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")


def ruff_config_args(root: Path) -> list[str]:
    """Pin ruff to the repository's root configuration.

    With ``--config`` ruff ignores any ``ruff.toml`` a change might add in a
    subfolder; a repository without one runs with ruff's defaults (``--isolated``).
    """
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            if "ruff" in tomllib.loads(pyproject.read_text("utf-8")).get("tool", {}):
                return ["--config", str(pyproject)]
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            pass
    for name in ("ruff.toml", ".ruff.toml"):
        if (root / name).is_file():
            return ["--config", str(root / name)]
    return ["--isolated"]


def run_ruff(files: Sequence[str], *, root: Path, command: Sequence[str] | None = None,
             timeout: float = DEFAULT_TIMEOUT, options: Sequence[str] = ()) -> list[Finding]:
    """Lint ``files`` (paths relative to ``root``) with ruff; one finding per violation.

    ``options`` are further ``ruff check`` options laid over the repository's
    configuration (e.g. ``--extend-select C901``).
    """
    if not files:
        return []
    argv = [*(command or (sys.executable, "-m", "ruff")), "check", "--output-format", "json",
            "--no-cache", "--no-fix", "--force-exclude", *ruff_config_args(root), *options,
            "--", *files]
    try:
        report = _run("ruff", argv, root, timeout, ok=(0, 1))
        if not isinstance(report, list):
            raise ToolFailure("its JSON report is not a list of violations")
        findings = [_ruff_finding(item, root) for item in report]
    except (ToolFailure, KeyError, TypeError, ValueError) as exc:
        return [_could_not_verify("ruff", str(exc), files)]
    return findings


def _ruff_finding(item: dict[str, Any], root: Path) -> Finding:
    code = item.get("code") or "invalid-syntax"
    syntax = code in _RUFF_SYNTAX or item.get("name") in _RUFF_SYNTAX
    location = item.get("location") or {}
    return Finding(
        check="ruff", severity=Severity.BLOCK if syntax else Severity.WARN,
        message=(f"{code}: {item['message']}" + (" (the file does not parse)" if syntax else "")),
        path=_relative(item["filename"], root), line=location.get("row") or None,
        evidence={"rule": code, "column": location.get("column"), "url": item.get("url")})


def run_bandit(files: Sequence[str], *, root: Path, skip: Sequence[str] = (),
               command: Sequence[str] | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> list[Finding]:
    """Scan ``files`` (relative to ``root``) with bandit; ``# nosec`` comments are ignored.

    ``skip`` lists bandit test ids not to run (e.g. ``B101`` for tests using ``assert``).
    """
    if not files:
        return []
    argv = [*(command or (sys.executable, "-m", "bandit")), "-f", "json", "-q",
            "--ignore-nosec"]
    if skip:
        argv += ["-s", ",".join(skip)]
    argv += ["--", *files]
    try:
        report = _run("bandit", argv, root, timeout, ok=(0, 1))
        findings = [_bandit_finding(item, root) for item in report["results"]]
        for error in report["errors"]:
            findings.append(Finding(
                check="bandit", severity=Severity.BLOCK,
                path=_relative(error["filename"], root),
                message=f"bandit could not scan this file ({error['reason']}); fix the file",
                evidence={"rule": "could-not-verify"}))
        scanned = {_relative(name, root) for name in report["metrics"] if name != "_totals"}
        errored = {f.path for f in findings if f.evidence.get("rule") == "could-not-verify"}
        for name in files:
            clean = Path(name).as_posix().removeprefix("./")
            if clean not in scanned and clean not in errored:
                findings.append(_could_not_verify("bandit", f"it did not scan {clean}", [clean]))
    except (ToolFailure, KeyError, TypeError, ValueError) as exc:
        return [_could_not_verify("bandit", str(exc), files)]
    return findings


def _bandit_finding(item: dict[str, Any], root: Path) -> Finding:
    level = str(item["issue_severity"]).upper()
    return Finding(
        check="bandit", severity=BANDIT_SEVERITY.get(level, Severity.WARN),
        message=f"{item['test_id']} ({level.lower()} severity): {item['issue_text']}",
        path=_relative(item["filename"], root), line=item.get("line_number") or None,
        evidence={"rule": item["test_id"], "confidence": item.get("issue_confidence"),
                  "snippet": str(item.get("code", "")).strip()[:400],
                  "url": item.get("more_info")})
