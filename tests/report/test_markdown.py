"""Report text helpers: long reasons are shortened at a boundary, never inside a word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alphaloop.report.markdown import shorten

REASON = ("risk request changes on 4eb550f396: vetoed (changes requested): claim not met: "
          "reward up beyond 0.05 is not shown over the walk-forward folds; a human must "
          "approve: exposure gross = 0.9 (main 0.9) is above 0.8")


def test_a_short_text_is_kept_whole_on_one_line() -> None:
    assert shorten("two\n  lines", 80) == "two lines"


def test_a_long_reason_ends_at_a_clause_or_a_whole_word() -> None:
    assert shorten(REASON, 160) == (
        "risk request changes on 4eb550f396: vetoed (changes requested): claim not met: "
        "reward up beyond 0.05 is not shown over the walk-forward folds …")
    assert shorten(REASON, 60) == "risk request changes on 4eb550f396: vetoed (changes …"


@given(words=st.lists(st.text("abc xyz.;", min_size=1, max_size=12), min_size=1,
                      max_size=30),
       width=st.integers(8, 120))
def test_shortened_text_fits_and_every_word_is_whole(words: list[str], width: int) -> None:
    text = " ".join(words)
    out = shorten(text, width)
    assert len(out) <= width
    flat = " ".join(text.split())
    if out == flat:
        return
    assert out.endswith("…")
    kept = out.rstrip("…").split()
    whole = flat.split()
    if len(kept) == 1 and len(whole[0]) >= width:
        return  # a first word longer than the width is the only thing ever cut
    assert kept == whole[: len(kept)] or (kept[:-1] == whole[: len(kept) - 1] and \
        whole[len(kept) - 1].startswith(kept[-1].rstrip(";."))), (out, flat)
