"""The formatting-only rule compares syntax trees, not text."""

from __future__ import annotations

from alphaloop.checks import check_formatting_only, same_code, same_text

BEFORE = 'def f(a,b):\n    """Add two\n    numbers."""\n    return a+b # sum\n'


def test_layout_comments_and_docstring_wrapping_are_formatting() -> None:
    after = 'def f(a, b):\n    """Add two numbers."""\n    # the sum\n    return a + b\n'
    assert same_code(BEFORE, after)
    assert check_formatting_only({"strategy/a.py": (BEFORE, after)}) == []


def test_changed_code_is_not_formatting() -> None:
    for after in ('def f(a, b):\n    """Add two numbers."""\n    return a - b\n',
                  'def f(a, b):\n    """Subtract two numbers."""\n    return a + b\n',
                  'def f(a, b=1):\n    """Add two numbers."""\n    return a + b\n'):
        [finding] = check_formatting_only({"strategy/a.py": (BEFORE, after)})
        assert finding.evidence["rule"] == "code-changed" and finding.severity == 3


def test_added_deleted_and_broken_files() -> None:
    findings = check_formatting_only({
        "strategy/new.py": (None, "x = 1\n"), "strategy/old.py": ("x = 1\n", None),
        "strategy/bad.py": ("x = 1\n", "x = (1\n")})
    assert sorted(f.evidence["rule"] for f in findings) == [
        "file-added-or-deleted", "file-added-or-deleted", "syntax"]


def test_other_files_may_change_whitespace_only() -> None:
    assert same_text("a  b\nc", "a b c\n")
    assert not same_text("a b", "a c")
    assert check_formatting_only({"tests/README.md": ("# T\n\ntext", "# T\ntext\n")}) == []
    [finding] = check_formatting_only({"tests/README.md": ("# T", "# U")})
    assert finding.evidence["rule"] == "text-changed"
