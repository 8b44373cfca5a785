"""LLM providers behind one small protocol.

The embedded default is no provider at all (``offline``): every role has deterministic
logic (the Quant's calibration search, Risk's gates, the PM's templates), and a model
may only add to it - it never lifts a veto. OpenAI and Anthropic are reached through
their official SDKs (:mod:`.openai_wire`, :mod:`.anthropic_wire`) behind one
structured-output client (:mod:`.client`) that owns retries, repairs, the response cache
(:mod:`.cache`) and the token and cost accounting (:mod:`.meter`, :mod:`.prices`).
:func:`open_llm` builds it from an :class:`LLMConfig`. The SDKs are imported only when
a provider is opened.
"""

from alphaloop.lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, ...]] = {
    "base": ("BudgetExceeded", "InvalidAnswer", "LLMCallFailed", "LLMConfigError",
             "LLMError", "LLMProvider", "Message", "ReplayMiss", "Usage"),
    "cache": ("ResponseCache",),
    "client": ("RetryPolicy", "RoleLLM", "StructuredLLM"),
    "config": ("DEFAULT_MODELS", "KEY_VARIABLES", "LLMConfig", "open_llm"),
    "meter": ("CallRecord", "LLMUsage", "RoleUsage", "UsageMeter"),
    "prices": ("PRICES_FILE", "Price", "load_price"),
    "wire": ("ChatRequest", "Reply", "Transient", "Transport"),
}

__all__ = [
    "DEFAULT_MODELS",
    "KEY_VARIABLES",
    "PRICES_FILE",
    "BudgetExceeded",
    "CallRecord",
    "ChatRequest",
    "InvalidAnswer",
    "LLMCallFailed",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMProvider",
    "LLMUsage",
    "Message",
    "Price",
    "ReplayMiss",
    "Reply",
    "ResponseCache",
    "RetryPolicy",
    "RoleLLM",
    "RoleUsage",
    "StructuredLLM",
    "Transient",
    "Transport",
    "Usage",
    "UsageMeter",
    "load_price",
    "open_llm",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
