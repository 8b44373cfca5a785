"""LLM providers behind one small protocol.

The embedded default is no provider at all: every role has deterministic offline logic
(the Quant's calibration search, Risk's gates, the PM's templates), and an LLM may only
add to it - it never lifts a veto. OpenAI and Anthropic providers implement
:class:`LLMProvider` with structured outputs, retries and token/cost accounting.
"""

from alphaloop.llm.base import LLMError, LLMProvider, Message, Usage

__all__ = ["LLMError", "LLMProvider", "Message", "Usage"]
