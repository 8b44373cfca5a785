"""Run one git command through GitPython: an argument list, never a shell string."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from alphaloop.repo.errors import CommandFailed

__all__ = ["GitOutput", "run_git"]

# Never prompt for credentials, never take optional locks (a `git status` of ours must
# not block the user's own git commands), messages in plain English for parsing.
_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
}


#: Fault injection for the crash tests: with this variable set to N, the process kills
#: itself with SIGKILL right after its Nth git command finished, before the caller sees
#: the result. Unset (always, outside those tests), the hook does nothing.
FAULT_KILL_AT = "ALPHALOOP_FAULT_KILL_AT_GIT_CALL"
_fault_calls = [0]  # git commands run by this process while the variable is set


def _fault_point() -> None:
    target = os.environ.get(FAULT_KILL_AT)
    if not target:
        return
    _fault_calls[0] += 1
    if _fault_calls[0] == int(target):
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class GitOutput:
    """What a finished git command returned."""

    status: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        """Stdout decoded as UTF-8, without the trailing newline."""
        return self.stdout.decode("utf-8", errors="surrogateescape").rstrip("\n")

    def lines(self) -> list[str]:
        """Stdout split into non-empty lines."""
        return [line for line in self.text.splitlines() if line]

    def nul_fields(self) -> list[str]:
        """Stdout split on NUL bytes (for ``-z`` output), the trailing empty field dropped."""
        fields = self.stdout.decode("utf-8", errors="surrogateescape").split("\0")
        if fields and fields[-1] == "":
            fields.pop()
        return fields


def run_git(args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
            input: bytes | None = None, ok: Sequence[int] = (0,)) -> GitOutput:
    """Run ``git ARGS`` in ``cwd`` and return its output.

    ``env`` adds to the inherited environment; ``input`` is fed on stdin. A status not in
    ``ok`` raises :class:`CommandFailed` carrying git's own message.
    """
    command = [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", *args]
    full_env = {**_BASE_ENV, **(env or {})}
    runner = git.Git(str(cwd))
    if input is None:
        result = runner.execute(
            command, with_extended_output=True, with_exceptions=False,
            stdout_as_string=False, strip_newline_in_stdout=False, env=full_env, shell=False,
        )
    else:
        with tempfile.TemporaryFile() as stdin:
            stdin.write(input)
            stdin.seek(0)
            result = runner.execute(
                command, istream=stdin, with_extended_output=True, with_exceptions=False,
                stdout_as_string=False, strip_newline_in_stdout=False, env=full_env,
                shell=False,
            )
    _fault_point()
    status, stdout, stderr = result
    out = GitOutput(status=int(status), stdout=bytes(stdout or b""), stderr=str(stderr or ""))
    if out.status not in ok:
        raise CommandFailed(args, out.status, out.stderr)
    return out
