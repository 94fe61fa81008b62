"""`SqliteJournal`: intents, closes, refusals, recovery and the outbox, on the journal database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.errors import JournalError
from lane_engine.journal.api import (
    ClosedOnExit,
    CloseResult,
    EntryState,
    Journal,
    JournalEntry,
    JournalFilter,
    OutboxEntry,
    may_supersede,
)
from lane_engine.journal.codec import record_from_json, record_to_json
from lane_engine.journal.database import MEMORY, Database
from lane_engine.journal.rules import (
    check_intent,
    check_refusal,
    check_reopened_intent,
    decide_close,
    filter_criteria,
    resolved_record,
    updated_intent,
)

__all__ = [
    "SqliteJournal",
]

_ENTRY_COLUMNS = "record, state, opened_at, recorded_at, duplicate_of"

# The statements of the common path, kept constant so that sqlite3's statement cache reuses them.
# A conflict on the primary key or on the one-debit index sends a write to the checked path.
_INSERT_INTENT = (
    "INSERT INTO transactions (transaction_id, state, outcome, reason, card_number,"
    " idempotency_key, opened_at, recorded_at, record) VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (transaction_id) DO NOTHING"
)
_INSERT_CLOSED = (
    "INSERT INTO transactions (transaction_id, state, outcome, reason, card_number,"
    " idempotency_key, opened_at, recorded_at, record) VALUES (?, 'closed', ?, ?, ?, ?, ?, ?, ?)"
)
# Leaves card_number alone (see the schema); a close for another card takes the checked path.
_CLOSE_INTENT = (
    "UPDATE transactions SET state = 'closed', outcome = ?, reason = ?, idempotency_key = ?,"
    " recorded_at = ?, record = ? WHERE transaction_id = ? AND state = 'open' AND card_number = ?"
)
_CLOSE_ROW = (
    "UPDATE transactions SET state = 'closed', outcome = ?, reason = ?, card_number = ?,"
    " idempotency_key = ?, recorded_at = ?, record = ? WHERE transaction_id = ?"
)
_INSERT_OUTBOX = "INSERT INTO outbox (transaction_id, record) VALUES (?, ?)"

#: Outcomes whose record may later be replaced in its row (see `may_supersede`): their outbox
#: entry keeps a copy; any other entry reads the record from the row.
_REPLACEABLE = frozenset(o for o in Outcome if any(may_supersede(o, new) for new in Outcome))


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    record_json, state, opened_at, recorded_at, duplicate_of = row
    return JournalEntry(
        record=record_from_json(record_json),
        state=EntryState(state),
        opened_at=float(opened_at),
        recorded_at=float(recorded_at),
        duplicate_of=duplicate_of,
    )


class SqliteJournal(ClosedOnExit):
    """The journal on an SQLite file (WAL, synchronous=FULL) or on ":memory:".

    Every public write commits before it returns, unless it runs inside `batch()`, which commits
    once at the end. Threads may share it; each operation or batch runs alone. With
    `create=False` the journal must exist: a missing or empty file is refused, untouched. An
    existing journal passes SQLite's quick check first (`check=False` skips it, for the one
    command that reports what is wrong: `lane-engine journal check`); a damaged one is refused
    with the same message wherever it is opened.
    """

    def __init__(
        self,
        path: str | Path = MEMORY,
        *,
        clock: Callable[[], float] = time.time,
        create: bool = True,
        check: bool = True,
    ) -> None:
        self._db = Database(path, create=create, check=check)
        self._clock = clock

    @property
    def path(self) -> str:
        """The database file, or ":memory:"."""
        return self._db.path

    def close_journal(self) -> None:
        """Release the database."""
        self._db.close()

    def batch(self) -> AbstractContextManager[None]:
        """Group commit: every operation inside commits together, durably, at the end; an intent
        written inside is durable (C6 may be sent) only once the batch has exited."""
        return self._db.transaction()

    def integrity_check(self) -> list[str]:
        """SQLite's integrity check: ["ok"] for a sound file."""
        return self._db.integrity_check()

    # -- writing -------------------------------------------------------------------------------

    def open_intent(self, record: TransactionRecord) -> None:
        """Commit the intent (outcome UNRESOLVED) durably; call before sending C6.

        Opening the same intent again is a no-op; a different one under a known id is an error.
        """
        check_intent(record)
        now = self._clock()
        # One statement, so outside a batch it commits on its own: no BEGIN/COMMIT round trip.
        row = (*_keys(record), now, now, record_to_json(record))
        if self._db.change(_INSERT_INTENT, row) == 1:
            return
        stored = self._stored(record.transaction_id)
        if stored is None:
            check_reopened_intent(record, None, None)
        else:
            check_reopened_intent(record, stored.state, stored.record)

    def update_intent(
        self, transaction_id: str, *, ctc: int, terminal_trans_serial: int, **changes: Any
    ) -> TransactionRecord:
        """Record what an error B5 told about an open intent (CTC, terminal serial, other fields);
        return the updated intent."""
        with self._db.transaction():
            record = updated_intent(
                transaction_id, self._open_intent(transaction_id), ctc=ctc,
                terminal_trans_serial=terminal_trans_serial, changes=changes,
            )
            self._db.write(
                "UPDATE transactions SET outcome = ?, reason = ?, card_number = ?,"
                " idempotency_key = ?, recorded_at = ?, record = ? WHERE transaction_id = ?",
                (*_keys(record)[1:], self._clock(), record_to_json(record), transaction_id),
            )
        return record

    def close(self, record: TransactionRecord) -> CloseResult:
        """Commit the final record of a transaction and queue it in the outbox.

        A duplicate (same transaction closed again, or the same debit closed under another
        transaction id) writes nothing and returns the record already journaled; see
        `may_supersede` for the one exception.
        """
        return self._close(record, intent_expected=True)

    def _close(self, record: TransactionRecord, *, intent_expected: bool) -> CloseResult:
        now = self._clock()
        text = record_to_json(record)
        keys = _keys(record)
        db = self._db
        with db.transaction():
            # Common path: close the open intent, or insert a row for a transaction never seen;
            # the primary key and the one-debit index refuse every other case, which is checked.
            if intent_expected:
                transaction_id, outcome, reason, card, key = keys
                changed = db.change(
                    _CLOSE_INTENT, (outcome, reason, key, now, text, transaction_id, card)
                )
                if changed == 0:
                    changed = db.change(_INSERT_CLOSED, (*keys, now, now, text))
            else:
                changed = db.change(_INSERT_CLOSED, (*keys, now, now, text))
            if changed == 1:
                return CloseResult(record, False, self._queue(record, text))
            return self._close_checked(record, text, now)

    def _close_checked(self, record: TransactionRecord, text: str, now: float) -> CloseResult:
        """`close` for a transaction already journaled or a debit already closed."""
        status = self._status(record.transaction_id)
        decision = decide_close(record, status, self._closed_holder(record.idempotency_key))
        if decision.mark_twin and status is not None:
            # The debit is already journaled under another id: settle this one as its twin.
            self._db.write(
                "UPDATE transactions SET state = 'duplicate', duplicate_of = ?,"
                " recorded_at = ? WHERE transaction_id = ?",
                (decision.reply_with, now, record.transaction_id),
            )
        if decision.reply_with is not None:
            return self._duplicate(decision.reply_with)
        if status is None:
            raise JournalError(f"journal refused transaction {record.transaction_id}")
        self._db.write(_CLOSE_ROW, (*_keys(record)[1:], now, text, record.transaction_id))
        return CloseResult(record, False, self._queue(record, text))

    def _queue(self, record: TransactionRecord, text: str) -> int:
        """Add the closed record to the outbox; return its sequence number."""
        copy = text if record.outcome in _REPLACEABLE else None
        return self._db.write(_INSERT_OUTBOX, (record.transaction_id, copy))

    def record_refusal(self, record: TransactionRecord) -> CloseResult:
        """Commit a refusal (outcome REFUSED, no intent before it) and queue it in the outbox."""
        check_refusal(record)
        return self._close(record, intent_expected=False)

    def resolve(self, transaction_id: str, outcome: Outcome, **changes: Any) -> CloseResult:
        """Close an open intent from recovery with `outcome` and the fields recovery learned
        (TAC, balance after, ...); the record is marked `recovered`."""
        with self._db.transaction():
            intent = self._open_intent(transaction_id)
            return self.close(resolved_record(transaction_id, intent, outcome, changes))

    def mark_unresolved_for_clearing(
        self, transaction_id: str, reason: ReasonCode | None = None
    ) -> CloseResult:
        """Close an open intent as UNRESOLVED, left for the clearing centre."""
        changes: dict[str, Any] = {} if reason is None else {"reason": reason}
        return self.resolve(transaction_id, Outcome.UNRESOLVED, **changes)

    # -- recovery and outbox -------------------------------------------------------------------

    def open_intents(self) -> list[TransactionRecord]:
        """Intents never closed, oldest first: what start-up recovery must settle."""
        rows = self._db.rows(
            "SELECT record FROM transactions WHERE state = 'open' ORDER BY opened_at, rowid"
        )
        return [record_from_json(text) for (text,) in rows]

    def outbox_batch(self, limit: int, *, after: int = 0) -> list[OutboxEntry]:
        """The oldest unpublished outbox entries (sequence numbers above `after`), in commit
        order."""
        rows = self._db.rows(
            "SELECT o.seq, coalesce(o.record, t.record) FROM outbox AS o"
            " JOIN transactions AS t USING (transaction_id)"
            " WHERE o.published = 0 AND o.seq > ? ORDER BY o.seq LIMIT ?",
            (after, limit),
        )
        return [OutboxEntry(seq, record_from_json(text)) for seq, text in rows]

    def mark_published(self, up_to_seq: int | Sequence[int]) -> int:
        """Mark entries published (all up to a sequence number, or the given ones); return count."""
        if isinstance(up_to_seq, int):
            return self._db.change(
                "UPDATE outbox SET published = 1 WHERE published = 0 AND seq <= ?", (up_to_seq,)
            )
        return self._db.change_many(
            "UPDATE outbox SET published = 1 WHERE seq = ? AND published = 0",
            [(seq,) for seq in up_to_seq],
        )

    def pending_count(self) -> int:
        """Outbox entries not yet published."""
        row = self._db.row("SELECT count(*) FROM outbox WHERE published = 0")
        return int(row[0]) if row else 0

    # -- queries -------------------------------------------------------------------------------

    def get(self, transaction_id: str) -> JournalEntry | None:
        """The journaled transaction with this id, or None."""
        return self._stored(transaction_id)

    def entries(self, selection: JournalFilter | None = None) -> Iterator[JournalEntry]:
        """Journaled transactions matching the filter, ordered by the time they were recorded."""
        selection = selection or JournalFilter()
        clauses, params = _where(selection)
        order = "DESC" if selection.newest_first else "ASC"
        sql = f"SELECT {_ENTRY_COLUMNS} FROM transactions{clauses}"
        sql += f" ORDER BY recorded_at {order}, rowid {order}"
        if selection.limit is not None:
            sql += " LIMIT ?"
            params.append(selection.limit)
        for row in self._db.rows(sql, params):
            yield _entry(row)

    def counts(self) -> dict[tuple[Outcome, ReasonCode], int]:
        """Number of journaled transactions by (outcome, reason) (open intents count as
        UNRESOLVED; duplicates are not counted)."""
        rows = self._db.rows(
            "SELECT outcome, reason, count(*) FROM transactions WHERE state != 'duplicate'"
            " GROUP BY outcome, reason ORDER BY outcome, reason"
        )
        try:
            return {(Outcome(o), ReasonCode(r)): int(n) for o, r, n in rows}
        except ValueError as exc:
            raise JournalError(f"journal holds an unknown outcome or reason: {exc}") from exc

    def _stored(self, transaction_id: str) -> JournalEntry | None:
        row = self._db.row(
            f"SELECT {_ENTRY_COLUMNS} FROM transactions WHERE transaction_id = ?",
            (transaction_id,),
        )
        return None if row is None else _entry(row)

    def _open_intent(self, transaction_id: str) -> TransactionRecord | None:
        stored = self._stored(transaction_id)
        return stored.record if stored is not None and stored.state is EntryState.OPEN else None

    def _closed_holder(self, key: str) -> str | None:
        """The transaction id of the closed row holding this idempotency key, if any."""
        row = self._db.row(
            "SELECT transaction_id FROM transactions"
            " WHERE idempotency_key = ? AND state = 'closed'",
            (key,),
        )
        return None if row is None else str(row[0])

    def _status(self, transaction_id: str) -> tuple[EntryState, Outcome, str | None] | None:
        row = self._db.row(
            "SELECT state, outcome, duplicate_of FROM transactions WHERE transaction_id = ?",
            (transaction_id,),
        )
        return None if row is None else (EntryState(row[0]), Outcome(row[1]), row[2])

    def _duplicate(self, transaction_id: str) -> CloseResult:
        """The reply to a duplicate close: the record journaled under `transaction_id`."""
        stored = self._stored(transaction_id)
        if stored is None:
            raise JournalError(f"journal lost transaction {transaction_id}")
        return CloseResult(stored.record, True, None)


def _keys(record: TransactionRecord) -> tuple[str, str, int, str, str]:
    """The indexed copies of a record's key fields, in column order."""
    return (
        record.transaction_id,
        record.outcome.value,
        int(record.reason),
        record.card_number,
        record.idempotency_key,
    )


def _where(selection: JournalFilter) -> tuple[str, list[Any]]:
    """The SQL WHERE of `filter_criteria`, values as the columns hold them."""
    criteria = filter_criteria(selection)
    clauses = [f"{column} {op} ?" for column, op, _ in criteria]
    params: list[Any] = [_column_value(value) for _, _, value in criteria]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _column_value(value: Any) -> Any:
    """A filter value as its column stores it: enums by value, reason codes as numbers."""
    if isinstance(value, ReasonCode):
        return int(value)
    return value.value if isinstance(value, Enum) else value


if TYPE_CHECKING:

    def _implements_the_protocol(journal: SqliteJournal) -> Journal:
        return journal  # mypy checks that SqliteJournal is a Journal
