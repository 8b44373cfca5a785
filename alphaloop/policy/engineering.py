"""The Engineer's limits (``policies/engineering.toml``): complexity, diff size, the
files that declare dependencies and the paths whose public names need no docstring.

The file is optional: without it :class:`EngineeringPolicy`'s defaults apply. Like every
policy file it is validated on load, unknown keys included, and an error names the file
and the key.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.policy.globs import path_matches

__all__ = ["EngineeringPolicy"]


class EngineeringPolicy(BaseModel):
    """Everything in ``policies/engineering.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_complexity: int = Field(
        default=10, ge=1, description="ruff's mccabe limit (C901): a function the change "
                                      "adds or makes more complex than this is sent back")
    max_changed_lines: int = Field(
        default=400, ge=1, description="lines added plus deleted over the whole change")
    max_changed_files: int = Field(default=20, ge=1, description="files the change touches")
    dependency_files: tuple[str, ...] = Field(
        default=("pyproject.toml", "**/requirements*.txt", "setup.py", "setup.cfg",
                 "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock"),
        description="globs of the files that declare dependencies: a change to one always "
                    "needs a human")
    docstring_exempt: tuple[str, ...] = Field(
        default=("tests/**",), description="globs of files whose new public functions and "
                                           "classes need no docstring")

    def declares_dependencies(self, path: str) -> bool:
        """Whether ``path`` is one of the files that declare dependencies."""
        return any(path_matches(path, g) for g in self.dependency_files)

    def needs_docstrings(self, path: str) -> bool:
        """Whether new public names in ``path`` must carry a docstring."""
        return not any(path_matches(path, g) for g in self.docstring_exempt)
