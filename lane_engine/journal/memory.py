"""`MemoryJournal`: the `Journal` in dicts, for the virtual-time simulator, benchmarks and tests.

It keeps `SqliteJournal`'s behaviour (first write wins by idempotency key, `may_supersede`, open
intents, the outbox in commit order, `batch()` all or nothing) without serialising anything:
records are immutable and are kept as they are. Nothing survives the process.
"""

from __future__ import annotations

import itertools
import operator
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final

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
    Scope,
)
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
    "MemoryJournal",
]

# A journaled transaction: (record, state, opened_at, recorded_at, duplicate_of, rowid). Plain
# tuples, replaced whole on every write, are what makes a write cheap and a rollback simple.
_Row = tuple[TransactionRecord, EntryState, float, float, str | None, int]
_RECORD: Final = 0
_STATE: Final = 1
_OPENED: Final = 2
_RECORDED: Final = 3
_DUPLICATE_OF: Final = 4
_ROWID: Final = 5

_OPEN: Final = EntryState.OPEN
_CLOSED: Final = EntryState.CLOSED
_DUPLICATE: Final = EntryState.DUPLICATE
_MISSING: Final = object()

#: One undone change: the dict, the key, and the value it held before (or `_MISSING`).
_Undo = tuple[dict[Any, Any], Any, Any]


