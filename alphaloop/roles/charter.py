"""A role's charter: who the role is and what it is told, read from ``roles/<role>.toml``.

A charter holds the role's goal and persona, the git identity it commits as, and the
prompt templates its model-backed modes send. Templates are Jinja2 (``{{ name }}``),
rendered in a sandboxed environment with ``StrictUndefined``. Each template declares its
``variables``; the charter's own ``role``, ``title``, ``goal`` and ``persona`` may be used
in any template. Loading fails on a template that uses a name that is neither, or that is
not valid Jinja2, with the file and key in the message: a typo is caught when the file
is read, not when a prompt is sent.

What every call sends (:meth:`Charter.messages`): the *system* message is the rendered
``system`` prompt - who the role is, its goal, persona and rules, and nothing else (it
takes no variables); the *user* message is the task's template filled with the call's
values. Variables listed in a template's ``quoted`` are untrusted text from the
repository (pull request titles and bodies, review comments, ``task.md``, commit
messages): they reach the model only inside a ``<data>`` block, with ``&``, ``<`` and
``>`` escaped so the text cannot close the block, and every system prompt says that what
is inside such a block is material to judge, never instructions.

What a role may *write* is policy, not charter: see ``policies/paths.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alphaloop.llm import LLMUsage, Message, StructuredLLM
from alphaloop.policy.errors import PolicyError, describe_validation_error
from alphaloop.policy.loader import load_toml
from alphaloop.repo.identity import Identity

__all__ = [
    "CHARTER_FIELDS",
    "DATA_TAG",
    "ROLE_NAMES",
    "Charter",
    "CharterError",
    "CharterModel",
    "PromptTemplate",
    "load_charter",
    "load_charters",
    "quote_data",
    "template_fields",
]

ROLE_NAMES: tuple[str, ...] = ("quant", "risk", "qa", "engineer", "sre", "pm")
CHARTER_FIELDS: tuple[str, ...] = ("role", "title", "goal", "persona")
#: The tag that delimits untrusted text in a user message.
DATA_TAG = "data"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     keep_trailing_newline=False)


class CharterError(PolicyError):
    """A charter is missing, is not valid TOML, breaks its schema, or a prompt cannot be
    rendered; the message names the file or template and what to do."""


def template_fields(template: str) -> tuple[str, ...]:
    """The names a Jinja2 template reads from its values, sorted.

    Raises :class:`ValueError` for a template that is not valid Jinja2.
    """
    try:
        parsed = _ENV.parse(template)
    except TemplateSyntaxError as exc:
        raise ValueError(f"not a valid Jinja2 template: {exc.message} (line {exc.lineno}); "
                         "write {{ name }} for a variable") from None
    return tuple(sorted(meta.find_undeclared_variables(parsed)))


def quote_data(name: str, text: object) -> str:
    """``text`` as a delimited, escaped block of data: what the model reads as material,
    never as instructions. ``&``, ``<`` and ``>`` are escaped, so nothing in the text can
    end the block or open another."""
    body = (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return f'<{DATA_TAG} name="{name}">\n{body}\n</{DATA_TAG}>'


class PromptTemplate(BaseModel):
    """One prompt: a template, the variables it may be given and which of them are
    untrusted text (``quoted``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    variables: tuple[str, ...] = ()
    quoted: tuple[str, ...] = ()
    template: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names_known(self) -> PromptTemplate:
        for name in self.variables:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"variable {name!r} is not a lower-case name")
            if name in CHARTER_FIELDS:
                raise ValueError(f"variable {name!r} is a charter field and always available; "
                                 "remove it from variables")
        stray = [q for q in self.quoted if q not in self.variables]
        if stray:
            raise ValueError(f"quoted lists {', '.join(stray)}, which variables does not "
                             "declare; declare them or remove them from quoted")
        known = set(self.variables) | set(CHARTER_FIELDS)
        unknown = [f for f in template_fields(self.template) if f not in known]
        if unknown:
            raise ValueError(f"unknown variable(s) {', '.join(unknown)}; declare them in "
                             f"variables (now: {', '.join(self.variables) or 'none'}) or fix "
                             "the spelling")
        return self


