"""Intents, closes, refusals, idempotency, recovery, the outbox and group commit."""

from __future__ import annotations

import dataclasses
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from journal_records import debited, intent, refusal
from journals import StepClock, open_journal

from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.errors import JournalError
from lane_engine.journal import EntryState, Journal, JournalFilter, SqliteJournal
from lane_engine.journal.codec import record_to_json
from lane_engine.journal.schema import APPLICATION_ID, SCHEMA_VERSION


def test_intent_is_listed_until_closed(journal: Journal) -> None:
    journal.open_intent(intent(1))
    journal.open_intent(intent(2))
    assert [r.transaction_id for r in journal.open_intents()] == ["L01-000001", "L01-000002"]
    result = journal.close(debited(1))
    assert not result.duplicate and result.record == debited(1)
    assert [r.transaction_id for r in journal.open_intents()] == ["L01-000002"]
    entry = journal.get("L01-000001")
    assert entry is not None and entry.state is EntryState.CLOSED and entry.record == debited(1)


def test_intent_must_be_unresolved(journal: Journal) -> None:
    with pytest.raises(JournalError):
        journal.open_intent(debited(1))


def test_reopening_the_same_intent_is_a_no_op_but_a_different_one_is_refused(
    journal: Journal,
) -> None:
    journal.open_intent(intent(1))
    journal.open_intent(intent(1))
    assert len(journal.open_intents()) == 1
    with pytest.raises(JournalError):
        journal.open_intent(intent(1, plate="鲁B00000"))
    journal.close(debited(1))
    with pytest.raises(JournalError):
        journal.open_intent(intent(1))


def test_closing_the_same_debit_twice_writes_once(journal: Journal) -> None:
    journal.open_intent(intent(1))
    first = journal.close(debited(1))
    again = journal.close(debited(1, detail="retransmitted B5"))
    assert again.duplicate and again.outbox_seq is None
    assert again.record == first.record  # first write wins
    assert len(list(journal.entries())) == 1
    assert [e.seq for e in journal.outbox_batch(10)] == [first.outbox_seq]


def test_the_same_debit_under_a_second_transaction_id_is_a_duplicate(
    journal: Journal,
) -> None:
    journal.open_intent(intent(1))
    journal.close(debited(1))
    twin_id = "L01-999999"
    journal.open_intent(intent(1, transaction_id=twin_id))
    result = journal.close(debited(1, transaction_id=twin_id, recovered=True))
    assert result.duplicate and result.record.transaction_id == "L01-000001"
    twin = journal.get(twin_id)
    assert twin is not None and twin.state is EntryState.DUPLICATE
    assert twin.duplicate_of == "L01-000001"
    assert journal.open_intents() == []
    debits = list(journal.entries(JournalFilter(outcome=Outcome.DEBITED)))
    assert len(debits) == 1
    assert journal.counts() == {(Outcome.DEBITED, ReasonCode.OK): 1}
    assert journal.close(debited(1, transaction_id=twin_id)).duplicate


def test_a_close_may_name_another_card_than_its_intent(journal: Journal) -> None:
    journal.open_intent(intent(1))
    other_card = debited(1, card_number="37019999999999999999")
    assert not journal.close(other_card).duplicate
    entry = journal.get("L01-000001")
    assert entry is not None and entry.state is EntryState.CLOSED and entry.record == other_card
    by_card = journal.entries(JournalFilter(card_number=other_card.card_number))
    assert [e.record for e in by_card] == [other_card]
    assert list(journal.entries(JournalFilter(card_number=intent(1).card_number))) == []
    assert journal.open_intents() == []


def test_update_intent_records_ctc_from_an_error_b5(journal: Journal) -> None:
    journal.open_intent(intent(1))
    updated = journal.update_intent(
        "L01-000001", ctc=101, terminal_trans_serial=5001, detail="B5 10"
    )
    assert (updated.ctc, updated.terminal_trans_serial, updated.detail) == (101, 5001, "B5 10")
    assert journal.open_intents() == [updated]
    assert updated.idempotency_key == debited(1).idempotency_key


def test_update_intent_refuses_closed_unknown_and_bad_fields(journal: Journal) -> None:
    with pytest.raises(JournalError):
        journal.update_intent("nope", ctc=1, terminal_trans_serial=1)
    journal.open_intent(intent(1))
    with pytest.raises(JournalError):
        journal.update_intent("L01-000001", ctc=1, terminal_trans_serial=1, no_such_field=3)
    with pytest.raises(JournalError):
        journal.update_intent("L01-000001", ctc=1, terminal_trans_serial=1, outcome=Outcome.DEBITED)
    journal.close(debited(1))
    with pytest.raises(JournalError):
        journal.update_intent("L01-000001", ctc=1, terminal_trans_serial=1)


