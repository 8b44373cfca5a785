"""The bot's signing key: held outside every repository and every sandbox.

``ALPHALOOP_REVIEW_KEY`` (hex or any text, e.g. an Actions secret) wins; otherwise the key
is read from ``${XDG_CONFIG_HOME:-~/.config}/alphaloop/review.key``, created on first use
with 32 random bytes and mode 0600.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

__all__ = ["KEY_ENV", "bot_key", "key_path"]

KEY_ENV = "ALPHALOOP_REVIEW_KEY"


def key_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "alphaloop" / "review.key"


def bot_key(environ: Mapping[str, str] | None = None) -> bytes:
    """The key, created on first use when neither the variable nor the file exists."""
    env = os.environ if environ is None else environ
    value = env.get(KEY_ENV)
    if value:
        return value.encode()
    path = key_path(env)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode()