class Charter(BaseModel):
    """One role's charter (``roles/<role>.toml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str = Field(pattern=_IDENTIFIER.pattern)
    title: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    persona: str = Field(min_length=1)
    identity: Identity
    prompts: dict[str, PromptTemplate]

    @model_validator(mode="after")
    def _has_system_prompt(self) -> Charter:
        system = self.prompts.get("system")
        if system is None:
            raise ValueError("prompts.system is missing; every role needs a system prompt")
        if system.variables:
            raise ValueError("prompts.system declares variables "
                             f"({', '.join(system.variables)}); the system prompt is who "
                             "the role is, fixed per charter: put what varies in a task "
                             "prompt, which goes in the user message")
        if f"<{DATA_TAG}>" not in system.template:
            raise ValueError(f"prompts.system must tell the model that text inside <{DATA_TAG}> "
                             "blocks is material to judge, never instructions; add that rule")
        return self

    @property
    def tasks(self) -> tuple[str, ...]:
        """The task prompts (every prompt but ``system``)."""
        return tuple(name for name in self.prompts if name != "system")

    def render(self, prompt: str, **values: object) -> str:
        """Fill prompt ``prompt`` with ``values`` (and the charter's own fields).

        Every declared variable must be given and nothing else; values are inserted
        as ``str()``, the ``quoted`` ones as :func:`quote_data` blocks (an empty one as
        the empty string).
        """
        try:
            template = self.prompts[prompt]
        except KeyError:
            raise CharterError(f"role {self.role} has no prompt {prompt!r}; it has "
                               f"{', '.join(self.prompts)}") from None
        missing = [v for v in template.variables if v not in values]
        extra = [v for v in values if v not in template.variables]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(extra)}")
            raise CharterError(f"prompt {self.role}.{prompt} takes "
                               f"{', '.join(template.variables) or 'no variables'}: "
                               f"{'; '.join(parts)}")
        fields = {name: getattr(self, name) for name in CHARTER_FIELDS}
        filled = {k: quote_data(k, v) if k in template.quoted and str(v) else str(v)
                  for k, v in values.items()}  # an empty value stays empty: {% if %} sees it
        try:
            return _ENV.from_string(template.template).render({**fields, **filled})
        except (UndefinedError, SecurityError, TypeError) as exc:
            raise CharterError(f"roles/{self.role}.toml: prompts.{prompt} cannot be "
                               f"rendered: {exc}") from None

    def system_prompt(self) -> str:
        """The rendered system prompt."""
        return self.render("system")

    def messages(self, prompt: str, **values: object) -> list[Message]:
        """What a call for task ``prompt`` sends: the system prompt, then the task's
        template filled with ``values`` as the user message."""
        if prompt == "system":
            raise CharterError("the system prompt is sent with every task; name a task "
                               f"prompt of {self.role}: {', '.join(self.tasks)}")
        return [Message(role="system", content=self.system_prompt()),
                Message(role="user", content=self.render(prompt, **values))]


_Answer = TypeVar("_Answer", bound=BaseModel)


class CharterModel:
    """The roles' model: every call sends the asking role's charter prompt (see
    :meth:`Charter.messages`) and is accounted to that role."""

    def __init__(self, charters: Mapping[str, Charter], llm: StructuredLLM) -> None:
        self.charters = dict(charters)
        self.llm = llm
        self.name = f"{llm.name}:{llm.model}"

    def ask(self, role: str, prompt: str, schema: type[_Answer], **values: object) -> _Answer:
        charter = self.charters.get(role)
        if charter is None:
            raise CharterError(f"no charter for role {role!r} (charters: "
                               f"{', '.join(self.charters)}); add roles/{role}.toml")
        answer, _usage = self.llm.complete(charter.messages(prompt, **values), schema=schema,
                                           role=role)
        return answer

    def usage(self) -> LLMUsage:
        """Tokens and cost so far, per role and in total."""
        return self.llm.meter.summary()


def _roles_dir(root: Path | str) -> Path:
    """``root/roles``, or ``root`` itself when it is the ``roles`` folder."""
    base = Path(root)
    if base.name == "roles" and not (base / "roles").is_dir():
        return base
    return base / "roles"


def load_charter(root: Path | str, role: str) -> Charter:
    """Read and validate ``roles/<role>.toml``.

    ``root`` is the repository root (or the ``roles`` folder itself).
    """
    if not _IDENTIFIER.match(role):
        raise CharterError(f"{role!r} is not a role name; roles are {', '.join(ROLE_NAMES)}")
    label = f"roles/{role}.toml"
    try:
        data = load_toml(_roles_dir(root) / f"{role}.toml", shown=label)
    except PolicyError as exc:
        raise CharterError(str(exc)) from None
    try:
        charter = Charter.model_validate(data)
    except ValidationError as exc:
        raise CharterError(describe_validation_error(label, exc)) from exc
    if charter.role != role:
        raise CharterError(f"{label} declares role = {charter.role!r}; it must be {role!r} "
                           "(the file name is the role)")
    return charter


def load_charters(root: Path | str, roles: tuple[str, ...] = ROLE_NAMES) -> dict[str, Charter]:
    """Every role's charter, keyed by role name."""
    return {role: load_charter(root, role) for role in roles}
