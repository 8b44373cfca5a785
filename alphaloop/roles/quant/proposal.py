"""The Quant's hypothesis from a model: parameter edits or search/replace code edits.

With a model, :func:`propose` asks the Quant's charter ``hypothesize`` prompt (the
task, the review of ``main``, the tunables, the trials so far, the reward and the
strategy files it may change) for a :class:`ProposedChange`, and checks it before any of
it touches git:

- parameter edits name declared tunables, stay inside their ranges or choices and move
  them;
- code edits touch only files the Quant may write (``policies/paths.toml``); each
  search text appears exactly once in its file; the edits become one unified diff that
  ``git apply --check`` accepts on ``main``'s strategy, and that the strategy's AST
  policy (imports, no I/O, declared limits) does not block;
- the change was not tried before.

A change that fails a check is sent back with what was wrong (the apply error
included), at most ``attempts`` times; then the stage fails with
:class:`~alphaloop.llm.InvalidAnswer` naming each problem. The branch, the commit and
the pull request are the Quant's usual ones (:mod:`.implement`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alphaloop.checks import Severity, check_strategy_source, is_strategy_file
from alphaloop.evaluation.space import ParamSpace
from alphaloop.llm import InvalidAnswer
from alphaloop.policy import Policies
from alphaloop.records import Hypothesis, ParamEdit, PerformanceReview, TaskRef, Trial
from alphaloop.roles.base import RoleModel
from alphaloop.roles.quant.hypothesize import slugify
from alphaloop.roles.quant.search import change_key

__all__ = ["CodeEdit", "ProposedChange", "ProposedEdit", "propose"]

_FILES_CHARS = 40_000


class ProposedEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="a tunable's name, as listed")
    new: float | int | str = Field(description="its new value")


class CodeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="repository-relative file, e.g. strategy/engine.py")
    search: str = Field(min_length=1, description="text that appears exactly once")
    replace: str = Field(description="what replaces it")


class ProposedChange(BaseModel):
    """One hypothesis and the change that tests it: parameter edits or code edits."""

    model_config = ConfigDict(extra="forbid")

    statement: str = Field(min_length=1, max_length=300)
    rationale: str = Field(min_length=1, max_length=3000)
    expected_effect: str = Field(min_length=1, max_length=1000)
    edits: list[ProposedEdit] = Field(default_factory=list, max_length=10)
    code: list[CodeEdit] = Field(default_factory=list, max_length=8)

    @model_validator(mode="after")
    def _one_kind(self) -> ProposedChange:
        if bool(self.edits) == bool(self.code):
            raise ValueError("give parameter edits or code edits: exactly one of the two")
        return self


class _Refused(InvalidAnswer):
    """A proposal that fails a check; the message goes back to the model (and, when no
    answer passes, into the stage's failure)."""


def propose(model: RoleModel, *, policies: Policies, space: ParamSpace,
            review: PerformanceReview, task: TaskRef | None, trials: Sequence[Trial],
            tried: set[str], lam: float, sources: Mapping[str, str], base_root: Path,
            pruned: Collection[str] = (), attempts: int = 3) -> Hypothesis:
    """The model's next change, checked (see the module docstring)."""
    writable = {p: t for p, t in sorted(sources.items())
                if policies.paths.may_write("quant", p)}
    values = {
        "task": (json.dumps(task.model_dump(mode="json"), indent=1) if task
                 else "no task: improve the reward"),
        "review": json.dumps(review.model_dump(
            mode="json", include={"metrics", "reward", "attribution", "diagnosis", "focus",
                                  "folds"}), indent=1)[:12_000],
        "parameter_space": _space_lines(space, pruned),
        "history": json.dumps([{"key": t.key, "reward": round(t.reward, 4),
                                "changed": {k: v for k, v in t.values.items()
                                            if space.values.get(k) != v}}
                               for t in trials[-20:]], indent=1),
        "reward_rule": (f"Sharpe - {lam:g} * max drawdown, the mean over the in-sample "
                        f"walk-forward folds; main scores {review.reward:.4f}"),
        "files": _files(writable),
    }
    problems: list[str] = []
    for _ in range(attempts):
        answer = model.ask("quant", "hypothesize", ProposedChange,
                           feedback="\n".join(f"- {p}" for p in problems[-1:]), **values)
        try:
            hypothesis = _hypothesis(answer, space, policies, writable, base_root, task)
        except _Refused as exc:
            problems.append(str(exc))
            continue
        if hypothesis.key in tried:
            problems.append(f"this change (key {hypothesis.key}) was tried before; propose "
                            "another")
            continue
        return hypothesis
    raise InvalidAnswer(f"the Quant's model proposed no usable change in {attempts} answers: "
                        + " | ".join(problems), problems)


def _space_lines(space: ParamSpace, pruned: Collection[str]) -> str:
    lines = []
    for name, spec in space.specs.items():
        if name in pruned:
            continue
        bounds = (f"one of {list(spec.choices)}" if spec.kind == "choice"
                  else f"{spec.kind} in [{spec.low:g}, {spec.high:g}]"
                  if spec.low is not None and spec.high is not None else spec.kind)
        lines.append(f"- {name}: {bounds}; now {space.values.get(name)!r}"
                     + (f" ({spec.description})" if spec.description else ""))
    return "\n".join(lines) or "none"


def _files(writable: Mapping[str, str]) -> str:
    parts, size = [], 0
    for path, text in writable.items():
        block = f"### {path}\n{text}"
        if size + len(block) > _FILES_CHARS:
            parts.append(f"### {path}\n[not shown: the listing is limited to "
                         f"{_FILES_CHARS} characters]")
            continue
        parts.append(block)
        size += len(block)
    return "\n\n".join(parts) or "none"


def _hypothesis(answer: ProposedChange, space: ParamSpace, policies: Policies,
                writable: Mapping[str, str], base_root: Path,
                task: TaskRef | None) -> Hypothesis:
    common = {"statement": answer.statement, "rationale": answer.rationale,
              "expected_effect": answer.expected_effect,
              "task_id": task.id if task else None}
    if answer.edits:
        edits = [_edit(e, space) for e in answer.edits]
        return Hypothesis(key=change_key(edits), kind="parameters",
                          slug=slugify("-".join(e.name for e in edits)), edits=edits,
                          **common)
    patch = _patch(answer.code, policies, writable, base_root)
    name = f"model-{hashlib.sha256(patch.encode()).hexdigest()[:12]}"
    return Hypothesis(key=change_key(patch_name=name), kind="patch",
                      slug=slugify(answer.statement), patch_name=name, patch=patch, **common)


def _edit(edit: ProposedEdit, space: ParamSpace) -> ParamEdit:
    spec = space.specs.get(edit.name)
    if spec is None:
        raise _Refused(f"unknown tunable {edit.name!r}; the tunables are "
                       f"{', '.join(space.specs)}")
    old = space.values[edit.name]
    if spec.kind == "choice":
        new: float | int | str = str(edit.new)
        if new not in spec.choices:
            raise _Refused(f"{edit.name} = {new!r} is not one of {list(spec.choices)}")
    else:
        try:
            number = float(edit.new)
        except (TypeError, ValueError):
            raise _Refused(f"{edit.name} takes a number, not {edit.new!r}") from None
        if spec.kind == "int" and number != int(number):
            raise _Refused(f"{edit.name} takes a whole number, not {edit.new!r}")
        new = int(number) if spec.kind == "int" else number
        if spec.low is not None and spec.high is not None and not (
                spec.low <= number <= spec.high):
            raise _Refused(f"{edit.name} = {edit.new!r} is outside its range "
                           f"[{spec.low:g}, {spec.high:g}]")
    if new == old:
        raise _Refused(f"{edit.name} is already {old!r}; an edit must move it")
    return ParamEdit(name=edit.name, old=old, new=new)


def _patch(code: Sequence[CodeEdit], policies: Policies, writable: Mapping[str, str],
           base_root: Path) -> str:
    """The edits as one unified diff against ``main``, checked with ``git apply``."""
    after: dict[str, str] = {}
    for edit in code:
        path = edit.path.strip().removeprefix("./")
        if not policies.paths.may_write("quant", path):
            rules = policies.paths.role("quant")
            raise _Refused(f"{path} is outside the paths the Quant may write "
                           f"(policies/paths.toml: allow {list(rules.allow)}, deny "
                           f"{list(rules.deny)})")
        if path not in writable:
            raise _Refused(f"{path} is not one of the strategy files shown; edit one of "
                           f"{', '.join(writable)}")
        text = after.get(path, writable[path])
        count = text.count(edit.search)
        if count != 1:
            raise _Refused(f"the search text of an edit of {path} appears {count} times; "
                           "it must appear exactly once: quote more of the line around it"
                           if count else f"the search text of an edit of {path} is not in "
                           "the file: copy it exactly from the listing")
        after[path] = text.replace(edit.search, edit.replace, 1)
    patch = "".join(
        "".join(difflib.unified_diff(writable[p].splitlines(keepends=True),
                                     after[p].splitlines(keepends=True), f"a/{p}", f"b/{p}"))
        for p in sorted(after) if after[p] != writable[p])
    if not patch:
        raise _Refused("the edits change nothing")
    blocked = [f for path, text in sorted(after.items()) if is_strategy_file(path, policies)
               for f in check_strategy_source(text, path, policies)
               if f.severity >= Severity.BLOCK]
    if blocked:  # Risk would block it unread: say why now, before anything is committed
        raise _Refused("the strategy policy blocks the change: " + "; ".join(
            f"{f.location()}: {f.message}" for f in blocked[:5]))
    done = subprocess.run(["git", "apply", "--check", "-"], cwd=base_root,
                          input=patch.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise _Refused(f"git apply refused the change: {done.stderr.decode().strip()[:500]}")
    return patch
