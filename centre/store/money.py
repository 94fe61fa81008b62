"""B-card refunds, A-card bills and the cleared lane debits both are computed from.

* Refunds: `tx.money.open_refund(Refund)` at cancellation, `refund(card)`,
  `refunds_due(now)` (pending and due), `refunds_pending()`,
  `mark_refund_paid(card, at, amount, to_card, entry_id)` (False if it was not pending).
* Cleared debits (written by clearing): `add_cleared_debit(ClearedDebit)` (the idempotency key
  is the primary key: a debit is cleared once; a repeat is a `ConflictError`),
  `cleared_debit(key)`, `cleared_debits_of(card, after=None)`, `unbilled_debits(card)`.
* Bills: `open_bill(card, issued_at, due_at, keys) -> bill_id` bills the given cleared debits,
  `bill(id)`, `bills_of(card)`, `open_bills_overdue(now)`,
  `settle_bill(id, status, at, entry_id, charged_outlet=None)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from centre.store.database import Row, Transaction, from_db_time, optional_time, to_db_time
from centre.values import PaymentMethod


class RefundStatus(Enum):
    #: recorded at cancellation, waiting for its date
    PENDING = "pending"
    #: paid back (original method) or moved to another B card
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class Refund:
    """A cancelled B card's refund."""

    card_number: str
    outlet_id: str  # the issuing outlet, which pays it (art. 21)
    cancelled_at: dt.datetime
    due_at: dt.datetime
    recorded_balance: int  # fen
    recorded_ctc: int | None  # None: the balance came from the ledger (card not present)
    method: PaymentMethod  # the original payment method
    status: RefundStatus = RefundStatus.PENDING
    paid_at: dt.datetime | None = None
    paid_amount: int | None = None
    to_card: str | None = None
    entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClearedDebit:
    """A lane debit that cleared: the lane's record as far as the centre's money needs it."""

    idempotency_key: str
    card_number: str
    ctc: int | None
    amount: int  # fen
    network: str
    station: int
    lane: int
    transaction_time: dt.datetime
    cleared_at: dt.datetime
    entry_id: int
    bill_id: int | None = None


class BillStatus(Enum):
    #: issued, not yet paid
    OPEN = "open"
    #: paid from the bound account
    PAID = "paid"
    #: not paid by its due date: charged to the issuing outlet, the card listed as overdrawn
    DEFAULTED = "defaulted"
    #: defaulted, then paid by the holder (the outlet paid back)
    REPAID = "repaid"


@dataclass(frozen=True, slots=True)
class Bill:
    bill_id: int
    card_number: str
    issued_at: dt.datetime
    due_at: dt.datetime
    amount: int
    status: BillStatus
    settled_at: dt.datetime | None
    charged_outlet: str | None
    entry_id: int | None


_REFUND_COLUMNS = ("card_number, outlet_id, cancelled_at, due_at, recorded_balance, recorded_ctc,"
                   " method, status, paid_at, paid_amount, to_card, entry_id")
_DEBIT_COLUMNS = ("idempotency_key, card_number, ctc, amount, network, station, lane,"
                  " transaction_time, cleared_at, entry_id, bill_id")
_BILL_COLUMNS = ("bill_id, card_number, issued_at, due_at, amount, status, settled_at,"
                 " charged_outlet, entry_id")


def _refund(row: Row) -> Refund:
    return Refund(row[0], row[1], from_db_time(row[2]), from_db_time(row[3]), row[4], row[5],
                  PaymentMethod(row[6]), RefundStatus(row[7]), optional_time(row[8]), row[9],
                  row[10], row[11])


def _debit(row: Row) -> ClearedDebit:
    return ClearedDebit(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                        from_db_time(row[7]), from_db_time(row[8]), row[9], row[10])


def _bill(row: Row) -> Bill:
    return Bill(row[0], row[1], from_db_time(row[2]), from_db_time(row[3]), row[4],
                BillStatus(row[5]), optional_time(row[6]), row[7], row[8])


