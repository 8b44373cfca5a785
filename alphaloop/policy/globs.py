"""Glob patterns over repository-relative paths, as used in ``policies/paths.toml``.

``*`` and ``?`` stay inside one path segment; ``**`` as a whole segment matches any
number of segments (zero included), so ``strategy/**`` is everything under
``strategy/`` and ``**/*.py`` is every Python file.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

__all__ = ["glob_to_regex", "normalize_repo_path", "path_matches"]


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob into an anchored regular expression."""
    segments = pattern.strip("/").split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        body = ""
        for char in segment:
            if char == "*":
                body += "[^/]*"
            elif char == "?":
                body += "[^/]"
            else:
                body += re.escape(char)
        out.append(body if last else body + "/")
    return re.compile("".join(out) + r"\Z")


def normalize_repo_path(path: str) -> str:
    """A clean ``a/b/c`` form of a repository-relative path.

    Raises :class:`ValueError` for absolute paths and paths that climb out with ``..``,
    which no change listed by git can contain.
    """
    text = path.replace("\\", "/")
    pure = PurePosixPath(text)
    if pure.is_absolute():
        raise ValueError(f"{path!r} is absolute; paths must be relative to the repository root")
    parts = [p for p in pure.parts if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{path!r} climbs out of the repository with '..'")
    if not parts:
        raise ValueError(f"{path!r} names no file")
    return "/".join(parts)


def path_matches(path: str, pattern: str) -> bool:
    """Whether a repository-relative ``path`` matches the glob ``pattern``."""
    return glob_to_regex(pattern).match(normalize_repo_path(path)) is not None
