"""The ledger format: sealed entries read back exactly, every kind of corruption refused."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphaloop.cycle.ledger import (
    LEDGER_FORMAT,
    LEGACY_LEDGER_FORMAT,
    Ledger,
    LedgerCorrupt,
    LedgerEntry,
    LedgerError,
    RunCorrupt,
    RunStore,
    canonical_json,
    cycle_id,
    cycle_number,
    digest_of,
)

WHEN = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)


def records(n: int) -> dict[str, dict[str, Any]]:
    return {"plan": {"task": f"T{n}", "clock": "2024-03-01"},
            "risk_review": {"verdict": "approve", "severity": 0, "sharpe": 0.8125,
                            "findings": [{"check": "var", "ok": True}]}}


def filled(root: Path, n: int) -> Ledger:
    ledger = Ledger(root)
    for i in range(1, n + 1):
        ledger.append(LedgerEntry.create(cycle_id(i), records(i), created=WHEN,
                                         previous=ledger.head_digest()))
    return ledger


def rewrite(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def test_cycle_ids() -> None:
    assert [cycle_id(1), cycle_id(42), cycle_id(12345)] == ["c0001", "c0042", "c12345"]
    assert cycle_number("c0042") == 42 and cycle_number("c12345") == 12345
    for bad in ("c42", "c0000", "0001", "c00001", "C0001"):
        with pytest.raises(ValueError, match="not a cycle id"):
            cycle_number(bad)


def test_digest_is_sha256_of_canonical_json_without_the_digest() -> None:
    entry = LedgerEntry.create("c0001", {"plan": {"b": 1, "a": "é"}}, created=WHEN)
    body = ('{"created":"2024-03-01T12:30:00Z","cycle_id":"c0001","format":"alphaloop-ledger/2",'
            '"previous":null,"records":{"plan":{"a":"é","b":1}}}')
    assert canonical_json(entry.model_dump(mode="json", exclude={"digest"})) == body.encode()
    assert entry.digest == hashlib.sha256(body.encode()).hexdigest()


def test_entries_come_back_in_cycle_order_exactly(tmp_path: Path) -> None:
    ledger = filled(tmp_path, 11)
    entries = ledger.entries()
    assert [e.cycle_id for e in entries] == [cycle_id(i) for i in range(1, 12)]
    assert entries[3].records == records(4) and entries[3].created == WHEN
    assert ledger.verify() == 11 and ledger.next_cycle_id() == "c0012"
    assert ledger.last() == entries[-1]
    path = tmp_path / "ledger" / "cycles" / "c0004.json"
    assert ledger.path_for("c0004") == path
    assert Ledger.relative_path("c0004") == "ledger/cycles/c0004.json"
    stored = json.loads(path.read_text())
    assert set(stored) == {"format", "cycle_id", "created", "previous", "records", "digest"}
    assert stored["format"] == LEDGER_FORMAT == "alphaloop-ledger/2"
    assert stored["previous"] == entries[2].digest and entries[0].previous is None


def test_an_old_entry_edited_with_its_digest_recomputed_breaks_the_chain(
        tmp_path: Path) -> None:
    ledger = filled(tmp_path, 4)
    path = ledger.path_for("c0002")
    data = json.loads(path.read_text())
    data["records"]["risk_review"]["verdict"] = "veto"  # one value changed ...
    data["digest"] = digest_of(data)  # ... and the digest recomputed to match
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(LedgerCorrupt, match=r"c0003\.json: it links to") as caught:
        ledger.entries()
    assert "an earlier entry was changed" in str(caught.value)


def test_legacy_entries_without_a_link_are_still_read(tmp_path: Path) -> None:
    ledger = filled(tmp_path, 2)
    for cid in ("c0001", "c0002"):
        path = ledger.path_for(cid)
        data = json.loads(path.read_text())
        del data["previous"]
        data["format"] = LEGACY_LEDGER_FORMAT
        data["digest"] = digest_of(data)
        path.write_text(json.dumps(data, indent=2))
    assert [e.format for e in ledger.entries()] == [LEGACY_LEDGER_FORMAT] * 2
    ledger.append(LedgerEntry.create("c0003", records(3), created=WHEN,
                                     previous=ledger.head_digest()))
    assert ledger.verify() == 3
    assert json.loads(ledger.path_for("c0001").read_text()).keys() == {
        "format", "cycle_id", "created", "records", "digest"}


def test_an_empty_or_missing_ledger_has_no_entries(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    assert ledger.entries() == [] and ledger.last() is None
    assert ledger.next_cycle_id() == "c0001"
    (tmp_path / "ledger" / "cycles").mkdir(parents=True)
    (tmp_path / "ledger" / "cycles" / ".gitkeep").write_text("")
    assert ledger.verify() == 0


def test_append_is_strictly_sequential_and_idempotent(tmp_path: Path) -> None:
    ledger = filled(tmp_path, 2)
    second = ledger.entries()[1]
    assert ledger.append(second) == ledger.path_for("c0002")  # resume: same entry again
    assert ledger.verify() == 2
    with pytest.raises(LedgerError, match="next cycle of this ledger is c0003"):
        ledger.append(LedgerEntry.create("c0005", records(5), created=WHEN))
    with pytest.raises(LedgerError, match="next cycle of this ledger is c0003"):
        ledger.append(LedgerEntry.create("c0002", records(9), created=WHEN))
    with pytest.raises(LedgerError, match="links to nothing"):
        ledger.append(LedgerEntry.create("c0003", records(3), created=WHEN))
    forged = LedgerEntry.create("c0003", records(3), created=WHEN,
                                previous=ledger.head_digest()).model_copy(
        update={"records": {"plan": {"task": "other"}}})
    with pytest.raises(LedgerError, match="digest"):
        ledger.append(forged)
    assert ledger.verify() == 2


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda p: p.write_text("{not json"), "not valid JSON"),
    (lambda p: p.write_bytes(b"\xff\xfe"), "not valid JSON"),
    (lambda p: p.write_text("[1, 2]"), "not a JSON object"),
    (lambda p: rewrite(p, lambda d: d.update(format="alphaloop-ledger/9")), "format"),
    (lambda p: rewrite(p, lambda d: d["records"]["plan"].update(task="T99")), "digest mismatch"),
    (lambda p: rewrite(p, lambda d: d.update(extra=1)), "envelope"),
    (lambda p: rewrite(p, lambda d: d.pop("created")), "envelope"),
    (lambda p: p.write_text(p.read_text().replace("0.8125", "NaN")), "JSON does not allow"),
])
def test_a_damaged_entry_is_refused_with_its_file_and_problem(tmp_path: Path, damage,
                                                              problem: str) -> None:
    ledger = filled(tmp_path, 3)
    damage(ledger.path_for("c0002"))
    with pytest.raises(LedgerCorrupt, match=problem) as caught:
        ledger.entries()
    assert "ledger/cycles/c0002.json" in str(caught.value)
    with pytest.raises(LedgerCorrupt):
        ledger.append(LedgerEntry.create("c0004", records(4), created=WHEN))


def test_a_digest_recomputed_over_a_wrong_envelope_is_still_refused(tmp_path: Path) -> None:
    ledger = filled(tmp_path, 2)

    def as_other_cycle(data: dict[str, Any]) -> None:
        data["cycle_id"] = "c0001"
        data["digest"] = digest_of(data)

    rewrite(ledger.path_for("c0002"), as_other_cycle)
    with pytest.raises(LedgerCorrupt, match="does not match its file name"):
        ledger.verify()

    def naive_time(data: dict[str, Any]) -> None:
        data["cycle_id"] = "c0002"
        data["created"] = "2024-03-01T12:30:00"
        data["digest"] = digest_of(data)

    rewrite(ledger.path_for("c0002"), naive_time)
    with pytest.raises(LedgerCorrupt, match="created"):
        ledger.verify()


def test_whitespace_only_reformatting_is_accepted(tmp_path: Path) -> None:
    ledger = filled(tmp_path, 1)
    rewrite(ledger.path_for("c0001"), lambda d: None)  # re-indented, same values
    assert ledger.entries()[0].records == records(1)


def test_gaps_and_stray_files_are_refused(tmp_path: Path) -> None:
    ledger = filled(tmp_path, 3)
    ledger.path_for("c0002").unlink()
    with pytest.raises(LedgerCorrupt, match=r"c0002\.json is missing"):
        ledger.entries()
    filled(tmp_path / "other", 1)
    stray = tmp_path / "other" / "ledger" / "cycles" / "notes.json"
    stray.write_text("{}")
    with pytest.raises(LedgerCorrupt, match=r"notes\.json: the name is not a cycle id"):
        Ledger(tmp_path / "other").entries()


def test_records_are_sealed_as_plain_json_or_refused() -> None:
    # As in every JSON dump of a pydantic record: non-finite numbers become null.
    entry = LedgerEntry.create("c0001", {"plan": {"sharpe": float("nan"), "when": WHEN}},
                               created=WHEN)
    assert entry.records == {"plan": {"sharpe": None, "when": "2024-03-01T12:30:00Z"}}
    with pytest.raises(LedgerError, match="cannot be stored as JSON"):
        LedgerEntry.create("c0001", {"plan": {"obj": object()}}, created=WHEN)
    with pytest.raises(LedgerError, match="stage name"):
        LedgerEntry.create("c0001", {"Plan Stage": {}}, created=WHEN)


json_leaf = (st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20)
             | st.floats(allow_nan=False, allow_infinity=False))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)
stage_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@settings(max_examples=40)
@given(st.dictionaries(stage_names, st.dictionaries(st.text(max_size=8), json_value,
                                                    max_size=4), max_size=4))
def test_any_json_records_round_trip_through_the_file_format(recs: dict[str, Any]) -> None:
    entry = LedgerEntry.create("c0007", recs, created=WHEN)
    again = LedgerEntry.parse(entry.to_bytes(), file_name="ledger/cycles/c0007.json")
    assert again == entry and again.records == recs


# -- the run store -------------------------------------------------------------------


def test_run_store_saves_loads_and_orders_stages(tmp_path: Path) -> None:
    store = RunStore(tmp_path, "c0003")
    assert not store.exists() and store.load("plan") is None and store.stages() == []
    store.save("plan", {"task": "T1"})
    store.save("quant_review", {"sharpe": 0.5})
    store.save("timings", {"plan": 1.0})
    store.save("plan", {"task": "T1", "note": "replaced"})
    store.save("timings", {"plan": 1.0, "quant_review": 2.0})
    assert store.directory == tmp_path / "alphaloop" / "runs" / "c0003"
    assert store.stages() == ["plan", "quant_review", "timings"]
    assert store.load("plan") == {"task": "T1", "note": "replaced"}
    assert store.records()["timings"] == {"plan": 1.0, "quant_review": 2.0}
    assert sorted(p.name for p in store.directory.iterdir()) == [
        "plan.json", "quant_review.json", "timings.json"]  # no temp files left behind
    assert RunStore.in_progress(tmp_path) == ["c0003"]
    store.save_text("task.md", "# Tasks\n- [ ] T1\n")
    assert store.load_text("task.md") == "# Tasks\n- [ ] T1\n"
    assert store.load_text("walkthrough.md") is None
    with pytest.raises(LedgerError, match="text name"):
        store.save_text("plan.json", "x")
    with pytest.raises(LedgerError, match="stage name"):
        store.save("../escape", {})
    store.clear()
    assert not store.exists() and RunStore.in_progress(tmp_path) == []


def test_run_store_refuses_damaged_files(tmp_path: Path) -> None:
    store = RunStore(tmp_path, "c0001")
    path = store.save("plan", {"task": "T1"})
    path.write_text(path.read_text().replace("T1", "T2"))
    with pytest.raises(RunCorrupt, match="digest mismatch") as caught:
        store.load("plan")
    assert str(store.directory) in str(caught.value)
    path.write_text("{trunc")
    with pytest.raises(RunCorrupt, match="not valid JSON"):
        store.stages()
    other = RunStore(tmp_path, "c0002")
    other.save("plan", {"task": "T1"})
    (store.directory / "plan.json").write_bytes((other.directory / "plan.json").read_bytes())
    with pytest.raises(RunCorrupt, match="another cycle"):
        store.load("plan")
    with pytest.raises(LedgerError, match="cannot be stored as JSON"):
        other.save("risk_review", {"when": datetime.now(UTC)})