def test_recovery_resolves_open_intents(journal: Journal) -> None:
    for n in (1, 2, 3):
        journal.open_intent(intent(n))
    journal.update_intent("L01-000002", ctc=102, terminal_trans_serial=5002)
    debit = journal.resolve("L01-000002", Outcome.DEBITED, tac="CAFEBABE", amount_debited=4275)
    assert debit.record.recovered and debit.record.ctc == 102 and debit.record.tac == "CAFEBABE"
    journal.resolve("L01-000001", Outcome.NOT_DEBITED, reason=ReasonCode.PURCHASE_FAILED)
    left = journal.mark_unresolved_for_clearing("L01-000003", ReasonCode.RADIO_LOST)
    assert left.record.outcome is Outcome.UNRESOLVED and left.record.reason is ReasonCode.RADIO_LOST
    assert journal.open_intents() == []
    outcomes = [e.record.outcome for e in journal.outbox_batch(10)]
    assert outcomes == [Outcome.DEBITED, Outcome.NOT_DEBITED, Outcome.UNRESOLVED]
    with pytest.raises(JournalError):
        journal.resolve("L01-000003", Outcome.DEBITED)


def test_unresolved_may_later_be_settled_once(journal: Journal) -> None:
    journal.open_intent(intent(1))
    journal.mark_unresolved_for_clearing("L01-000001")
    settled = journal.close(debited(1, recovered=True))
    assert not settled.duplicate
    assert journal.close(debited(1, outcome=Outcome.NOT_DEBITED)).duplicate
    entry = journal.get("L01-000001")
    assert entry is not None and entry.record.outcome is Outcome.DEBITED
    assert [e.record.outcome for e in journal.outbox_batch(10)] == [
        Outcome.UNRESOLVED,
        Outcome.DEBITED,
    ]


def test_refusals_need_no_intent_and_are_idempotent(journal: Journal) -> None:
    first = journal.record_refusal(refusal(1))
    assert not first.duplicate
    assert journal.record_refusal(refusal(1)).duplicate
    assert journal.open_intents() == []
    with pytest.raises(JournalError):
        journal.record_refusal(debited(2))


def test_outbox_is_in_commit_order_and_drains(journal: Journal) -> None:
    order = []
    for n in range(1, 8):
        if n % 3 == 0:
            journal.record_refusal(refusal(n))
            order.append(f"L01-R{n:05d}")
        else:
            journal.open_intent(intent(n))
            journal.close(debited(n))
            order.append(f"L01-{n:06d}")
    first = journal.outbox_batch(4)
    assert [e.record.transaction_id for e in first] == order[:4]
    assert [e.seq for e in first] == sorted(e.seq for e in first)
    assert journal.mark_published(first[-1].seq) == 4
    rest = journal.outbox_batch(100)
    assert [e.record.transaction_id for e in rest] == order[4:]
    assert journal.mark_published([rest[1].seq]) == 1
    assert [e.seq for e in journal.outbox_batch(100)] == [rest[0].seq, rest[2].seq]
    assert journal.mark_published(10**9) == 2
    assert journal.outbox_batch(100) == []


def test_outbox_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with SqliteJournal(path) as journal:
        for n in range(1, 4):
            journal.record_refusal(refusal(n))
        journal.mark_published(journal.outbox_batch(1)[0].seq)
    with SqliteJournal(path) as journal:
        assert [e.record.transaction_id for e in journal.outbox_batch(10)] == [
            "L01-R00002",
            "L01-R00003",
        ]


def test_batch_commits_together_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with SqliteJournal(path) as journal:
        with journal.batch():
            for n in range(1, 4):
                journal.open_intent(intent(n))
                journal.close(debited(n))
            assert journal.close(debited(2)).duplicate
        with pytest.raises(RuntimeError), journal.batch():
            journal.open_intent(intent(9))
            raise RuntimeError("lane failed mid-batch")
        assert journal.get("L01-000009") is None
    with SqliteJournal(path) as journal:
        assert len(list(journal.entries())) == 3
        assert len(journal.outbox_batch(10)) == 3


def test_a_failed_write_inside_a_batch_rolls_the_batch_back(journal: Journal) -> None:
    with pytest.raises(JournalError), journal.batch():
        journal.open_intent(intent(1))
        journal.open_intent(intent(1, plate="other"))
    assert journal.get("L01-000001") is None


