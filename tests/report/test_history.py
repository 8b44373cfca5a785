"""Reading the ledger's cycle envelopes into what the PM reports."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from alphaloop.cycle.ledger import LedgerEntry
from alphaloop.records import Outcome
from alphaloop.report.history import CycleEntry, HistoryError, load_history

MakeCycle = Callable[..., dict[str, Any]]


def test_an_envelope_reads_into_typed_records(make_cycle: MakeCycle) -> None:
    entry = CycleEntry.from_envelope(make_cycle(3, outcome=Outcome.VETOED, verdict="veto",
                                                risk_summary="VaR 3.4% above the 3% limit"))
    assert entry.cycle_id == "c0003" and entry.number == 3
    assert entry.task_id == "T-001" and entry.outcome is Outcome.VETOED
    assert entry.pr_number == 3 and entry.day == date(2024, 4, 3)
    assert entry.veto_reason() == "VaR 3.4% above the 3% limit"
    in_sample = entry.metrics("branch", "in-sample")
    assert in_sample is not None and in_sample.sharpe == pytest.approx(1.05)
    holdout = entry.metrics("main", "holdout")
    assert holdout is not None and holdout.sharpe == pytest.approx(0.61)


def test_a_ledger_entry_model_is_accepted_as_is(make_cycle: MakeCycle) -> None:
    model = LedgerEntry.model_validate(make_cycle(1, outcome=Outcome.MERGED, merged=True))
    entry = CycleEntry.from_envelope(model)
    assert entry.merge is not None and entry.merge.merged


def test_main_in_sample_falls_back_to_the_quant_review(make_cycle: MakeCycle) -> None:
    raw = make_cycle(2, outcome=Outcome.FAILED)
    del raw["records"]["risk_review"]
    entry = CycleEntry.from_envelope(raw)
    main = entry.metrics("main", "in-sample")
    assert main is not None and main.sharpe == pytest.approx(0.97)
    assert entry.metrics("branch", "in-sample") is None
    assert entry.metrics("main", "holdout") is None


def test_null_figures_read_back_as_nan(make_cycle: MakeCycle) -> None:
    raw = make_cycle(1, outcome=Outcome.VETOED)
    raw["records"]["risk_review"]["branch_metrics"]["holdout"]["sharpe"] = None
    raw["records"]["quant_review"]["reward"] = None
    raw["records"]["risk_review"]["pbo"] = None
    entry = CycleEntry.from_envelope(raw)
    branch = entry.metrics("branch", "holdout")
    assert branch is not None and math.isnan(branch.sharpe)
    assert entry.quant_review is not None and math.isnan(entry.quant_review.reward)
    assert entry.risk_review is not None and entry.risk_review.pbo is None


def test_unreadable_entries_name_the_cycle_and_record(make_cycle: MakeCycle) -> None:
    raw = make_cycle(4, outcome=Outcome.MERGED)
    broken = copy.deepcopy(raw)
    broken["records"]["merge"]["merged"] = "perhaps"
    with pytest.raises(HistoryError, match="cycle c0004: the 'merge' record does not match"):
        CycleEntry.from_envelope(broken)
    with pytest.raises(HistoryError, match="no cycle_id"):
        CycleEntry.from_envelope({"records": {}})
    with pytest.raises(HistoryError, match="'records' must be an object"):
        CycleEntry.from_envelope({"cycle_id": "c0001", "records": []})


def test_history_is_sorted_by_cycle_and_the_last_copy_wins(make_cycle: MakeCycle) -> None:
    entries = [make_cycle(10, outcome=Outcome.VETOED), make_cycle(2, outcome=Outcome.VETOED),
               make_cycle(10, outcome=Outcome.MERGED, merged=True)]
    history = load_history(entries)
    assert [e.cycle_id for e in history] == ["c0002", "c0010"]
    assert history[-1].outcome is Outcome.MERGED
