"""The change QA tests: the tunables it moves and the strategy lines it adds.

Read from git between the pull request's base and head: the ``NAME = literal`` values of
``strategy/tunables.py`` on both sides (with each moved tunable's declared space on the
base, read through the sandbox), and the added line numbers of every changed strategy
file, for the coverage of the changed lines.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.evaluation import Evaluator
from alphaloop.evaluation.tunables import TUNABLES_PATH, read_tunables
from alphaloop.repo import GitRepo, RefNotFound

__all__ = ["ChangeUnderTest", "TunableChange", "read_change"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")


class TunableChange(BaseModel):
    """One tunable the change moves, with the space ``strategy/parameters.py`` declares
    for it on the base (``low``/``high`` for numbers, ``choices`` for a choice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    old: float | int | str
    new: float | int | str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def text(self) -> str:
        return f"{self.name} {self.old!r} -> {self.new!r}"


class ChangeUnderTest(BaseModel):
    """What QA writes tests for and mutates: ``base_sha..head_sha``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_sha: str
    head_sha: str
    tunables: list[TunableChange] = Field(default_factory=list)
    added_lines: dict[str, list[int]] = Field(
        default_factory=dict, description="changed strategy file -> line numbers the "
                                          "change adds (in the head's file)")

    @property
    def code_files(self) -> list[str]:
        """Changed strategy files other than the tunables file."""
        return [p for p in self.added_lines if p != TUNABLES_PATH]

    def text(self) -> str:
        parts = [t.text() for t in self.tunables]
        if self.code_files:
            parts.append("code in " + ", ".join(self.code_files))
        return "; ".join(parts) or "no strategy change"


def _added_lines(repo: GitRepo, base: str, head: str) -> dict[str, list[int]]:
    diff = repo.git("diff", "--unified=0", "--no-color", "--no-renames", base, head,
                    "--", "strategy").text
    out: dict[str, list[int]] = {}
    path: str | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
            if path is not None and path.endswith(".py"):
                out.setdefault(path, [])
            else:
                path = None
        elif path is not None and (match := _HUNK.match(line)):
            start, count = int(match["start"]), int(match["count"] or 1)
            out[path].extend(range(start, start + count))
    return {p: lines for p, lines in out.items() if lines}


def _tunables_at(repo: GitRepo, sha: str) -> dict[str, float | int | str]:
    try:
        return read_tunables(repo.read_file(sha, TUNABLES_PATH))
    except RefNotFound:  # no tunables file at that commit
        return {}


def read_change(repo: GitRepo, evaluator: Evaluator, base: str, head: str) -> ChangeUnderTest:
    """The change ``base..head``: moved tunables (with their declared space on ``base``)
    and the added lines of changed strategy files."""
    before, after = _tunables_at(repo, base), _tunables_at(repo, head)
    moved = [name for name in after if name in before and before[name] != after[name]]
    specs = evaluator.param_space(base).specs if moved else {}
    tunables = []
    for name in moved:
        spec = specs.get(name)
        extra = ({} if spec is None else
                 {"kind": spec.kind, "low": spec.low, "high": spec.high,
                  "choices": spec.choices})
        tunables.append(TunableChange(name=name, old=before[name], new=after[name], **extra))
    return ChangeUnderTest(base_sha=base, head_sha=head, tunables=tunables,
                           added_lines=_added_lines(repo, base, head))
