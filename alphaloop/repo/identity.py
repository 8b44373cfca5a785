"""Who a commit is made by: the bot's roles commit with explicit identities."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Identity"]

_NO_ANGLE_OR_NEWLINE = r"^[^<>\n\r]+$"


class Identity(BaseModel):
    """A git author/committer identity.

    Commits made through :class:`~alphaloop.repo.GitRepo` set author and committer from
    an ``Identity`` explicitly, so no global git identity is needed on the machine.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=_NO_ANGLE_OR_NEWLINE)
    email: str = Field(min_length=3, pattern=r"^[^<>\s]+@[^<>\s]+$")

    def env(self) -> dict[str, str]:
        """Environment variables that make git author and commit as this identity."""
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