def test_fields_added_to_the_record_are_kept(journal: Journal) -> None:
    record = debited(1, flags=(ReasonCode.CLASS_MISMATCH,), tac_verified=False, detail="x")
    journal.close(record)
    entry = journal.get("L01-000001")
    assert entry is not None and entry.record == record
    assert journal.outbox_batch(1)[0].record == record


def test_rows_written_before_a_field_existed_read_back_with_its_default(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with SqliteJournal(path) as journal:
        journal.close(debited(1))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE transactions SET record = json_remove(record, '$.detail')")
    conn.close()
    with SqliteJournal(path) as journal:
        entry = journal.get("L01-000001")
        assert entry is not None and entry.record == dataclasses.replace(debited(1), detail="")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    SqliteJournal(path).close_journal()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        SqliteJournal(path)


#: The tables as version 1 of the journal created them.
SCHEMA_1 = """
CREATE TABLE transactions (
    transaction_id TEXT PRIMARY KEY, state TEXT NOT NULL, outcome TEXT NOT NULL,
    reason INTEGER NOT NULL, card_number TEXT NOT NULL, idempotency_key TEXT NOT NULL,
    duplicate_of TEXT, opened_at REAL NOT NULL, recorded_at REAL NOT NULL, record TEXT NOT NULL);
CREATE UNIQUE INDEX transactions_one_debit ON transactions (idempotency_key)
    WHERE state = 'closed';
CREATE INDEX transactions_by_time ON transactions (recorded_at);
CREATE INDEX transactions_by_card ON transactions (card_number, recorded_at);
CREATE INDEX transactions_by_outcome ON transactions (outcome, reason);
CREATE INDEX transactions_open ON transactions (opened_at) WHERE state = 'open';
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, transaction_id TEXT NOT NULL,
    record TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published = 0;
"""


def test_a_version_1_journal_is_migrated_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    row = "INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_1 + f"PRAGMA application_id = {APPLICATION_ID};")
        conn.execute("PRAGMA user_version = 1")
        for record, state, at in ((debited(1), "closed", 10.0), (intent(2), "open", 20.0)):
            key = record.idempotency_key
            conn.execute(row, (record.transaction_id, state, record.outcome.value, 0,
                               record.card_number, key, at, at, record_to_json(record)))
        conn.execute("INSERT INTO outbox (transaction_id, record) VALUES (?, ?)",
                     (debited(1).transaction_id, record_to_json(debited(1))))
    conn.close()
    with SqliteJournal(path, clock=StepClock()) as journal:
        assert [e.record for e in journal.entries()] == [debited(1), intent(2)]
        assert [e.record for e in journal.outbox_batch(10)] == [debited(1)]
        assert journal.close(debited(2)).outbox_seq == 2
        assert [e.record for e in journal.outbox_batch(10)] == [debited(1), debited(2)]
        assert journal.integrity_check() == ["ok"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = conn.execute("PRAGMA index_info(transactions_by_card)").fetchall()
        assert [c[2] for c in columns] == ["card_number"]
        outbox = {c[1]: c[3] for c in conn.execute("PRAGMA table_info(outbox)")}
        assert outbox["record"] == 0  # NOT NULL dropped
    conn.close()


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(JournalError, match="not a lane journal"):
        SqliteJournal(other)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalError):
        SqliteJournal(garbage)
    with pytest.raises(JournalError, match="not found"):
        SqliteJournal(tmp_path / "missing.sqlite3", create=False)


def test_durable_journal_uses_wal_and_full_sync(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with SqliteJournal(path) as journal:
        journal.record_refusal(refusal(1))
        assert journal.integrity_check() == ["ok"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.parametrize("kind", ["sqlite-file", "memory"])
def test_lanes_on_worker_threads_share_one_journal(tmp_path: Path, kind: str) -> None:
    lanes = 8
    journal = open_journal(kind, tmp_path)

    def lane(number: int) -> None:
        for n in range(number * 100, number * 100 + 10):
            with journal.batch():
                journal.open_intent(intent(n))
            journal.close(debited(n))

    try:
        with ThreadPoolExecutor(max_workers=lanes) as pool:
            list(pool.map(lane, range(lanes)))
        assert journal.open_intents() == []
        outbox = journal.outbox_batch(1000)
        assert len(outbox) == lanes * 10
        assert [e.seq for e in outbox] == sorted({e.seq for e in outbox})
        if isinstance(journal, SqliteJournal):
            assert journal.integrity_check() == ["ok"]
    finally:
        journal.close_journal()
