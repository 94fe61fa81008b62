"""The pass being served and the UNRESOLVED purchases that a later sighting of the card settles
(`card.md` §5), at this lane or at any lane of the plaza.

Our decision for a later sighting (kept in `UnresolvedBook.settle`): the card commits its balance
and its 0019 record atomically, so when the card is read again and its 0019 is exactly the record
the purchase sent, the debit happened; when it is still exactly the record read before the
purchase, it did not; anything else (the card travelled since) proves nothing and is left for
clearing. Which lane reads the card does not matter: the 0019 names the lane that wrote it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import eq

from lane_engine.core.config import lane_unix_time
from lane_engine.core.ledger import amend
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.pricing import Price
from protocols.records import EntryExitRecord, EntryExitStatus

__all__ = [
    "Pass",
    "UnresolvedBook",
    "WriteMark",
    "committed_outcome",
]


class Pass:
    """The OBU being served and, once priced, its purchase (private mutable state of `Lane`)."""

    __slots__ = ("amount", "attempts", "closing", "committed_outcome", "div_factor", "intent",
                 "obu_id", "obu_serial", "previous", "written")

    def __init__(self, obu_id: int, obu_serial: str, div_factor: bytes) -> None:
        self.obu_id = obu_id
        self.obu_serial = obu_serial
        self.div_factor = div_factor
        self.attempts = 0
        #: the purchase is the 0-fen one that closes a short card's trip (`closes_trip_for_cash`)
        self.closing = False

    def priced(self, intent: TransactionRecord, price: Price, written: EntryExitRecord,
               previous: EntryExitRecord | None, committed_outcome: Outcome) -> None:
        """Remember the purchase about to be sent."""
        self.intent = intent
        self.amount = price.amount
        self.written = written
        self.previous = previous
        self.committed_outcome = committed_outcome
        # A B card already short at B4 is sent the 0-fen purchase straight away: that purchase
        # closes the trip, and its failure leaves the cash due all the same.
        self.closing = committed_outcome is Outcome.CASH_REQUIRED


def committed_outcome(is_exit: bool, reason: ReasonCode) -> Outcome:
    """How a purchase closes once the card committed it: an entry written; at an exit DEBITED,
    or CASH_REQUIRED when the B card was short (its price's reason is INSUFFICIENT_BALANCE)."""
    if not is_exit:
        return Outcome.ENTRY_WRITTEN
    if reason == ReasonCode.INSUFFICIENT_BALANCE:
        return Outcome.CASH_REQUIRED
    return Outcome.DEBITED


@dataclass(frozen=True, slots=True)
class WriteMark:
    """What a journaled intent keeps of a 0019 record: where and when it was written.

    Our decision for intents recovered from the journal, which keep no whole 0019: a read showing
    the same network, station and time (and lane and status where known) is that very write; no
    other write carries the same ones.
    """

    network: str
    station: int
    time: int
    lane: int | None = None
    status: EntryExitStatus | None = None

    def matches(self, record: EntryExitRecord | None) -> bool:
        """True when `record` is the write this mark was taken from."""
        return (
            record is not None and record.time == self.time and record.station == self.station
            and record.network == self.network and self.lane in (None, record.lane)
            and self.status in (None, record.status)
        )


def _unknown(record: EntryExitRecord | None) -> bool:
    return False


#: Whether a 0019 read later proves something about the purchase.
_Proof = Callable[[EntryExitRecord | None], bool]


@dataclass(slots=True)
class _Pending:
    intent: TransactionRecord
    debited_if: _Proof  # the card holds the record the purchase wrote
    not_debited_if: _Proof  # the card still holds the record read before the purchase
    committed_outcome: Outcome
    amount: int


class UnresolvedBook:
    """UNRESOLVED purchases by card number, until a later B4 settles them.

    One book may be shared by the lanes of a plaza (a vehicle left in doubt at one lane may show
    up at another); it is plain data, used from one thread.
    """

    #: The most the book remembers; older ones stay with clearing only.
    LIMIT = 1024

    __slots__ = ("_by_card",)

    def __init__(self) -> None:
        self._by_card: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._by_card)

    def __contains__(self, card_number: object) -> bool:
        return card_number in self._by_card

    def remember(self, p: Pass) -> None:
        """Keep the purchase of `p`, left UNRESOLVED, for a later sighting of its card."""
        self._keep(_Pending(p.intent, partial(eq, p.written), partial(eq, p.previous),
                            p.committed_outcome, p.amount))

    def remember_intent(self, intent: TransactionRecord) -> bool:
        """Keep an intent a previous run left open (read from the journal), as far as its record
        allows (see `WriteMark`); False when it cannot be known again (no card, no time)."""
        if not intent.card_number:
            return False
        try:
            written_at = lane_unix_time(intent.transaction_time)
        except ValueError:
            return False
        is_exit = intent.mode == "exit"
        written = WriteMark(intent.lane_network, intent.lane_station, written_at,
                            intent.lane_number,
                            EntryExitStatus.EXITED if is_exit else EntryExitStatus.ENTERED)
        # An exit keeps the entry it priced from; an entry keeps nothing of the card's record.
        previous: _Proof = _unknown
        if is_exit and intent.entry_time:
            previous = WriteMark(intent.entry_network, intent.entry_station,
                                 intent.entry_time).matches
        outcome = committed_outcome(is_exit, intent.reason)
        amount = intent.discounted_fee if outcome is Outcome.DEBITED else 0
        self._keep(_Pending(intent, written.matches, previous, outcome, amount))
        return True

    def _keep(self, pending: _Pending) -> None:
        card = pending.intent.card_number
        self._by_card.pop(card, None)
        self._by_card[card] = pending
        if len(self._by_card) > self.LIMIT:
            del self._by_card[next(iter(self._by_card))]

    def settle(self, card_number: str, last_station: EntryExitRecord | None, balance: int,
               read_at_lane: int) -> TransactionRecord | None:
        """The settled record when this read of the card (at lane `read_at_lane`) settles its
        UNRESOLVED purchase, which is then forgotten; None when there is none or nothing is
        proved."""
        pending = self._by_card.get(card_number)
        if pending is None:
            return None
        if pending.debited_if(last_station):
            del self._by_card[card_number]
            return amend(pending.intent, outcome=pending.committed_outcome,
                         amount_debited=pending.amount,
                         balance_after=_balance_after(pending, balance), recovered=True,
                         detail=f"settled at lane {read_at_lane}: the card holds the record "
                                "the purchase wrote")
        if pending.not_debited_if(last_station):
            del self._by_card[card_number]
            return amend(pending.intent, outcome=Outcome.NOT_DEBITED,
                         reason=ReasonCode.PURCHASE_FAILED, recovered=True,
                         detail=f"settled at lane {read_at_lane}: the card still holds its "
                                "earlier record")
        return None


def _balance_after(pending: _Pending, balance_now: int) -> int:
    """The purse just after the purchase: its balance then less the amount. The balance read
    now is that only while nothing was loaded since (a top-up at an outlet leaves the card's
    station record as the purchase wrote it); a purse that held less than the amount (an A
    card's figure) follows no rule the lane knows, so it stays as read."""
    before = pending.intent.balance_before
    if before >= pending.amount:
        return before - pending.amount
    return balance_now
