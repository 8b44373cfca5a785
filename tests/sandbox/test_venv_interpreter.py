"""The sandbox runs under an interpreter of a virtual environment kept in /tmp."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

PROBE = """
import sys, tempfile
from pathlib import Path
from alphaloop.sandbox import Limits, open_sandbox
box = open_sandbox(limits=Limits(wall_seconds=60))
work = Path(tempfile.mkdtemp()); scratch = work / "scratch"; scratch.mkdir()
result = box.run([sys.executable, "-c", "print(6 * 7)"], workdir=work, scratch=scratch)
print(sys.executable, result.ok, result.stdout.strip(), result.stderr.strip()[:300])
"""


def test_interpreter_of_a_venv_under_tmp_is_visible_inside(tmp_path: Path) -> None:
    assert str(tmp_path).startswith("/tmp/")  # the case: the sandbox's /tmp is empty
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    done = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)}, check=False)
    assert done.returncode == 0, done.stderr
    executable, ok, output, *_ = [*done.stdout.split(maxsplit=3), ""]
    assert executable == str(python) and executable != sys.executable
    assert (ok, output) == ("True", "42"), done.stdout
