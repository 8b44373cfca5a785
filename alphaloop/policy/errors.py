"""The error raised when a policy or charter file cannot be used, and its formatting."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from alphaloop.errors import Failure

__all__ = ["PolicyError", "describe_validation_error"]


class PolicyError(Failure, ValueError):
    """A policy file is missing, is not valid TOML, or breaks its schema.

    The message names the file, the key and what to do about it.
    """


def _key(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def describe_validation_error(path: Path | str, error: ValidationError) -> str:
    """One line per problem: ``file: key: what is wrong (got value)``, then a hint."""
    lines = [f"{path} does not match its schema:"]
    for item in error.errors(include_url=False):
        key = _key(tuple(item["loc"]))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key; remove it or fix its spelling"
        elif item["type"] == "missing":
            message = "required key is missing; add it"
        got = "" if item["type"] in ("missing", "extra_forbidden") else (
            f" (got {item.get('input')!r})")
        lines.append(f"  {path}: {key}: {message}{got}")
    lines.append(f"Edit {path} and load it again; the comments in the file describe each key.")
    return "\n".join(lines)
