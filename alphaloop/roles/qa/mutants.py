"""Mutants of a change: the change made wrong on purpose, to see which tests notice.

For each tunable the change moves: its value reverted to main's, pushed out of its
declared range (past the end it moved towards, by the range's width), and its sign
flipped. For a code change: every changed strategy file reverted to main's, and the
first number on each of a few added lines with its sign flipped. Each mutant is the set
of files to write over a copy of the head's checkout.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from alphaloop.evaluation.tunables import TUNABLES_PATH, apply_edits
from alphaloop.records import ParamEdit, QAMutant
from alphaloop.repo import GitRepo, RefNotFound
from alphaloop.roles.qa.change import ChangeUnderTest, TunableChange

__all__ = ["MAX_LINE_MUTANTS", "Mutation", "mutants_of"]

#: Added lines of a code change that get a sign-flip mutant, at most.
MAX_LINE_MUTANTS = 3

_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+|\d+)(?![\w.])")


class Mutation(BaseModel):
    """A mutant and the files (path -> text, None: deleted) that make it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mutant: QAMutant
    files: dict[str, str | None]


def _out_of_range(moved: TunableChange) -> float | int | str | None:
    if moved.choices:
        return "not-a-declared-choice"
    if moved.low is None or moved.high is None or isinstance(moved.new, str):
        return None
    width = max(moved.high - moved.low, abs(moved.high), 1e-3)
    up = not isinstance(moved.old, str) and float(moved.new) >= float(moved.old)
    value = moved.high + width if up else moved.low - width
    return round(value) if moved.kind == "int" else value


def _tunable_mutants(moved: TunableChange, source: str) -> list[Mutation]:
    candidates: list[tuple[str, float | int | str | None, str]] = [
        ("reverted", moved.old, f"{moved.name} back to main's {moved.old!r}"),
        ("out_of_range", _out_of_range(moved), f"{moved.name} outside its declared range"),
    ]
    if isinstance(moved.new, int | float) and moved.new != 0:
        candidates.append(("sign_flipped", -moved.new, f"{moved.name} with its sign flipped"))
    out = []
    for kind, value, text in candidates:
        if value is None or value == moved.new:
            continue
        edited = apply_edits(source, [ParamEdit(name=moved.name, old=moved.new, new=value)])
        out.append(Mutation(
            mutant=QAMutant(id=f"{moved.name.lower()}-{kind.replace('_', '-')}", kind=kind,
                            description=f"{text} ({value!r})", path=TUNABLES_PATH),
            files={TUNABLES_PATH: edited}))
    return out


def _text(repo: GitRepo, sha: str, path: str) -> str | None:
    try:
        return repo.read_file(sha, path).decode()
    except RefNotFound:
        return None


def _code_mutants(repo: GitRepo, change: ChangeUnderTest) -> list[Mutation]:
    files = change.code_files
    if not files:
        return []
    out = [Mutation(
        mutant=QAMutant(id="code-reverted", kind="reverted", path=", ".join(files),
                        description="the changed strategy code back to main's"),
        files={path: _text(repo, change.base_sha, path) for path in files})]
    for path in files:
        source = _text(repo, change.head_sha, path) or ""
        lines = source.splitlines(keepends=True)
        for number in change.added_lines[path]:
            if len(out) > MAX_LINE_MUTANTS or number > len(lines):
                break
            line = lines[number - 1]
            code = line.split("#", 1)[0]
            match = next((m for m in _NUMBER.finditer(code) if float(m.group(1)) != 0), None)
            if match is None:
                continue
            flipped = line[:match.start()] + f"(-{match.group(1)})" + line[match.end():]
            out.append(Mutation(
                mutant=QAMutant(id=f"line-{path.rsplit('/', 1)[-1]}-{number}-sign-flipped",
                                kind="sign_flipped", path=path,
                                description=f"{path}:{number}: {match.group(1)} made "
                                            f"-{match.group(1)}"),
                files={path: "".join([*lines[:number - 1], flipped, *lines[number:]])}))
    return out


def mutants_of(repo: GitRepo, change: ChangeUnderTest) -> list[Mutation]:
    """Every mutant of ``change`` (none when it changes no strategy file)."""
    out: list[Mutation] = []
    if change.tunables:
        source = _text(repo, change.head_sha, TUNABLES_PATH) or ""
        for moved in change.tunables:
            out += _tunable_mutants(moved, source)
    return out + _code_mutants(repo, change)
