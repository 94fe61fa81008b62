"""The chart of accounts: which accounts exist, what each holds and on which side it is normal.

An account is named `<kind>:<key>` (e.g. `purse:37011901230211225128`, `outlet-cash:370101`);
the name is what the store keeps. Amounts are signed fen on the debit side (+ debit, − credit);
an account's balance "in its normal side" is positive when it holds what its kind says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from centre.errors import LedgerError


class Side(Enum):
    """The side on which an account's balance is normally found."""

    #: assets: debits raise the balance
    DEBIT = 1
    #: liabilities: credits raise the balance
    CREDIT = -1


class AccountKind(Enum):
    """The kinds of account; the value is the name's prefix."""

    #: a B card's stored value, held by the centre for the holder (liability)
    PURSE = "purse"
    #: an A card's cleared lane debits not yet paid by the holder (asset: the holder owes)
    CREDIT = "credit"
    #: money an outlet took in for the centre (top-ups) less what it paid out (refunds)
    OUTLET_CASH = "outlet-cash"
    #: A-card arrears an issuing outlet paid for its customer (art. 28; asset: its claim)
    OUTLET_ARREARS = "outlet-arrears"
    #: money received from A-card holders' bound bank accounts
    BANK = "bank"
    #: tolls the centre owes the road operator of a plaza (`<network>/<station>`)
    TOLL = "toll"
    #: cash a lane collected for trips its cards could not pay (`<network>/<station>/<lane>`)
    LANE_CASH = "lane-cash"

    @property
    def side(self) -> Side:
        """The normal side of accounts of this kind."""
        return Side.CREDIT if self in _LIABILITIES else Side.DEBIT


_LIABILITIES = frozenset({AccountKind.PURSE, AccountKind.TOLL})
_BY_PREFIX = {kind.value: kind for kind in AccountKind}


@dataclass(frozen=True, slots=True, order=True)
class Account:
    """One account: its kind and the key within the kind (card number, outlet id, plaza...)."""

    kind: AccountKind
    key: str

    def __post_init__(self) -> None:
        key = self.key
        if not key or ":" in key or not key.isprintable() or key.strip() != key:
            raise LedgerError(f"account key {self.key!r} is empty or not a plain name")

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.key}"

    @classmethod
    def parse(cls, name: str) -> Account:
        """The account of a stored name; LedgerError for a name that is not one."""
        prefix, colon, key = name.partition(":")
        kind = _BY_PREFIX.get(prefix)
        if not colon or kind is None:
            raise LedgerError(f"{name!r} is not an account name (<kind>:<key>)")
        return cls(kind, key)

    def normal_balance(self, debit_sum: int) -> int:
        """The balance in this account's normal side, from the signed sum of its postings."""
        return debit_sum * self.kind.side.value


def purse(card_number: str) -> Account:
    """A B card's stored value."""
    return Account(AccountKind.PURSE, card_number)


def credit(card_number: str) -> Account:
    """An A card's unpaid cleared debits."""
    return Account(AccountKind.CREDIT, card_number)


def outlet_cash(outlet: str) -> Account:
    """An outlet's takings for the centre."""
    return Account(AccountKind.OUTLET_CASH, outlet)


def outlet_arrears(outlet: str) -> Account:
    """The A-card arrears an outlet paid."""
    return Account(AccountKind.OUTLET_ARREARS, outlet)


def bank(card_number: str) -> Account:
    """What an A card's bound bank account paid in."""
    return Account(AccountKind.BANK, card_number)


def toll(network: str, station: int) -> Account:
    """What the centre owes the operator of plaza `network/station`."""
    return Account(AccountKind.TOLL, f"{network}/{station}")


def lane_cash(network: str, station: int, lane: int) -> Account:
    """Cash collected at one lane."""
    return Account(AccountKind.LANE_CASH, f"{network}/{station}/{lane}")
