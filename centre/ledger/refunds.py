"""The B-card refund rule (seed art. 21): at cancellation the outlet records the card's real
balance; 30 days later that balance is payable, less the lane debits that clear in between and
are not already reflected in it. No cash withdrawal, no interest, ever.

Our decision on "reflected": a balance read from the card (with its CTC) already holds every
debit the card made before the reading, i.e. every debit whose CTC is below the CTC read, so
only debits with a CTC at or above it reduce the refund. A balance taken from the ledger (card
not present) holds only the debits cleared before cancellation, so every debit clearing after
cancellation reduces it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

#: Seed art. 21: the refund is made once 30 days have passed since the cancellation.
REFUND_WAIT = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ClearedDebit:
    """A lane debit of the card that cleared: its CTC, amount and when it cleared."""

    ctc: int | None  # None when the clearing record carries no CTC
    amount: int  # fen
    cleared_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RefundBasis:
    """What the outlet recorded at cancellation."""

    recorded_balance: int  # fen
    recorded_ctc: int | None  # the card's CTC when read; None: balance taken from the ledger
    cancelled_at: dt.datetime

    @property
    def due_at(self) -> dt.datetime:
        """When the refund becomes payable."""
        return refund_due_at(self.cancelled_at)


def refund_due_at(cancelled_at: dt.datetime) -> dt.datetime:
    """Cancellation + 30 days."""
    return cancelled_at + REFUND_WAIT


def reduces_refund(basis: RefundBasis, debit: ClearedDebit) -> bool:
    """Whether a cleared debit comes off the refund (see the module's note)."""
    if debit.cleared_at <= basis.cancelled_at:
        return False
    if basis.recorded_ctc is None or debit.ctc is None:
        return True
    return debit.ctc >= basis.recorded_ctc


def refund_amount(basis: RefundBasis, cleared: Iterable[ClearedDebit]) -> tuple[int, int]:
    """(payable, shortfall): the refund, never below zero, and what the debits took beyond it."""
    left = basis.recorded_balance - sum(d.amount for d in cleared if reduces_refund(basis, d))
    return max(left, 0), max(-left, 0)