class MemoryJournal(ClosedOnExit):
    """The journal in memory. Every write is complete when it returns; inside `batch()` the
    writes are kept or undone together. Threads may share it; each operation or batch runs
    alone. Published outbox entries are dropped (nothing reads them back)."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rows: dict[str, _Row] = {}
        self._closed_keys: dict[str, str] = {}  # idempotency key -> id, of closed rows only
        self._open: dict[str, None] = {}  # ids of open intents
        self._pending: dict[int, TransactionRecord] = {}  # unpublished outbox, by seq
        self._last_seq = 0
        self._rowids = itertools.count(1)
        self._lock = threading.RLock()
        self._depth = 0
        self._undo: list[_Undo] | None = None
        self._seq_before_batch = 0
        self._batch = Scope(self._begin, self._end)

    def close_journal(self) -> None:
        """Nothing to release; the entries stay readable."""

    def batch(self) -> AbstractContextManager[None]:
        """Every operation inside is kept together, or undone together when the block raises;
        nests by joining the outermost batch."""
        return self._batch

    # -- writing -------------------------------------------------------------------------------

    def open_intent(self, record: TransactionRecord) -> None:
        """Record the intent (outcome UNRESOLVED); call before sending C6.

        Opening the same intent again is a no-op; a different one under a known id is an error.
        """
        check_intent(record)
        transaction_id = record.transaction_id
        with self._lock:
            row = self._rows.get(transaction_id)
            if row is not None:
                check_reopened_intent(record, row[_STATE], row[_RECORD])
                return
            now = self._clock()
            opened: _Row = (record, _OPEN, now, now, None, next(self._rowids))
            self._set(self._rows, transaction_id, opened)
            self._set(self._open, transaction_id, None)

    def update_intent(
        self, transaction_id: str, *, ctc: int, terminal_trans_serial: int, **changes: Any
    ) -> TransactionRecord:
        """Record what an error B5 told about an open intent (CTC, terminal serial, other fields);
        return the updated intent."""
        with self._lock:
            row = self._open_row(transaction_id)
            record = updated_intent(
                transaction_id, None if row is None else row[_RECORD], ctc=ctc,
                terminal_trans_serial=terminal_trans_serial, changes=changes,
            )
            assert row is not None  # updated_intent refuses a missing intent
            updated = (record, _OPEN, row[_OPENED], self._clock(), None, row[_ROWID])
            self._set(self._rows, transaction_id, updated)
        return record

    def close(self, record: TransactionRecord) -> CloseResult:
        """Record the final record of a transaction and queue it in the outbox; a duplicate
        writes nothing and returns the record already journaled (see `may_supersede`)."""
        transaction_id = record.transaction_id
        key = record.idempotency_key
        with self._lock:
            row = self._rows.get(transaction_id)
            stored = (
                None if row is None else (row[_STATE], row[_RECORD].outcome, row[_DUPLICATE_OF])
            )
            decision = decide_close(record, stored, self._closed_keys.get(key))
            if decision.mark_twin and row is not None:
                # The debit is already journaled under another id: settle this one as its twin.
                self._leave_state(transaction_id, row)
                twin: _Row = (
                    row[_RECORD],
                    _DUPLICATE,
                    row[_OPENED],
                    self._clock(),
                    decision.reply_with,
                    row[_ROWID],
                )
                self._set(self._rows, transaction_id, twin)
            if decision.reply_with is not None:
                return self._duplicate(decision.reply_with)
            now = self._clock()
            if row is None:
                closed: _Row = (record, _CLOSED, now, now, None, next(self._rowids))
            else:
                self._leave_state(transaction_id, row)
                closed = (record, _CLOSED, row[_OPENED], now, None, row[_ROWID])
            self._set(self._rows, transaction_id, closed)
            self._set(self._closed_keys, key, transaction_id)
            self._last_seq = seq = self._last_seq + 1
            self._set(self._pending, seq, record)
        return CloseResult(record, False, seq)

    def record_refusal(self, record: TransactionRecord) -> CloseResult:
        """Record a refusal (outcome REFUSED, no intent before it) and queue it in the outbox."""
        check_refusal(record)
        return self.close(record)

    def resolve(self, transaction_id: str, outcome: Outcome, **changes: Any) -> CloseResult:
        """Close an open intent from recovery with `outcome` and the fields recovery learned
        (TAC, balance after, ...); the record is marked `recovered`."""
        with self._lock:
            row = self._open_row(transaction_id)
            intent = None if row is None else row[_RECORD]
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
        with self._lock:
            rows = [self._rows[transaction_id] for transaction_id in self._open]
        rows.sort(key=lambda row: (row[_OPENED], row[_ROWID]))
        return [row[_RECORD] for row in rows]

    def outbox_batch(self, limit: int, *, after: int = 0) -> list[OutboxEntry]:
        """The oldest unpublished outbox entries (sequence numbers above `after`), in commit
        order (a negative limit: all)."""
        with self._lock:
            pending: Iterable[tuple[int, TransactionRecord]] = self._pending.items()
            if after:
                pending = ((seq, record) for seq, record in pending if seq > after)
            chosen = pending if limit < 0 else itertools.islice(pending, limit)
            return [OutboxEntry(seq, record) for seq, record in chosen]

    def mark_published(self, up_to_seq: int | Sequence[int]) -> int:
        """Mark entries published (all up to a sequence number, or the given ones); return count."""
        with self._lock:
            pending = self._pending
            if isinstance(up_to_seq, int):
                chosen = list(itertools.takewhile(lambda seq: seq <= up_to_seq, pending))
            else:
                chosen = [seq for seq in dict.fromkeys(up_to_seq) if seq in pending]
            for seq in chosen:
                self._pop(pending, seq)
            return len(chosen)

    def pending_count(self) -> int:
        """Outbox entries not yet published."""
        return len(self._pending)

    # -- queries -------------------------------------------------------------------------------

    def get(self, transaction_id: str) -> JournalEntry | None:
        """The journaled transaction with this id, or None."""
        row = self._rows.get(transaction_id)
        return None if row is None else _entry(row)

    def entries(self, selection: JournalFilter | None = None) -> Iterator[JournalEntry]:
        """Journaled transactions matching the filter, ordered by the time they were recorded."""
        selection = selection or JournalFilter()
        matches = _matcher(selection)
        with self._lock:
            rows = [row for row in self._rows.values() if matches(row)]
        rows.sort(key=lambda row: (row[_RECORDED], row[_ROWID]), reverse=selection.newest_first)
        if selection.limit is not None and selection.limit >= 0:
            del rows[selection.limit :]
        for row in rows:
            yield _entry(row)

    def counts(self) -> dict[tuple[Outcome, ReasonCode], int]:
        """Number of journaled transactions by (outcome, reason) (open intents count as
        UNRESOLVED; duplicates are not counted)."""
        with self._lock:
            found = Counter(
                (row[_RECORD].outcome, row[_RECORD].reason)
                for row in self._rows.values()
                if row[_STATE] is not _DUPLICATE
            )
        return dict(sorted(found.items(), key=lambda item: (item[0][0].value, item[0][1])))

    # -- internals -----------------------------------------------------------------------------

    def _open_row(self, transaction_id: str) -> _Row | None:
        row = self._rows.get(transaction_id)
        return row if row is not None and row[_STATE] is _OPEN else None

    def _leave_state(self, transaction_id: str, row: _Row) -> None:
        """Drop the index entries that `row`'s current state holds (before it changes)."""
        if row[_STATE] is _OPEN:
            self._pop(self._open, transaction_id)
        elif row[_STATE] is _CLOSED:
            key = row[_RECORD].idempotency_key
            if self._closed_keys.get(key) == transaction_id:
                self._pop(self._closed_keys, key)

    def _duplicate(self, transaction_id: str) -> CloseResult:
        """The reply to a duplicate close: the record journaled under `transaction_id`."""
        row = self._rows.get(transaction_id)
        if row is None:
            raise JournalError(f"journal lost transaction {transaction_id}")
        return CloseResult(row[_RECORD], True, None)

    def _set(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        if self._undo is not None:
            self._undo.append((mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def _pop(self, mapping: dict[Any, Any], key: Any) -> None:
        old = mapping.pop(key)
        if self._undo is not None:
            self._undo.append((mapping, key, old))

    def _begin(self) -> None:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._undo = []
            self._seq_before_batch = self._last_seq

    def _end(self, failed: bool) -> None:
        try:
            self._depth -= 1
            if self._depth:
                return
            undo, self._undo = self._undo or [], None
            if failed:
                self._roll_back(undo)
        finally:
            self._lock.release()

    def _roll_back(self, undo: list[_Undo]) -> None:
        for mapping, key, old in reversed(undo):
            if old is _MISSING:
                del mapping[key]
            else:
                mapping[key] = old
        # Restored outbox entries went to the end of the dict: put them back in seq order.
        self._pending = dict(sorted(self._pending.items()))
        self._last_seq = self._seq_before_batch


def _entry(row: _Row) -> JournalEntry:
    return JournalEntry(row[_RECORD], row[_STATE], row[_OPENED], row[_RECORDED], row[_DUPLICATE_OF])


#: How `_matcher` reads each column of `filter_criteria` from a row.
_COLUMNS: Final[dict[str, Callable[[_Row], Any]]] = {
    "recorded_at": lambda row: row[_RECORDED],
    "card_number": lambda row: row[_RECORD].card_number,
    "outcome": lambda row: row[_RECORD].outcome,
    "reason": lambda row: row[_RECORD].reason,
    "state": lambda row: row[_STATE],
}
_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    ">=": operator.ge, "<": operator.lt, "=": operator.eq,
}


def _matcher(selection: JournalFilter) -> Callable[[_Row], bool]:
    """A test of one row for every criterion of `selection` (the SQL WHERE of `SqliteJournal`)."""
    tests = [
        (_COLUMNS[column], _COMPARISONS[op], value)
        for column, op, value in filter_criteria(selection)
    ]
    return lambda row: all(compare(read(row), value) for read, compare, value in tests)


if TYPE_CHECKING:

    def _implements_the_protocol(journal: MemoryJournal) -> Journal:
        return journal  # mypy checks that MemoryJournal is a Journal
