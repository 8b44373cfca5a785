"""The command line starts without matplotlib: no chart is drawn by ``--help``.

Each check runs in a fresh interpreter, since this test process has long imported
everything. The second walks every command and group of the typer app, so a new
command is covered the day it is added.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_EVERY_HELP = """
import contextlib, io, sys
import typer.main
from alphaloop.cli import app

def paths(command, prefix):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():  # a group's commands
        yield from paths(sub, [*prefix, name])

shown = 0
for path in paths(typer.main.get_command(app), []):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        app([*path, "--help"], prog_name="alphaloop")
    shown += 1
print(shown, "matplotlib" in sys.modules)
"""


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_cli_does_not_import_matplotlib() -> None:
    assert _python("import alphaloop.cli, sys; print('matplotlib' in sys.modules)") == "False"


def test_no_help_screen_imports_matplotlib() -> None:
    shown, loaded = _python(_EVERY_HELP).split()
    assert int(shown) >= 10  # the app, its groups and their commands
    assert loaded == "False"
