"""Each provider's fake server, with the real client opened on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_anthropic import fake_anthropic
from support.fake_openai import fake_openai
from support.llm_providers import Provider


@pytest.fixture(params=["openai", "anthropic"])
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Provider]:
    make = fake_openai if request.param == "openai" else fake_anthropic
    with make() as server:
        yield Provider(request.param, server, tmp_path / "llm-cache")
