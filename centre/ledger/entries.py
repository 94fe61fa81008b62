"""Balanced entries: every fen that moves is one `Entry` whose postings sum to zero.

Each money event has one constructor here, so the store and the service never compose postings
by hand. An entry that would not balance, moves nothing or posts a zero amount is a
`LedgerError` (a bug), raised when the value is made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

from centre.errors import LedgerError
from centre.ledger import accounts
from centre.ledger.accounts import Account

#: Our decision: the largest amount one entry may move (4-byte card balances: 42.9 M yuan).
MAX_AMOUNT = 0xFFFF_FFFF


class EntryKind(Enum):
    """What moved the money."""

    #: a B card loaded at an outlet: the outlet took the money, the purse holds it
    TOP_UP = "top_up"
    #: a cleared lane debit: from the purse (B) or onto the A card's account, owed to the plaza
    LANE_DEBIT = "lane_debit"
    #: a trip paid in cash at the lane (B card short): the lane holds it, owed to the plaza
    LANE_CASH = "lane_cash"
    #: a cancelled B card's balance paid back by its outlet (original method)
    REFUND_PAID = "refund_paid"
    #: a B card's balance moved to another B card (refund to a card, bad-card replacement)
    BALANCE_MOVED = "balance_moved"
    #: an A card's bill paid from the bound account
    BILL_PAID = "bill_paid"
    #: an A card's overdue bill charged to the outlet that issued the card (art. 28)
    ARREARS_CHARGED = "arrears_charged"
    #: an overdue bill paid later by the holder: the issuing outlet is paid back
    ARREARS_REPAID = "arrears_repaid"


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: signed fen on `account` (+ debit, − credit)."""

    account: Account
    amount: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One balanced movement of money."""

    kind: EntryKind
    postings: tuple[Posting, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise LedgerError(f"{self.kind.value}: an entry needs at least two postings")
        for posting in self.postings:
            amount = posting.amount
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise LedgerError(f"{self.kind.value}: amount {amount!r} is not int fen")
            if amount == 0 or abs(amount) > MAX_AMOUNT:
                raise LedgerError(f"{self.kind.value}: amount {amount} on {posting.account}"
                                  " is zero or out of range")
        if sum(p.amount for p in self.postings) != 0:
            raise LedgerError(f"{self.kind.value}: postings sum to "
                              f"{sum(p.amount for p in self.postings)}, not 0")
        if len({p.account for p in self.postings}) != len(self.postings):
            raise LedgerError(f"{self.kind.value}: an account is posted twice")

    @property
    def amount(self) -> int:
        """The money moved: the sum of the debit legs."""
        return sum(p.amount for p in self.postings if p.amount > 0)

    def amount_on(self, account: Account) -> int:
        """The signed amount posted on `account` by this entry (0 when not posted)."""
        return sum(p.amount for p in self.postings if p.account == account)


def _move(kind: EntryKind, debit: Account, credit: Account, amount: int, memo: str) -> Entry:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise LedgerError(f"{kind.value}: amount {amount!r} is not a positive int of fen")
    return Entry(kind, (Posting(debit, amount), Posting(credit, -amount)), memo)


def top_up(card_number: str, outlet: str, amount: int, memo: str = "") -> Entry:
    """A B card loaded at `outlet`: outlet cash up, purse up."""
    return _move(EntryKind.TOP_UP, accounts.outlet_cash(outlet), accounts.purse(card_number),
                 amount, memo)


def lane_debit(card_number: str, stored_value: bool, network: str, station: int, amount: int,
               memo: str = "") -> Entry:
    """A cleared lane debit at plaza `network/station`: a B card's purse down, or an A card's
    account up; either way owed to the plaza's operator."""
    source = accounts.purse(card_number) if stored_value else accounts.credit(card_number)
    return _move(EntryKind.LANE_DEBIT, source, accounts.toll(network, station), amount, memo)


def lane_cash(network: str, station: int, lane: int, amount: int, memo: str = "") -> Entry:
    """Cash collected at a lane for a trip its card could not pay, owed to the plaza."""
    return _move(EntryKind.LANE_CASH, accounts.lane_cash(network, station, lane),
                 accounts.toll(network, station), amount, memo)


def refund_paid(card_number: str, outlet: str, amount: int, memo: str = "") -> Entry:
    """A cancelled B card's balance paid back by `outlet`: purse down, outlet cash down."""
    return _move(EntryKind.REFUND_PAID, accounts.purse(card_number), accounts.outlet_cash(outlet),
                 amount, memo)


def balance_moved(from_card: str, to_card: str, amount: int, memo: str = "") -> Entry:
    """A B card's balance moved onto another B card."""
    if from_card == to_card:
        raise LedgerError("balance_moved: a card cannot move its balance to itself")
    return _move(EntryKind.BALANCE_MOVED, accounts.purse(from_card), accounts.purse(to_card),
                 amount, memo)


def bill_paid(card_number: str, amount: int, memo: str = "") -> Entry:
    """An A card's bill paid from its bound account."""
    return _move(EntryKind.BILL_PAID, accounts.bank(card_number), accounts.credit(card_number),
                 amount, memo)


def arrears_charged(card_number: str, outlet: str, amount: int, memo: str = "") -> Entry:
    """An A card's overdue bill paid by its issuing outlet (art. 28)."""
    return _move(EntryKind.ARREARS_CHARGED, accounts.outlet_arrears(outlet),
                 accounts.credit(card_number), amount, memo)


def arrears_repaid(card_number: str, outlet: str, amount: int, memo: str = "") -> Entry:
    """An overdue bill paid later from the bound account: the issuing outlet is paid back."""
    return _move(EntryKind.ARREARS_REPAID, accounts.bank(card_number),
                 accounts.outlet_arrears(outlet), amount, memo)


def trial_balance(entries: list[Entry]) -> dict[Account, int]:
    """The signed debit sum of every account the entries touch (sums to zero over all)."""
    sums: dict[Account, int] = defaultdict(int)
    for entry in entries:
        for posting in entry.postings:
            sums[posting.account] += posting.amount
    return dict(sums)

