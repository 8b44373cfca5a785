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

__all__ = ["LLM_CACHE", "LLM_CALLS", "open_role_model"]

#: Where recorded answers live, under ``.git/alphaloop``.
LLM_CACHE = "llm-cache"
#: The journal of a cycle's model calls, in its run folder (gone when the cycle ends).
LLM_CALLS = "llm-calls.jsonl"


def open_role_model(config: LLMConfig, alphaloop_dir: Path, charters: Mapping[str, Charter],
                    *, run_dir: Path | None = None
                    ) -> tuple[StructuredLLM | None, CharterModel | None]:
    """The client and the roles' model ``config`` names; ``(None, None)`` offline. With
    ``run_dir`` (the cycle's run folder), the calls are journaled there, so a resumed
    cycle counts its earlier runs' calls against its budget."""
    try:
        llm = open_llm(config, alphaloop_dir / LLM_CACHE,
                       journal=run_dir / LLM_CALLS if run_dir is not None else None)
    except LLMConfigError as exc:
        raise CycleError(str(exc)) from None
    if llm is None:
        return None, None
    return llm, CharterModel(charters, llm)
