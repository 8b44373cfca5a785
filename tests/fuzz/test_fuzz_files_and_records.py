"""Fuzzing what is read back from disk and from the forge branch: CSV price files and the
forge's PR and review records. Whatever the bytes, each reader raises only its
documented error type."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alphaloop.data import DataError, FileSource
from alphaloop.forge.errors import HypothesisBlockError
from alphaloop.forge.records import PullRequest, Review

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

CELLS = st.sampled_from([
    "2024-01-02", "2024-01-03", "2024-02-30", "1677-09-21", "2262-04-12", "9999-12-31",
    "20240102", "01/02/2024", "2024-01-02T10:00:00", "2024-01-02T10:00:00+05:00",
    "2024-01-03T23:00:00-08:00", "2024-01-04T00:00:00Z", "SPY", "TLT", "BTC-USD", "",
    "470.5", "-1", "0", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "true", "True",
    "1_000", "0x10", "\"1,5\"", "\"", "stocks", "bonds", "crypto", "cash", "martian",
    "\ufeffdate", "date", "ticker", "close", "volume", "asset_class", "yield", " ", "\t",
])
LONG_HEADER = "date,ticker,close,volume,asset_class\n"
WIDE_HEADER = "date,SPY,TLT\n"


def _rows(width: int) -> st.SearchStrategy[str]:
    row = st.lists(st.one_of(CELLS, st.text(max_size=6)), min_size=1, max_size=width)
    return st.lists(row.map(",".join), max_size=12).map(lambda rows: "\n".join(rows) + "\n")


CSV_TEXT = st.one_of(
    st.builds(lambda rows: LONG_HEADER + rows, _rows(6)),
    st.builds(lambda rows: WIDE_HEADER + rows, _rows(4)),
    st.builds(lambda head, rows: head + "\n" + rows,
              st.lists(CELLS, min_size=1, max_size=6).map(",".join), _rows(6)),
)


def _load(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "prices.csv"
        path.write_bytes(data)
        try:
            FileSource(path).load()
        except DataError as error:
            assert str(error)


@FUZZ
@given(CSV_TEXT)
@example(LONG_HEADER + "2024-01-02,SPY,True,1,stocks\n2024-01-03,SPY,False,1,stocks\n")
@example(WIDE_HEADER + "2024-01-02,1e309,1\n2024-01-03,1,1\n")
@example(WIDE_HEADER + "2024-01-02,1,1\n")
def test_csv_files_load_or_raise_a_data_error(text: str) -> None:
    _load(text.encode("utf-8"))


@FUZZ
@given(st.binary(max_size=200))
@example(b"\xff\xfedate,SPY\n")
@example(b"date,SPY\n2024-01-02,\x00\n")
def test_csv_bytes_load_or_raise_a_data_error(data: bytes) -> None:
    _load(data)


NOW = datetime(2026, 1, 2, tzinfo=UTC).isoformat()
PR = {"number": 1, "title": "t", "body": "", "head_branch": "alphaloop/c0001-x",
      "base_branch": "main", "author_role": "quant", "labels": ["alphaloop"],
      "state": "open", "created_at": NOW, "updated_at": NOW}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)
BODIES = st.sampled_from(["", "```alphaloop-hypothesis\n{}\n```\n",
                          "```alphaloop-hypothesis\n[1]\n```\n",
                          "```alphaloop-hypothesis\n{\n", "```alphaloop-hypothesis\n"
                          "{\"a\": 1}\n```\n```alphaloop-hypothesis\n{}\n```\n"])


def _mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from([*base, "extra", "merge_sha", "merged_at", "closed_at"])
    return st.dictionaries(keys, JSON_VALUES, max_size=3).map(lambda edits: {**base, **edits})


@FUZZ
@given(st.one_of(_mutated(PR), st.builds(lambda b: {**PR, "body": b}, BODIES)))
@example({**PR, "state": "merged"})
@example({**PR, "number": 1e309})
def test_pr_records_validate_or_raise_a_validation_error(record: dict[str, Any]) -> None:
    raw = json.dumps(record).encode()
    try:
        pr = PullRequest.model_validate_json(raw)
    except ValidationError:
        return
    with contextlib.suppress(HypothesisBlockError):
        pr.hypothesis  # noqa: B018 - reading the block is what is fuzzed


REVIEW = {"pr_number": 1, "id": 1, "reviewer": "risk", "commit_sha": "a" * 40, "verdict": "approve",
          "severity": 0, "summary": "ok", "findings": [], "created_at": NOW}


@FUZZ
@given(st.one_of(_mutated(REVIEW), st.binary(max_size=80).map(
    lambda b: {"raw": b.decode("latin-1")})))
def test_review_records_validate_or_raise_a_validation_error(record: dict[str, Any]) -> None:
    raw = record["raw"].encode("latin-1") if set(record) == {"raw"} else json.dumps(
        record).encode()
    try:
        review = Review.model_validate_json(raw)
    except ValidationError:
        return
    review.payload()
    review.is_bound_to("a" * 40)


def test_dates_with_mixed_utc_offsets_are_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    for text in (b"date,SPY\n2024-01-02T10:00:00+05:00,1\n2024-01-03T10:00:00+01:00,1\n",
                 b"date,SPY\n2024-01-02,1\n2024-01-03T10:00:00+01:00,1\n"):
        path.write_bytes(text)
        with pytest.raises(DataError, match="dates mix time zones or UTC offsets"):
            FileSource(path).load()
