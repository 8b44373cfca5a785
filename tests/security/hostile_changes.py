"""Hostile strategy changes as patches a hypothesis carries, and the switch that turns
the static layers (AST policy, ruff, bandit) off so the code reaches the sandbox."""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path

import pytest
from support.cycle_repos import engine_patch

from alphaloop.checks.findings import CheckReport

STATIC_CHECKS = ("ast", "ruff", "bandit")
ANCHOR = "        prices = view.prices\n"


def static_layer_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Risk's deterministic gate keeps its path, file-type and git-metadata checks but
    drops every finding of the static code checks: the change's code goes straight into
    the sandbox, as if the AST policy had been walked around."""
    import alphaloop.roles.risk.review as review

    real = review.check_change

    def without_static(*args: object, **kwargs: object) -> CheckReport:
        report = real(*args, **kwargs)
        kept = tuple(f for f in report.findings if not f.check.startswith(STATIC_CHECKS))
        return report.model_copy(update={"findings": kept})

    monkeypatch.setattr(review, "check_change", without_static)


def new_file(path: str, text: str) -> str:
    """A unified diff adding ``path`` with ``text``."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines(keepends=True)
    return "".join(difflib.unified_diff([], lines, "/dev/null", f"b/{path}"))


def hook_patch(repo: Path, module: str, source: str) -> str:
    """A patch adding ``strategy/<module>.py`` and calling its ``hook(view)`` first thing
    in the engine's ``decide`` (its return value, if not None, replaces the decision)."""
    call = (f"        from strategy.{module} import hook\n"
            "        hooked = hook(view)\n"
            "        if hooked is not None:\n"
            "            return hooked\n")
    return (engine_patch(repo, {ANCHOR: call + ANCHOR})
            + new_file(f"strategy/{module}.py", source))
