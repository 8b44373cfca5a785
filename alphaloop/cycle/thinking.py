"""The model a cycle's roles think with (``--llm``), opened before any stage runs.

``--llm offline`` (the default) opens none: every role runs its deterministic logic.
Otherwise the provider's client records every answer under the repository's
``.git/alphaloop/llm-cache/`` (so ``--llm-replay`` can run the cycle again without a
network), and the roles reach it through a :class:`~alphaloop.roles.CharterModel` that
sends each role's charter prompt. A missing key or an unpriced model stops the cycle
here, before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alphaloop.cycle.options import CycleError
from alphaloop.llm import LLMConfig, LLMConfigError, StructuredLLM, open_llm
from alphaloop.roles import Charter, CharterModel

__all__ = ["LLM_CACHE", "open_role_model"]

#: Where recorded answers live, under ``.git/alphaloop``.
LLM_CACHE = "llm-cache"


def open_role_model(config: LLMConfig, alphaloop_dir: Path, charters: Mapping[str, Charter]
                    ) -> tuple[StructuredLLM | None, CharterModel | None]:
    """The client and the roles' model ``config`` names; ``(None, None)`` offline."""
    try:
        llm = open_llm(config, alphaloop_dir / LLM_CACHE)
    except LLMConfigError as exc:
        raise CycleError(str(exc)) from None
    if llm is None:
        return None, None
    return llm, CharterModel(charters, llm)
