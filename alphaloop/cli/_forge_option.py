"""``--forge local|github``: where pull requests and reviews live, shared by the commands."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

__all__ = ["ForgeChoice", "ForgeOption"]


class ForgeChoice(StrEnum):
    """The forge backends."""

    local = "local"
    github = "github"


ForgeOption = Annotated[ForgeChoice, typer.Option(
    "--forge", help="where pull requests live: local (in git) or github (GITHUB_REPOSITORY, "
                    "GITHUB_TOKEN and GITHUB_API_URL from the environment)")]