class Money:
    """Refunds, cleared debits and bills inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    # ------------------------------------------------------------ refunds

    def open_refund(self, refund: Refund) -> None:
        self._tx.execute(
            f"INSERT INTO refunds ({_REFUND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (refund.card_number, refund.outlet_id, to_db_time(refund.cancelled_at),
             to_db_time(refund.due_at), refund.recorded_balance, refund.recorded_ctc,
             refund.method.value, refund.status.value, None, None, None, None))

    def refund(self, card_number: str) -> Refund | None:
        row = self._tx.one(f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE card_number = ?",
                           (card_number,))
        return None if row is None else _refund(row)

    def refunds_due(self, now: dt.datetime) -> list[Refund]:
        rows = self._tx.all(f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE status = ?"
                            " AND due_at <= ? ORDER BY due_at, card_number",
                            (RefundStatus.PENDING.value, to_db_time(now)))
        return [_refund(row) for row in rows]

    def refunds_pending(self) -> list[Refund]:
        rows = self._tx.all(f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE status = ?"
                            " ORDER BY due_at, card_number", (RefundStatus.PENDING.value,))
        return [_refund(row) for row in rows]

    def mark_refund_paid(self, card_number: str, at: dt.datetime, amount: int,
                         to_card: str | None, entry_id: int | None) -> bool:
        changed = self._tx.execute(
            "UPDATE refunds SET status = ?, paid_at = ?, paid_amount = ?, to_card = ?,"
            " entry_id = ? WHERE card_number = ? AND status = ?",
            (RefundStatus.PAID.value, to_db_time(at), amount, to_card, entry_id, card_number,
             RefundStatus.PENDING.value))
        return changed == 1

    # ------------------------------------------------------------ cleared debits

    def add_cleared_debit(self, debit: ClearedDebit) -> None:
        self._tx.execute(
            f"INSERT INTO cleared_debits ({_DEBIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?)",
            (debit.idempotency_key, debit.card_number, debit.ctc, debit.amount, debit.network,
             debit.station, debit.lane, to_db_time(debit.transaction_time),
             to_db_time(debit.cleared_at), debit.entry_id, debit.bill_id))

    def cleared_debit(self, idempotency_key: str) -> ClearedDebit | None:
        row = self._tx.one(f"SELECT {_DEBIT_COLUMNS} FROM cleared_debits"
                           " WHERE idempotency_key = ?", (idempotency_key,))
        return None if row is None else _debit(row)

    def cleared_debits_of(self, card_number: str, after: dt.datetime | None = None
                          ) -> list[ClearedDebit]:
        """The card's cleared debits (cleared after `after` when given), in clearing order."""
        if after is None:
            rows = self._tx.all(f"SELECT {_DEBIT_COLUMNS} FROM cleared_debits"
                                " WHERE card_number = ? ORDER BY cleared_at, idempotency_key",
                                (card_number,))
        else:
            rows = self._tx.all(f"SELECT {_DEBIT_COLUMNS} FROM cleared_debits"
                                " WHERE card_number = ? AND cleared_at > ?"
                                " ORDER BY cleared_at, idempotency_key",
                                (card_number, to_db_time(after)))
        return [_debit(row) for row in rows]

    def unbilled_debits(self, card_number: str) -> list[ClearedDebit]:
        rows = self._tx.all(f"SELECT {_DEBIT_COLUMNS} FROM cleared_debits WHERE card_number = ?"
                            " AND bill_id IS NULL ORDER BY cleared_at, idempotency_key",
                            (card_number,))
        return [_debit(row) for row in rows]

    # ------------------------------------------------------------ bills

    def open_bill(self, card_number: str, issued_at: dt.datetime, due_at: dt.datetime,
                  debit_keys: Sequence[str], amount: int) -> int:
        bill_id = int(self._tx.value(
            "INSERT INTO bills (card_number, issued_at, due_at, amount, status)"
            " VALUES (?, ?, ?, ?, ?) RETURNING bill_id",
            (card_number, to_db_time(issued_at), to_db_time(due_at), amount,
             BillStatus.OPEN.value)))
        self._tx.execute_many(
            "UPDATE cleared_debits SET bill_id = ? WHERE idempotency_key = ? AND bill_id IS NULL",
            [(bill_id, key) for key in debit_keys])
        return bill_id

    def bill(self, bill_id: int) -> Bill | None:
        row = self._tx.one(f"SELECT {_BILL_COLUMNS} FROM bills WHERE bill_id = ?", (bill_id,))
        return None if row is None else _bill(row)

    def bills_of(self, card_number: str) -> list[Bill]:
        rows = self._tx.all(f"SELECT {_BILL_COLUMNS} FROM bills WHERE card_number = ?"
                            " ORDER BY bill_id", (card_number,))
        return [_bill(row) for row in rows]

    def open_bills_overdue(self, now: dt.datetime) -> list[Bill]:
        rows = self._tx.all(f"SELECT {_BILL_COLUMNS} FROM bills WHERE status = ? AND due_at < ?"
                            " ORDER BY due_at, bill_id", (BillStatus.OPEN.value, to_db_time(now)))
        return [_bill(row) for row in rows]

    def settle_bill(self, bill_id: int, status: BillStatus, at: dt.datetime,
                    entry_id: int | None, charged_outlet: str | None = None,
                    was: BillStatus = BillStatus.OPEN) -> bool:
        """Move a bill from `was` to `status`; False when it was not in `was` any more."""
        changed = self._tx.execute(
            "UPDATE bills SET status = ?, settled_at = ?, entry_id = ?,"
            " charged_outlet = COALESCE(?, charged_outlet) WHERE bill_id = ? AND status = ?",
            (status.value, to_db_time(at), entry_id, charged_outlet, bill_id, was.value))
        return changed == 1
