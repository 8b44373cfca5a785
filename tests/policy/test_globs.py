"""Path globs: '*' stays inside a segment, '**' spans segments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alphaloop.policy import normalize_repo_path, path_matches


@pytest.mark.parametrize(("path", "pattern", "expected"), [
    ("strategy/a.py", "strategy/**", True),
    ("strategy/x/y/z.py", "strategy/**", True),
    ("strategy", "strategy/**", False),
    ("strategyx/a.py", "strategy/**", False),
    ("task.md", "task.md", True),
    ("docs/task.md", "task.md", False),
    ("strategy/a.py", "strategy/*.py", True),
    ("strategy/x/a.py", "strategy/*.py", False),
    ("strategy/x/a.py", "strategy/**/*.py", True),
    ("strategy/a.py", "strategy/**/*.py", True),
    ("tests/generated/t.py", "tests/generated/**", True),
    ("tests/generated_x/t.py", "tests/generated/**", False),
    ("a/b.txt", "**", True),
    ("./strategy/a.py", "strategy/**", True),
    ("strategy/a+b.py", "strategy/a+b.py", True),
    ("strategy/aXb.py", "strategy/a?b.py", True),
    ("strategy/a/b.py", "strategy/a?b.py", False),
])
def test_glob_cases(path: str, pattern: str, expected: bool) -> None:
    assert path_matches(path, pattern) is expected


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x.py", "strategy/../../x", "", "."])
def test_paths_must_stay_inside_the_repository(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_repo_path(bad)


segment = st.text(alphabet="abcdefgh_.-0123456789", min_size=1, max_size=8).filter(
    lambda s: s not in (".", ".."))


@given(st.lists(segment, min_size=1, max_size=5))
def test_double_star_matches_exactly_the_folder(segments: list[str]) -> None:
    path = "/".join(segments)
    under = segments[0] == "strategy" and len(segments) > 1
    assert path_matches(path, "strategy/**") is under
    assert path_matches("strategy/" + path, "strategy/**")


@given(st.lists(segment, min_size=1, max_size=5))
def test_single_star_never_crosses_a_slash(segments: list[str]) -> None:
    path = "/".join(segments)
    assert path_matches(path, "*") is (len(segments) == 1)
