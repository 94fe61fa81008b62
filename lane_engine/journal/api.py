"""What a journal offers the lane, the recovery and the publisher, and the values it returns.

`SqliteJournal` implements it on a file (durable) or on ":memory:"; `MemoryJournal` in plain
dicts (virtual-time simulator, benchmarks), with the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Protocol, Self

from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from protocols.frozen import fast_init

__all__ = [
    "CloseResult",
    "ClosedOnExit",
    "EntryState",
    "Journal",
    "JournalEntry",
    "JournalFilter",
    "OutboxEntry",
    "Scope",
    "may_supersede",
]


class EntryState(Enum):
    """Where a journaled transaction stands."""

    #: intent committed before C6; no outcome yet (a crash left it, or the lane is mid-purchase)
    OPEN = "open"
    #: settled with a final record (which may be UNRESOLVED, left for clearing)
    CLOSED = "closed"
    #: closed as a second transaction id for a debit already journaled under `duplicate_of`
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journaled transaction: its latest record and bookkeeping."""

    record: TransactionRecord
    state: EntryState
    opened_at: float  # journal clock (UNIX seconds) when the intent or refusal was written
    recorded_at: float  # journal clock when the current record was written
    duplicate_of: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class CloseResult:
    """What `close` did: `record` is the journaled record (the existing one for a duplicate)."""

    record: TransactionRecord
    duplicate: bool  # True: nothing was written, the debit was already closed
    outbox_seq: int | None  # the outbox entry written, None for a duplicate


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A closed record waiting to be published, numbered in commit order."""

    seq: int
    record: TransactionRecord


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """Selection for `entries`; every criterion given must hold. Times are journal-clock seconds."""

    since: float | None = None  # recorded_at >= since
    until: float | None = None  # recorded_at < until
    card_number: str | None = None
    outcome: Outcome | None = None
    reason: ReasonCode | None = None
    state: EntryState | None = None
    limit: int | None = None
    newest_first: bool = False


def may_supersede(stored: Outcome, new: Outcome) -> bool:
    """Our decision: a closed transaction is final, except that a record left UNRESOLVED may be
    replaced once by a definite outcome (recovery on the OBU's next pass, C8/B8). Any other second
    close of the same transaction or debit is a duplicate: nothing is written and the record
    already journaled is returned (first write wins, no error)."""
    return stored is Outcome.UNRESOLVED and new is not Outcome.UNRESOLVED


class Journal(Protocol):
    """The transaction journal of one or more lanes."""

    def open_intent(self, record: TransactionRecord) -> None:
        """Commit the intent (outcome UNRESOLVED) durably; call before sending C6."""

    def update_intent(
        self, transaction_id: str, *, ctc: int, terminal_trans_serial: int, **changes: Any
    ) -> TransactionRecord:
        """Record what an error B5 told about an open intent (CTC, terminal serial, ...)."""

    def close(self, record: TransactionRecord) -> CloseResult:
        """Commit the final record of a transaction; a second close of the same debit is a no-op."""

    def record_refusal(self, record: TransactionRecord) -> CloseResult:
        """Commit a refusal (outcome REFUSED, no intent before it)."""

    def open_intents(self) -> list[TransactionRecord]:
        """Intents never closed, oldest first: what start-up recovery must settle."""

    def resolve(self, transaction_id: str, outcome: Outcome, **changes: Any) -> CloseResult:
        """Close an open intent from recovery with `outcome` and the fields recovery learned."""

    def mark_unresolved_for_clearing(
        self, transaction_id: str, reason: ReasonCode | None = None
    ) -> CloseResult:
        """Close an open intent as UNRESOLVED, left for the clearing centre."""

    def outbox_batch(self, limit: int, *, after: int = 0) -> list[OutboxEntry]:
        """The oldest unpublished outbox entries (sequence numbers above `after`), in commit
        order."""

    def mark_published(self, up_to_seq: int | Sequence[int]) -> int:
        """Mark entries published (all up to a sequence number, or the given ones); return count."""

    def pending_count(self) -> int:
        """Outbox entries not yet published."""

    def batch(self) -> AbstractContextManager[None]:
        """Group commit: every operation inside commits together, durably, at the end."""

    def get(self, transaction_id: str) -> JournalEntry | None:
        """The journaled transaction with this id, or None."""

    def entries(self, selection: JournalFilter | None = None) -> Iterator[JournalEntry]:
        """Journaled transactions matching the filter, by time."""

    def counts(self) -> dict[tuple[Outcome, ReasonCode], int]:
        """Number of journaled transactions by (outcome, reason)."""

    def close_journal(self) -> None:
        """Release the database."""


class Scope(AbstractContextManager[None]):
    """A reusable context manager that calls `begin()` on entry and `end(failed)` on exit; the
    state is its owner's (a journal's `batch()`, the database's transactions)."""

    __slots__ = ("_begin", "_end")

    def __init__(self, begin: Callable[[], None], end: Callable[[bool], None]) -> None:
        self._begin = begin
        self._end = end

    def __enter__(self) -> None:
        self._begin()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end(exc_type is not None)


class ClosedOnExit:
    """For a journal class: `with journal:` closes it (`close_journal`) when the block ends."""

    __slots__ = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close_journal()

    def close_journal(self) -> None:
        """Release what the journal holds."""
        raise NotImplementedError
