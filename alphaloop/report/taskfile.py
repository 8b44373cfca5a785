"""The backlog, ``task.md``: a strict reader and surgical edits that keep every human byte.

The format is documented for its human editors in ``docs/task-format.md``. In short::

    ## T-001: Cut drawdown below the 15% trigger
    - priority: high
    - status: todo
    - goal: max_drawdown < 15%
    - notes: the 2022 rate shock is the worst stretch

    Any text below the list is kept verbatim.

Only level-2 headings (``##``) start tasks; the list right under a heading holds its
fields; text, fenced code and HTML comments elsewhere are the human's and are never
touched. :func:`parse_task_file` reports *every* problem with its line number and what to
write instead. :func:`set_status` and :func:`add_escalation` change one line, or insert
one, and leave the rest of the file byte for byte as it was.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.errors import Failure
from alphaloop.policy import SearchSteering
from alphaloop.records import TaskRef
from alphaloop.report.goals import Goal, GoalError, goal_met, parse_goal
from alphaloop.report.task_search import SEARCH_FIELDS, parse_search_fields

__all__ = [
    "FIELDS",
    "OPEN_STATUSES",
    "PRIORITIES",
    "REQUIRED_FIELDS",
    "STATUSES",
    "Task",
    "TaskFile",
    "TaskFileError",
    "TaskFileProblem",
    "TaskNotFound",
    "add_escalation",
    "goal_met",
    "parse_task_file",
    "set_status",
]

PRIORITIES: tuple[str, ...] = ("high", "medium", "low")
STATUSES: tuple[str, ...] = ("todo", "in-progress", "blocked", "done")
OPEN_STATUSES: frozenset[str] = frozenset({"todo", "in-progress"})
FIELDS: tuple[str, ...] = ("priority", "status", "goal", "notes", *SEARCH_FIELDS, "escalated")
REQUIRED_FIELDS: tuple[str, ...] = ("priority", "status", "goal")
_REPEATABLE = frozenset({"escalated"})
_TEMPLATE = "'## T-001: title' followed by '- priority: high', '- status: todo', " \
            "'- goal: max_drawdown < 15%'"

_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")
_HEADING2 = re.compile(r"^ {0,3}##(?!#)(?P<text>.*)$")
_TASK_HEADING = re.compile(r"^(?P<id>[A-Za-z]+-\d+)[ \t]*(?P<colon>:?)[ \t]*(?P<title>.*)$")
_FIELD = re.compile(
    r"^(?P<head>(?P<bullet> {0,3}[-*+][ \t]+)(?P<key>[A-Za-z][\w-]*)[ \t]*:[ \t]*)"
    r"(?P<value>.*?)(?P<trail>(?:[ \t]*<!--.*?-->)*[ \t]*)$")
_BULLET_WORD = re.compile(r"^ {0,3}[-*+][ \t]+(?P<word>[A-Za-z][\w-]*)")
_BARE_KEY = re.compile(r"^(?P<word>[A-Za-z][\w-]*)[ \t]*:")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_COMMENT = re.compile(r"<!--.*?-->")

Kind = Literal["text", "blank", "comment", "fence"]


class TaskFileProblem(BaseModel):
    """One thing wrong in the file, at a 1-based line number."""

    model_config = ConfigDict(frozen=True)

    line: int = Field(ge=1)
    message: str


class TaskFileError(Failure, ValueError):
    """``task.md`` breaks the format; ``problems`` lists each one with its line."""

    def __init__(self, path: str, problems: list[TaskFileProblem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: p.line)
        count = len(self.problems)
        lines = "\n".join(f"  {path}:{p.line}: {p.message}" for p in self.problems)
        super().__init__(f"{path} has {count} problem{'s' if count != 1 else ''} "
                         f"(see docs/task-format.md):\n{lines}")


class TaskNotFound(Failure, LookupError):
    """No task in the file has the requested id."""


class Task(BaseModel):
    """One task as read from the file, with where its lines are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    priority: Literal["high", "medium", "low"]
    status: Literal["todo", "in-progress", "blocked", "done"]
    goal: Goal
    notes: str = ""
    search: SearchSteering = Field(default_factory=SearchSteering,
                                   description="how the task steers the Quant's search")
    escalations: tuple[str, ...] = ()
    body: str = Field(default="", description="the free text under the fields, verbatim")
    line: int = Field(description="line of the task's heading")
    field_lines: dict[str, int] = Field(description="line of each field (last escalation)")
    last_field_line: int = Field(description="last line of the field list")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def priority_rank(self) -> int:
        return PRIORITIES.index(self.priority)

    def ref(self) -> TaskRef:
        return TaskRef(id=self.id, title=self.title, priority=self.priority,
                       goal=self.goal.text(), search=self.search)


