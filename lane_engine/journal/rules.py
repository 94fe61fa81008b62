"""The rules both journals (`SqliteJournal`, `MemoryJournal`) apply alike: which records an
intent or refusal must be, what opening, updating and resolving an intent make of the stored one,
what a close does to a transaction already journaled, and what a `JournalFilter` selects.

Each journal looks up what it holds its own way and hands it to these functions; they decide and
raise `JournalError`, and never read or write the journal themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lane_engine.core.outcomes import Outcome, TransactionRecord
from lane_engine.errors import JournalError
from lane_engine.journal.api import EntryState, JournalFilter, may_supersede

__all__ = [
    "CloseDecision",
    "Stored",
    "check_intent",
    "check_refusal",
    "check_reopened_intent",
    "decide_close",
    "filter_criteria",
    "resolved_record",
    "updated_intent",
]

#: What a journal holds of a transaction for `decide_close`: (state, outcome, duplicate_of).
Stored = tuple[EntryState, Outcome, str | None]


def check_intent(record: TransactionRecord) -> None:
    """An intent is journaled with outcome UNRESOLVED."""
    if record.outcome is not Outcome.UNRESOLVED:
        raise JournalError(f"intent {record.transaction_id} must be UNRESOLVED")


def check_refusal(record: TransactionRecord) -> None:
    """A refusal is journaled with outcome REFUSED."""
    if record.outcome is not Outcome.REFUSED:
        raise JournalError(f"refusal {record.transaction_id} must have outcome REFUSED")


def check_reopened_intent(record: TransactionRecord, state: EntryState | None,
                          stored: TransactionRecord | None) -> None:
    """Opening an intent under an id already journaled (`state`, `stored`; None where the
    journal holds nothing): a no-op for the same open intent, an error otherwise."""
    if state is EntryState.OPEN and stored == record:
        return
    raise JournalError(f"transaction {record.transaction_id} is already journaled")


def updated_intent(transaction_id: str, intent: TransactionRecord | None, *, ctc: int,
                   terminal_trans_serial: int, changes: Mapping[str, Any]) -> TransactionRecord:
    """The open `intent` (None: the journal has no open intent under the id) with what an error
    B5 told; the outcome and the transaction id cannot change."""
    if "outcome" in changes or "transaction_id" in changes:
        raise JournalError("update_intent cannot change the outcome or the transaction id")
    if intent is None:
        raise JournalError(f"no open intent {transaction_id}")
    try:
        return dataclasses.replace(
            intent, ctc=ctc, terminal_trans_serial=terminal_trans_serial, **changes
        )
    except TypeError as exc:
        raise JournalError(f"cannot update intent {transaction_id}: {exc}") from exc


def resolved_record(transaction_id: str, intent: TransactionRecord | None, outcome: Outcome,
                    changes: Mapping[str, Any]) -> TransactionRecord:
    """The record that closes the open `intent` from recovery (None: no open intent under the
    id): `outcome` and the fields recovery learned, marked `recovered` unless `changes` say."""
    if intent is None:
        raise JournalError(f"no open intent {transaction_id}")
    try:
        return dataclasses.replace(intent, outcome=outcome, **{"recovered": True, **changes})
    except TypeError as exc:
        raise JournalError(f"cannot resolve {transaction_id}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class CloseDecision:
    """What a close does, given what the journal already holds (`decide_close`)."""

    #: None: journal the record (a new transaction, an open intent closed, a record superseded);
    #: otherwise write nothing and reply with the record journaled under this id
    reply_with: str | None
    #: the debit is journaled under `reply_with`: mark this transaction (if journaled) its duplicate
    mark_twin: bool = False


_WRITE = CloseDecision(None)


def decide_close(record: TransactionRecord, stored: Stored | None,
                 holder_id: str | None) -> CloseDecision:
    """What closing `record` does: `stored` is what the journal holds under its transaction id
    (None: nothing), `holder_id` the id of the closed transaction holding its idempotency key."""
    transaction_id = record.transaction_id
    if stored is not None and stored[0] is EntryState.DUPLICATE:
        return CloseDecision(stored[2] or transaction_id)
    if holder_id is not None and holder_id != transaction_id:
        return CloseDecision(holder_id, mark_twin=True)
    if (stored is not None and stored[0] is EntryState.CLOSED
            and not may_supersede(stored[1], record.outcome)):
        return CloseDecision(transaction_id)
    return _WRITE


def filter_criteria(selection: JournalFilter) -> list[tuple[str, str, Any]]:
    """(column, comparison, value) for every criterion `selection` gives, all of which must hold;
    columns: recorded_at, card_number, outcome, reason, state; comparisons: >=, <, =."""
    return [
        (column, op, value)
        for column, op, value in (
            ("recorded_at", ">=", selection.since),
            ("recorded_at", "<", selection.until),
            ("card_number", "=", selection.card_number),
            ("outcome", "=", selection.outcome),
            ("reason", "=", selection.reason),
            ("state", "=", selection.state),
        )
        if value is not None
    ]
