"""Listing, counting and exporting the journal; the record codec's round trip."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from journal_records import debited, intent, refusal

from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.errors import JournalError
from lane_engine.journal import (
    EntryState,
    Journal,
    JournalFilter,
    MemoryJournal,
    SqliteJournal,
    may_supersede,
)
from lane_engine.journal.codec import record_from_json, record_to_dict, record_to_json
from lane_engine.journal.export import write_csv, write_jsonl
from lane_engine.times import parse_time


def fill(journal: Journal) -> None:
    """Four debits, two refusals, one open intent and one NOT_DEBITED, on the step clock."""
    for n in range(1, 5):
        journal.open_intent(intent(n))
        journal.close(debited(n))
    journal.record_refusal(refusal(5, ReasonCode.BLACKLISTED))
    journal.record_refusal(refusal(6, ReasonCode.OBU_TAMPERED))
    journal.open_intent(intent(7))
    journal.open_intent(intent(8))
    journal.resolve("L01-000008", Outcome.NOT_DEBITED, reason=ReasonCode.PURCHASE_FAILED)


def ids(journal: Journal, selection: JournalFilter) -> list[str]:
    return [e.record.transaction_id for e in journal.entries(selection)]


def test_filters_select_what_they_name(journal: Journal) -> None:
    fill(journal)
    everything = list(journal.entries())
    assert len(everything) == 8
    times = [e.recorded_at for e in everything]
    assert times == sorted(times)
    middle = everything[3].recorded_at
    assert ids(journal, JournalFilter(since=middle)) == [
        e.record.transaction_id for e in everything if e.recorded_at >= middle
    ]
    assert ids(journal, JournalFilter(until=middle)) == [
        e.record.transaction_id for e in everything[:3]
    ]
    card = debited(2).card_number
    assert ids(journal, JournalFilter(card_number=card)) == ["L01-000002"]
    assert ids(journal, JournalFilter(outcome=Outcome.REFUSED)) == ["L01-R00005", "L01-R00006"]
    assert ids(journal, JournalFilter(reason=ReasonCode.OBU_TAMPERED)) == ["L01-R00006"]
    assert ids(journal, JournalFilter(state=EntryState.OPEN)) == ["L01-000007"]
    assert ids(journal, JournalFilter(outcome=Outcome.DEBITED, limit=2)) == [
        "L01-000001",
        "L01-000002",
    ]
    newest = ids(journal, JournalFilter(newest_first=True, limit=1))
    assert newest == [everything[-1].record.transaction_id]
    assert ids(journal, JournalFilter(card_number="nobody")) == []


def test_counts_by_outcome_and_reason(journal: Journal) -> None:
    fill(journal)
    assert journal.counts() == {
        (Outcome.DEBITED, ReasonCode.OK): 4,
        (Outcome.REFUSED, ReasonCode.BLACKLISTED): 1,
        (Outcome.REFUSED, ReasonCode.OBU_TAMPERED): 1,
        (Outcome.UNRESOLVED, ReasonCode.OK): 1,
        (Outcome.NOT_DEBITED, ReasonCode.PURCHASE_FAILED): 1,
    }


def test_jsonl_export_carries_every_record(journal: Journal) -> None:
    fill(journal)
    stream = io.StringIO()
    assert write_jsonl(journal.entries(), stream) == 8
    lines = stream.getvalue().splitlines()
    rows = [json.loads(line) for line in lines]
    for row, entry in zip(rows, journal.entries(), strict=True):
        assert record_from_json(json.dumps(row)) == entry.record
        assert row["journal_state"] == entry.state.value
        assert parse_time(row["journal_recorded_at"]) == pytest.approx(entry.recorded_at,
                                                                        abs=0.001)
        assert row["journal_recorded_at"].endswith("+08:00")


def test_csv_export_has_a_header_and_one_row_per_entry(journal: Journal) -> None:
    fill(journal)
    journal.close(debited(9, flags=(ReasonCode.CLASS_MISMATCH,)))
    stream = io.StringIO()
    assert write_csv(journal.entries(), stream) == 9
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert [r["transaction_id"] for r in rows] == [
        e.record.transaction_id for e in journal.entries()
    ]
    last = rows[-1]
    assert last["outcome"] == "debited" and int(last["amount_debited"]) == 4275
    assert last["flags"] == str(int(ReasonCode.CLASS_MISMATCH))
    assert last["recovered"] == "false" and last["tac_verified"] == ""
    assert rows[0]["flags"] == "" and rows[0]["journal_duplicate_of"] == ""


records = st.builds(
    debited,
    st.integers(min_value=0, max_value=5),
    outcome=st.sampled_from(Outcome),
    reason=st.sampled_from(ReasonCode),
    plate=st.text(max_size=12),
    detail=st.text(max_size=40),
    flags=st.lists(st.sampled_from(ReasonCode), max_size=3).map(tuple),
    tac_verified=st.none() | st.booleans(),
    recovered=st.booleans(),
    amount_debited=st.integers(min_value=0, max_value=2**32 - 1),
)


@settings(max_examples=60)
@given(records)
def test_codec_round_trip(record: TransactionRecord) -> None:
    text = record_to_json(record)
    assert record_from_json(text) == record
    assert json.loads(text) == record_to_dict(record)


def test_codec_takes_the_general_path_for_a_value_of_an_unexpected_type() -> None:
    record = debited(1, fee=4500.5, plate=None)
    text = record_to_json(record)
    assert json.loads(text) == record_to_dict(record) and record_from_json(text) == record


def test_codec_reads_rows_without_the_fields_that_have_defaults() -> None:
    data = record_to_dict(debited(1, detail="x", recovered=True))
    for later_field in ("detail", "recovered", "flags", "card_issuer_code"):
        del data[later_field]
    assert record_from_json(json.dumps(data)) == debited(1)
    del data["fee"]
    with pytest.raises(JournalError):
        record_from_json(json.dumps(data))


@settings(max_examples=30)
@given(st.lists(records, min_size=1, max_size=8))
def test_journal_round_trip_and_one_row_per_key(batch: list[TransactionRecord]) -> None:
    for journal in (SqliteJournal(), MemoryJournal()):
        check_one_row_per_key(journal, batch)
        journal.close_journal()


def check_one_row_per_key(journal: Journal, batch: list[TransactionRecord]) -> None:
    stored: dict[str, TransactionRecord] = {}
    for record in batch:
        result = journal.close(record)
        known = stored.get(record.idempotency_key)
        assert result.duplicate == (
            known is not None and not may_supersede(known.outcome, record.outcome)
        )
        if result.duplicate:
            assert result.record == stored[record.idempotency_key]
        else:
            assert result.record == record
            stored[record.idempotency_key] = record
    keys = [e.record.idempotency_key for e in journal.entries()]
    assert len(keys) == len(set(keys))
    for entry in journal.entries():
        assert stored[entry.record.idempotency_key] == entry.record
