"""The structured hypothesis block carried in a pull request's body.

A Quant pull request states its hypothesis twice: in prose for people, and as a fenced
JSON block that machines read back exactly::

    ```alphaloop-hypothesis
    {
      "expected_effect": "...",
      "statement": "..."
    }
    ```

:func:`render_block` writes the block (keys sorted, so the text is stable) and
:func:`parse_block` reads it from a body; a body may hold at most one block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from alphaloop.forge.errors import HypothesisBlockError

__all__ = ["BLOCK_INFO_STRING", "parse_block", "render_block", "strip_block"]

BLOCK_INFO_STRING = "alphaloop-hypothesis"

_BLOCK = re.compile(
    r"^```" + re.escape(BLOCK_INFO_STRING) + r"[ \t]*\n(?P<body>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def render_block(data: Mapping[str, Any]) -> str:
    """The fenced block for ``data`` (a JSON-able mapping), ending with a newline.

    Every line of indented JSON starts with a space or a bracket, so no value can close
    the fence early.
    """
    try:
        text = json.dumps(dict(data), indent=2, sort_keys=True, ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as error:
        raise HypothesisBlockError(f"the hypothesis cannot be written as JSON: {error}") from None
    return f"```{BLOCK_INFO_STRING}\n{text}\n```\n"


def parse_block(body: str) -> dict[str, Any] | None:
    """The hypothesis in ``body``, or None if the body has no block.

    Raises :class:`HypothesisBlockError` if the block is not a JSON object or if there is
    more than one block (which one would count would be ambiguous).
    """
    matches = list(_BLOCK.finditer(body))
    if not matches:
        if re.search(r"^```" + re.escape(BLOCK_INFO_STRING), body, re.MULTILINE):
            raise HypothesisBlockError("the hypothesis block is not closed with a ``` line.")
        return None
    if len(matches) > 1:
        raise HypothesisBlockError(f"the body holds {len(matches)} hypothesis blocks; keep one.")
    try:
        data = json.loads(matches[0].group("body"))
    except json.JSONDecodeError as error:
        raise HypothesisBlockError(f"the hypothesis block is not valid JSON: {error}") from None
    except RecursionError:
        raise HypothesisBlockError("the hypothesis block nests too deeply to read") from None
    if not isinstance(data, dict):
        raise HypothesisBlockError("the hypothesis block must hold a JSON object, "
                                   f"not {type(data).__name__}.")
    return data


def strip_block(body: str) -> str:
    """``body`` without its hypothesis block (the prose a person reads)."""
    return _BLOCK.sub("", body).strip()
