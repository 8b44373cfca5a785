"""The hypothesis block in a PR body: written stably, read back exactly, errors named."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alphaloop.forge import HypothesisBlockError, parse_block, render_block, strip_block

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=50)
@given(data=st.dictionaries(st.text(), json_values, max_size=6),
       before=st.text(), after=st.text())
def test_render_then_parse_round_trips_inside_any_prose(data: dict[str, Any], before: str,
                                                        after: str) -> None:
    assume("```alphaloop-hypothesis" not in before + after)  # a second block: tested below
    body = f"{before}\n\n{render_block(data)}\n{after}"
    assert parse_block(body) == data


def test_block_text_is_stable_and_readable() -> None:
    block = render_block({"statement": "Shorter momentum", "expected_effect": {"sharpe": 0.1}})
    assert block == (
        "```alphaloop-hypothesis\n"
        "{\n"
        '  "expected_effect": {\n'
        '    "sharpe": 0.1\n'
        "  },\n"
        '  "statement": "Shorter momentum"\n'
        "}\n"
        "```\n"
    )
    body = f"## Why\n\nMomentum decays faster now.\n\n{block}"
    assert strip_block(body) == "## Why\n\nMomentum decays faster now."


def test_a_body_without_a_block_has_no_hypothesis() -> None:
    assert parse_block("Plain description\n```python\nx = 1\n```\n") is None


@pytest.mark.parametrize(("body", "problem"), [
    ("```alphaloop-hypothesis\n{not json}\n```\n", "not valid JSON"),
    ("```alphaloop-hypothesis\n[1, 2]\n```\n", "JSON object"),
    ("```alphaloop-hypothesis\n{}\n```\n\n```alphaloop-hypothesis\n{}\n```\n", "2 hypothesis"),
    ("```alphaloop-hypothesis\n{\"a\": 1}\n", "not closed"),
])
def test_malformed_blocks_are_refused_with_the_reason(body: str, problem: str) -> None:
    with pytest.raises(HypothesisBlockError, match=problem):
        parse_block(body)


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(HypothesisBlockError, match="cannot be written as JSON"):
        render_block({"effect": float("nan")})
    with pytest.raises(HypothesisBlockError, match="cannot be written as JSON"):
        render_block({"when": object()})
