"""The real OpenAI and Anthropic clients opened on fake servers on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphaloop.llm import LLMConfig, StructuredLLM, open_llm
from support.fake_llm_server import ScriptedServer

__all__ = ["Provider"]

@dataclass
class Provider:
    """A provider under test: its fake server and a way to open the real client on it."""

    name: str
    server: ScriptedServer
    cache: Path
    waits: list[float] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url + ("/v1" if self.name == "openai" else "")

    def config(self, **overrides: Any) -> LLMConfig:
        values: dict[str, Any] = {"provider": self.name, "base_url": self.base_url,
                                  "retry_wait_seconds": 0.0, "timeout_seconds": 5.0}
        return LLMConfig(**{**values, **overrides})

    def open(self, *, cache: bool = True, journal: Path | None = None,
             **overrides: Any) -> StructuredLLM:
        llm = open_llm(self.config(**overrides), self.cache if cache else None,
                       environ={"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-test"},
                       sleep=self.waits.append, journal=journal)
        assert llm is not None
        return llm
