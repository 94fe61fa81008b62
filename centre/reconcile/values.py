"""What reconciliation reads and finds, as values (sans-IO): the card's word on its balance,
the day's ledger entries, lane records and operations, and a difference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CardWord:
    """The card's latest own word on its balance: where it came from, when, what it said."""

    card_number: str
    at: dt.datetime
    balance: int
    source: str  # "record <key>" or "load <id>"


@dataclass(frozen=True, slots=True)
class DayEntry:
    """A ledger entry of the day with its postings."""

    entry_id: int
    kind: str
    at: dt.datetime
    request_id: str | None
    postings: tuple[tuple[str, int], ...]  # (account, signed fen)


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement: which check, about what, expected and found, and the records."""

    check: str
    subject: str
    expected: int | None
    actual: int | None
    records: tuple[str, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class DayRecord:
    """A lane record of the day as reconciliation reads it."""

    key: str
    plaza: str
    lane: str  # "<network>/<station>/<lane>"
    card_number: str
    outcome: str
    amount: int
    cash_fee: int
    state: str
    tac_verified: bool
    settled_how: str | None
    entry_id: int | None

    @property
    def money(self) -> int:
        """The fen this record moves into the ledger when booked (ETC or cash)."""
        if self.state != "booked":
            return 0
        return self.amount or (self.cash_fee if self.outcome == "cash_required" else 0)


@dataclass(frozen=True, slots=True)
class DayOperations:
    """The day's operations, from their own records: the report's side."""

    #: (load id, card, outlet, fen, funding, entry id)
    loads: Sequence[tuple[int, str, str, int, str, int | None]]
    #: (card, outlet, fen paid, to card, entry id)
    refunds: Sequence[tuple[str, str, int, str | None, int | None]]
    records: Sequence[DayRecord]


