"""The command line starts light: ``alphaloop --help`` loads no pandas, scipy or
matplotlib.

The command modules import the library (and with it pandas, scipy, git, the HTTP
client and the charts) when a command runs; ``--help``, ``--version`` and every
command's ``--help`` only build the typer app. Each check runs in a fresh interpreter,
since this test process has long imported everything. One walks every command and group
of the app, so a new command is covered the day it is added. Nothing here is timed:
``python -m benchmarks.bench_startup`` measures the start-up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer.main

from alphaloop.cli import app

ROOT = Path(__file__).resolve().parents[2]

#: Libraries the command line must not import to start (numpy still comes with the
#: strategy contract, whose constants the help shows).
HEAVY = ("pandas", "scipy", "matplotlib")

_LOADED = f"sorted(m for m in {HEAVY!r} if m in sys.modules)"

_EVERY_HELP = f"""
import contextlib, io, sys
import typer.main
from alphaloop.cli import app

def paths(command, prefix):
    yield prefix
    for name, sub in getattr(command, "commands", {{}}).items():  # a group's commands
        yield from paths(sub, [*prefix, name])

shown = 0
for path in [*paths(typer.main.get_command(app), []), ["--version"]]:
    args = path if path == ["--version"] else [*path, "--help"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        app(args, prog_name="alphaloop")
    shown += 1
print(shown, {_LOADED})
"""


def _python(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_cli_imports_no_heavy_library() -> None:
    loaded = _python("-c", f"import alphaloop.cli, sys; print({_LOADED})")
    assert loaded.strip() == "[]"


def test_no_help_screen_imports_a_heavy_library() -> None:
    shown, loaded = _python("-c", _EVERY_HELP).strip().splitlines()[-1].split(" ", 1)
    assert int(shown) >= 11  # the app, its groups and their commands, and --version
    assert loaded == "[]"


def test_help_lists_every_command() -> None:
    commands = getattr(typer.main.get_command(app), "commands", {})  # the groups and commands
    assert {"audit", "backtest", "check", "cycle", "data", "ledger", "pr"} <= set(commands)
    shown = _python("-m", "alphaloop", "--help")
    for command in commands:
        assert f" {command} " in shown, command


def test_version_prints_the_version() -> None:
    assert _python("-m", "alphaloop", "--version").startswith("alphaloop ")
