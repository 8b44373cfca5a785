"""Clean every text that leaves a sandbox before anything records it.

Exceptions, stderr and answers of sandboxed code end up in findings, PR reviews, the
ledger and ``walkthrough.md``, all of which are committed. :func:`redact` bounds such a
text, strips control characters (newlines and tabs stay) and replaces secrets with
``[redacted]``: well-known token shapes (GitHub, OpenAI, Anthropic, AWS, Slack, Google,
JWTs), private key blocks, long high-entropy values in ``key=value`` or ``key: value``,
and the literal values of the trusted process's own environment variables whose names
look secret or that are long and not paths.

    message = redact(exc_text, limit=2000)
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "redact", "redact_tree", "secret_values"]

REDACTED = "[redacted]"

# Distinctive prefixes match even when glued to other text ("xxxghp_..."); generic ones
# (``sk-``, ``AKIA``) only at a word start, so "risk-adjusted" stays readable.
_TOKEN_PATTERNS = (
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*-----|\Z)",
    r"gh[pousr]_[A-Za-z0-9]{20,}",
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"sk-ant-[A-Za-z0-9_\-]{16,}",
    r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_\-]{16,}",
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b",
    r"xox[abposr]-[A-Za-z0-9\-]{10,}",
    r"\bAIza[0-9A-Za-z_\-]{30,}",
    r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",
    r"\b(?i:bearer|token|basic)\s+[A-Za-z0-9_\-.=+/]{20,}",
    r"://[^/\s:@]+:[^/\s@]+@",  # credentials in a URL
)
_TOKENS = re.compile("|".join(f"(?:{p})" for p in _TOKEN_PATTERNS))
# A key starts only where a word starts: tried from inside a long run of key characters
# the pattern would backtrack once per position (quadratic; seconds on 16 kB of "aaaa").
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)(?P<sep>\s*[=:]\s*['\"]?)"
    r"(?P<value>[A-Za-z0-9+/_\-.=]{20,})")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SECRET_NAME = re.compile(r"(?i)(token|secret|passw|key|credential|auth|cookie|session|"
                          r"private|signature)")
_MIN_ENV_VALUE = 12
_CUT = "[...] "


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


_PLAIN_PART = re.compile(r"[a-z]{1,16}[0-9]{0,2}|[A-Z]?[a-z]{1,16}|[A-Z]{1,8}[0-9]{0,2}|[0-9]{1,8}")


def _looks_random(value: str) -> bool:
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return (len(value) >= 20 and classes >= 2 and _entropy(value) >= 3.5
            and not _looks_like_a_name(value))


def _looks_like_a_name(value: str) -> bool:
    """A path, dotted module name or version: short word-like parts between separators
    (``/root/.pyenv/versions/3.11.7/bin``, ``strategy.overlays.vol_regime_v2``)."""
    parts = [p for p in re.split(r"[/._\-]+", value.strip("'\"=")) if p]
    return len(parts) >= 2 and all(_PLAIN_PART.fullmatch(p) for p in parts)


def secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of ``environ`` (default: this process's) that no record may hold, longest first."""
    env = os.environ if environ is None else environ
    key = hash(frozenset(env.items()))
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = _secret_values(env)
        if len(_CACHE) > 8:
            _CACHE.pop(next(iter(_CACHE)))
    return cached


_CACHE: dict[int, tuple[str, ...]] = {}


def _secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    found = set()
    for name, value in env.items():
        value = value.strip()
        if len(value) < 6:
            continue
        if _is_pathish(value):
            continue
        if _SECRET_NAME.search(name) or len(value) > _MIN_ENV_VALUE:
            found.add(value)
    return tuple(sorted(found, key=len, reverse=True))


def _is_pathish(value: str) -> bool:
    parts = value.split(os.pathsep)
    return all(p.startswith(("/", "~", ".")) or p == "" for p in parts)


def redact(text: str, *, limit: int = 4000, environ: Mapping[str, str] | None = None) -> str:
    """``text`` cut to ``limit`` characters, control characters removed, secrets replaced.

    The secret scan runs before the cut (so a cut cannot split a secret into an
    unrecognisable piece) over at most a few times ``limit`` characters, the end kept.
    """
    return _redact(text, limit, secret_values(environ))


def _redact(text: str, limit: int, values: tuple[str, ...]) -> str:
    if len(text) < 6 and len(text) <= limit and not _CONTROL.search(text):
        return text
    window = max(limit * 4, 4096)
    if len(text) > window:
        text = text[-window:]
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    marker = _CUT if limit > 2 * len(_CUT) else ""
    for _ in range(8):
        # a replacement or the cut can expose another secret (a new word start): scan
        # again until nothing changes
        text = _scrub_all(text, values)
        if len(text) <= limit:
            return text
        text = marker + text[len(text) - max(0, limit - len(marker)):]
    return text[len(text) - limit:] if len(text) > limit else text


def _scrub_all(text: str, values: tuple[str, ...]) -> str:
    for _ in range(8):
        before, text = text, _scrub(text, values)
        if text == before:
            break
    return text


def _scrub(text: str, values: tuple[str, ...]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    text = _TOKENS.sub(REDACTED, text)
    text = _ASSIGNMENT.sub(
        lambda m: (m.group("key") + m.group("sep") + REDACTED
                   if _looks_random(m.group("value")) else m.group(0)), text)
    return _RUN.sub(lambda m: REDACTED if _looks_random(m.group(0)) else m.group(0), text)


_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+_\-]{40,}={0,2}")


def redact_tree(value: Any, *, limit: int = 2000,
                environ: Mapping[str, str] | None = None) -> Any:
    """:func:`redact` applied to every string (keys included) of a JSON-like value.

    A decision record holds thousands of strings, most of them repeated (asset names,
    field names): the secret values are looked up once per tree, and each distinct
    string is cleaned once.
    """
    values = secret_values(environ)
    memo: dict[tuple[str, int], str] = {}

    def clean(text: str, cap: int) -> str:
        done = memo.get((text, cap))
        if done is None:
            done = memo[(text, cap)] = _redact(text, cap, values)
        return done

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return clean(item, limit)
        if isinstance(item, dict):
            return {clean(str(k), 200): walk(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [walk(v) for v in item]
        return item

    return walk(value)
