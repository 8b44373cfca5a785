"""One way for every command to refuse: a red line on stderr and a non-zero exit.

Messages are printed unwrapped (a long path stays on one line, so it can be copied
and searched for) and with rich markup escaped (a ``[`` in a path or a policy value
is shown as typed, never swallowed as a style tag).

Commands catch :class:`alphaloop.errors.Failure` (every failure's message says what to
do) and options that do not validate, so a user's mistake never shows a traceback. A
user's mistake (an option, the repository's state) exits with :data:`EXIT_USER_ERROR`,
as typer's own checks of options do; a failure while working exits with 1.
"""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

__all__ = ["EXIT_USER_ERROR", "fail", "invalid_options", "stderr"]

#: The exit code of a user's mistake, found before any work was done.
EXIT_USER_ERROR = 2


def stderr() -> Console:
    """The console for diagnostics: stderr, lines never folded."""
    return Console(stderr=True, soft_wrap=True)


def fail(command: str, message: str, code: int = 1) -> typer.Exit:
    """Print ``alphaloop COMMAND: MESSAGE`` on stderr; return the exit to raise."""
    stderr().print(f"[bold red]alphaloop {command}:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def invalid_options(error: ValidationError) -> str:
    """``invalid options: field: problem; ...`` for options that did not validate."""
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}"
                         for e in error.errors())
    return f"invalid options: {problems}"