class TaskFile(BaseModel):
    """The tasks of one backlog file, in file order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    tasks: tuple[Task, ...]

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        known = ", ".join(t.id for t in self.tasks)
        raise TaskNotFound(f"{self.path} has no task {task_id}; its tasks are {known}")

    def open_tasks(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if t.is_open)


@dataclass
class _Draft:
    id: str
    title: str
    line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    escalations: list[tuple[str, int]] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    last_field_line: int = 0
    continuing: str | None = None


def _split(text: str) -> list[str]:
    return _LINES.findall(text)


def _kinds(lines: list[str]) -> list[Kind]:
    """Classify lines so headings and fields inside code fences or comments are ignored."""
    kinds: list[Kind] = []
    fence: str | None = None
    in_comment = False
    for raw in lines:
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if fence is not None:
            kinds.append("fence")
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                fence = None
            continue
        if in_comment:
            kinds.append("comment")
            in_comment = "<!--" in _COMMENT.sub("", line.split("-->", 1)[-1]) \
                if "-->" in line else True
            continue
        if not stripped:
            kinds.append("blank")
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening["fence"]
            kinds.append("fence")
            continue
        rest = _COMMENT.sub("", stripped)
        in_comment = "<!--" in rest
        only_comment = stripped.startswith("<!--") and not rest.split("<!--", 1)[0].strip()
        kinds.append("comment" if only_comment else "text")
    return kinds


def _status_hint(value: str) -> str:
    norm = re.sub(r"[\s_]+", "-", value.strip().lower())
    if norm in ("in-progress", "inprogress", "doing", "wip", "started", "active"):
        return " (write 'in-progress')"
    close = difflib.get_close_matches(norm, STATUSES, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = _split(text)
        self.kinds = _kinds(self.lines)
        self.problems: list[TaskFileProblem] = []
        self.drafts: list[_Draft] = []
        self.headings = 0

    def problem(self, line: int, message: str) -> None:
        self.problems.append(TaskFileProblem(line=line, message=message))

    def run(self) -> TaskFile:
        current: _Draft | None = None
        phase = "preamble"
        for number, (raw, kind) in enumerate(zip(self.lines, self.kinds, strict=True), 1):
            line = raw.rstrip("\r\n")
            heading = _HEADING2.match(line) if kind == "text" else None
            if heading is not None:
                self.headings += 1
                current = self.start_task(heading["text"], number)
                phase = "head" if current is not None else "skip"
            elif phase in ("head", "fields") and current is not None:
                phase = self.field_phase(current, phase, raw, line, kind, number)
            elif phase == "body" and current is not None:
                self.body_line(current, raw, line, kind, number)
            elif phase == "preamble" and kind == "text":
                found = _FIELD.match(line)
                if found and found["key"] in FIELDS:
                    self.problem(number, f"'{found['key']}' line outside any task; put it in "
                                 "the list under a task heading such as '## T-001: title'")
        if self.headings == 0:
            self.problem(1, f"no tasks found; add one as {_TEMPLATE}")
        tasks = [t for t in (self.finish(d) for d in self.drafts) if t is not None]
        if self.problems:
            raise TaskFileError(self.path, self.problems)
        return TaskFile(path=self.path, tasks=tuple(tasks))

    def start_task(self, text: str, number: int) -> _Draft | None:
        if text and not text[0].isspace():
            self.problem(number, f"put a space after '##': write '## {text.strip()}'")
            return None
        text = re.sub(r"[ \t]+#+[ \t]*$", "", text).strip()
        found = _TASK_HEADING.match(text)
        if found is None:
            self.problem(number, f"'## {text}' is not a task heading; write '## T-001: title' "
                         "(use '#' or '###' for other headings)")
            return None
        task_id, title = found["id"], found["title"].strip()
        if not task_id.startswith("T-"):
            self.problem(number, f"task id '{task_id}' must look like 'T-001'; write "
                         f"'## T-{task_id.split('-', 1)[1]}: {title}'")
            return None
        if not found["colon"] or not title:
            suggestion = title.lstrip("-–—: \t") or "what to achieve"
            self.problem(number, f"task {task_id} needs a title after a colon: write "
                         f"'## {task_id}: {suggestion}'")
            return None
        for draft in self.drafts:
            if draft.id == task_id:
                used = {d.id for d in self.drafts}
                free = next(f"T-{n:03d}" for n in range(1, len(used) + 2)
                            if f"T-{n:03d}" not in used)
                self.problem(number, f"task id {task_id} is already used on line {draft.line}; "
                             f"give this task a new id such as {free}")
                return None
        draft = _Draft(id=task_id, title=title, line=number)
        self.drafts.append(draft)
        return draft

    def field_phase(self, draft: _Draft, phase: str, raw: str, line: str, kind: Kind,
                    number: int) -> str:
        if kind == "comment":
            return phase
        if kind == "blank":
            return "body" if phase == "fields" else phase
        if kind == "fence":
            draft.body.append(raw)
            return "body"
        found = _FIELD.match(line)
        if found is not None:
            self.field(draft, found, number)
            return "fields"
        if phase == "fields" and line[:1] in (" ", "\t") and draft.continuing:
            value, at = draft.values.get(draft.continuing, ("", number))
            if draft.continuing == "escalated":
                text, at = draft.escalations[-1]
                draft.escalations[-1] = (f"{text} {line.strip()}", at)
            else:
                draft.values[draft.continuing] = (f"{value} {line.strip()}".strip(), at)
            draft.last_field_line = number
            return "fields"
        word = _BULLET_WORD.match(line)
        if word and word["word"].lower() in FIELDS:
            key = word["word"].lower()
            self.problem(number, f"missing ':' after '{key}'; write '- {key}: <value>'")
            return "fields"
        bare = _BARE_KEY.match(line)
        if bare and bare["word"].lower() in FIELDS:
            self.problem(number, f"start the field with '- ': write '- {line.strip()}'")
            return "fields"
        draft.body.append(raw)
        return "body"

    def field(self, draft: _Draft, found: re.Match[str], number: int) -> None:
        key, value = found["key"].lower(), found["value"].strip()
        draft.continuing = None
        if key not in FIELDS:
            close = difflib.get_close_matches(key, FIELDS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.problem(number, f"unknown field '{found['key']}' in task {draft.id}{hint}; "
                         f"use one of {', '.join(FIELDS[:-1])} (the PM writes 'escalated'), "
                         "or leave a blank line before free text")
            return
        draft.last_field_line = number
        if key in _REPEATABLE:
            draft.escalations.append((value, number))
        elif key in draft.values:
            first = draft.values[key][1]
            self.problem(number, f"second '{key}' line in task {draft.id} (the first is on "
                         f"line {first}); keep one")
            return
        else:
            draft.values[key] = (value, number)
        draft.continuing = key

    def body_line(self, draft: _Draft, raw: str, line: str, kind: Kind, number: int) -> None:
        found = _FIELD.match(line) if kind == "text" else None
        if found is not None and found["key"] in FIELDS:
            self.problem(number, f"the '{found['key']}' line of task {draft.id} is cut off from "
                         f"the list under its heading (line {draft.line}) by a blank line or "
                         "text; move it up into that list")
        draft.body.append(raw)

    def finish(self, draft: _Draft) -> Task | None:
        ok = True
        for key in REQUIRED_FIELDS:
            if key not in draft.values:
                example = {"priority": "medium", "status": "todo",
                           "goal": "max_drawdown < 15%"}[key]
                self.problem(draft.line, f"task {draft.id} has no '{key}' line; add "
                             f"'- {key}: {example}' to the list under its heading")
                ok = False
        if not ok:
            return None
        priority, p_line = draft.values["priority"]
        status, s_line = draft.values["status"]
        goal_text, g_line = draft.values["goal"]
        if priority.lower() not in PRIORITIES:
            self.problem(p_line, f"priority '{priority}' of task {draft.id} is not one of "
                         f"{', '.join(PRIORITIES)}")
            ok = False
        if status.lower() not in STATUSES:
            self.problem(s_line, f"status '{status}' of task {draft.id} is not one of "
                         f"{', '.join(STATUSES)}{_status_hint(status)}")
            ok = False
        goal: Goal | None = None
        try:
            goal = parse_goal(goal_text)
        except GoalError as error:
            self.problem(g_line, f"goal of task {draft.id}: {error}")
        found: list[tuple[int, str]] = []
        search = parse_search_fields(draft.values, draft.id, found)
        for line, message in found:
            self.problem(line, message)
        if not ok or goal is None or found:
            return None
        lines = {key: at for key, (_, at) in draft.values.items()}
        if draft.escalations:
            lines["escalated"] = draft.escalations[-1][1]
        return Task(id=draft.id, title=draft.title, priority=priority.lower(),  # type: ignore[arg-type]
                    status=status.lower(), goal=goal,  # type: ignore[arg-type]
                    notes=draft.values.get("notes", ("", 0))[0], search=search,
                    escalations=tuple(text for text, _ in draft.escalations),
                    body="".join(draft.body).strip("\r\n"), line=draft.line,
                    field_lines=lines, last_field_line=draft.last_field_line)


def parse_task_file(text: str, path: str = "task.md") -> TaskFile:
    """Read a backlog; raises :class:`TaskFileError` listing every problem with its line."""
    return _Parser(text, path).run()


def set_status(text: str, task_id: str, status: str, *, path: str = "task.md") -> str:
    """``text`` with only the value of ``task_id``'s status line changed to ``status``.

    The bullet, spacing, any trailing HTML comment and the line ending are kept.
    """
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    task = parse_task_file(text, path).task(task_id)
    lines = _split(text)
    index = task.field_lines["status"] - 1
    raw = lines[index]
    ending = raw[len(raw.rstrip("\r\n")):]
    found = _FIELD.match(raw.rstrip("\r\n"))
    assert found is not None  # the parser found a field on this line
    if found["value"].strip() == status:
        return text
    lines[index] = found["head"] + status + found["trail"] + ending
    return "".join(lines)


def add_escalation(text: str, task_id: str, note: str, *, path: str = "task.md") -> str:
    """``text`` with ``- escalated: <note>`` appended to ``task_id``'s field list.

    ``note`` is flattened to one line; the new line copies the bullet of the status line
    and the file's line ending. Nothing else changes.
    """
    flat = " ".join(note.split())
    if not flat:
        raise ValueError("an escalation needs a note saying why")
    task = parse_task_file(text, path).task(task_id)
    lines = _split(text)
    after = task.last_field_line - 1
    status_raw = lines[task.field_lines["status"] - 1].rstrip("\r\n")
    found = _FIELD.match(status_raw)
    bullet = re.sub(r"[ \t]+$", " ", found["bullet"]) if found else "- "
    last = lines[after]
    ending = last[len(last.rstrip("\r\n")):]
    new_line = f"{bullet}escalated: {flat}"
    if ending:
        lines.insert(after + 1, new_line + ending)
    else:  # the list ends the file without a final newline: keep it that way
        ending = next((ln[len(ln.rstrip("\r\n")):] for ln in lines if ln.endswith("\n")),
                      "\n")
        lines[after] = last + ending + new_line
    return "".join(lines)
