"""A role's charter: who the role is and what it is told, read from ``roles/<role>.toml``.

A charter holds the role's goal and persona, the git identity it commits as, and the
prompt templates its LLM-backed modes use. Templates use ``{name}`` placeholders
(``{{`` and ``}}`` for literal braces). Each template declares its ``variables``; the
charter's own ``role``, ``title``, ``goal`` and ``persona`` may be used in any template.
Loading fails on a placeholder that is neither, so a typo is caught when the file is
read, not when a prompt is sent. What a role may *write* is policy, not charter: see
``policies/paths.toml``.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alphaloop.policy.errors import PolicyError, describe_validation_error
from alphaloop.policy.loader import load_toml
from alphaloop.repo.identity import Identity

__all__ = [
    "CHARTER_FIELDS",
    "ROLE_NAMES",
    "Charter",
    "CharterError",
    "PromptTemplate",
    "load_charter",
    "load_charters",
    "template_fields",
]

ROLE_NAMES: tuple[str, ...] = ("quant", "risk", "qa", "engineer", "sre", "pm")
CHARTER_FIELDS: tuple[str, ...] = ("role", "title", "goal", "persona")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class CharterError(PolicyError):
    """A charter is missing, is not valid TOML, breaks its schema, or a prompt cannot be
    rendered; the message names the file or template and what to do."""


def template_fields(template: str) -> tuple[str, ...]:
    """The placeholder names a template uses, in order of first use.

    Raises :class:`ValueError` for malformed braces and for placeholders that are not
    plain names (attribute or index access, conversions and format specs are refused).
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"malformed braces ({exc}); write {{{{ and }}}} for literal braces"
                         ) from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _IDENTIFIER.match(field) or spec or conversion:
            raise ValueError(f"placeholder {{{field}{'!' + conversion if conversion else ''}"
                             f"{':' + spec if spec else ''}}} is not a plain lower-case name; "
                             "use {name}")
        if field not in names:
            names.append(field)
    return tuple(names)


class PromptTemplate(BaseModel):
    """One prompt: a template and the variables it may be given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    variables: tuple[str, ...] = ()
    template: str = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders_known(self) -> PromptTemplate:
        for name in self.variables:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"variable {name!r} is not a lower-case name")
            if name in CHARTER_FIELDS:
                raise ValueError(f"variable {name!r} is a charter field and always available; "
                                 "remove it from variables")
        known = set(self.variables) | set(CHARTER_FIELDS)
        unknown = [f for f in template_fields(self.template) if f not in known]
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join(unknown)}; declare them in "
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
        if "system" not in self.prompts:
            raise ValueError("prompts.system is missing; every role needs a system prompt")
        return self

    @property
    def tasks(self) -> tuple[str, ...]:
        """The task prompts (every prompt but ``system``)."""
        return tuple(name for name in self.prompts if name != "system")

    def render(self, prompt: str, **values: object) -> str:
        """Fill prompt ``prompt`` with ``values`` (and the charter's own fields).

        Every declared variable must be given and nothing else; values are inserted
        with ``str()``.
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
        return template.template.format_map({**fields, **{k: str(v) for k, v in values.items()}})

    def system_prompt(self, **values: object) -> str:
        """The rendered system prompt."""
        return self.render("system", **values)


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
