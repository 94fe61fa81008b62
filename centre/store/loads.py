"""Top-ups (PBOC loads) as the centre journals them around the card's commit.

A load is opened `pending` (durable) before CREDIT FOR LOAD goes to the card, with everything
needed to recognise it on the card later (online serial, balance before, amount, terminal,
time); it is then settled `credited` (with its TAC and ledger entry) or `not_credited`. At most
one load per card is pending and at most one load per request is credited (unique indexes), so
a torn load must be settled before the card can be loaded again, and a request whose load was
not credited may try again (its next `attempt`), never credit twice.

* `tx.loads.open(NewLoad) -> load_id` (the next attempt of its request),
  `pending_for(card) -> LoadRecord | None`, `of_request(request_id)`, `load(load_id)`,
  `of_card(card)`, `pending()`.
* `tx.loads.settle(load_id, status, at, how, tac=None, entry_id=None)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from centre.store.database import Row, Transaction, from_db_time, optional_time, to_db_time


class LoadStatus(Enum):
    """Where a load stands."""

    #: journaled, CREDIT FOR LOAD sent or about to be: the card may or may not have committed
    PENDING = "pending"
    #: the card committed it (TAC verified) and the ledger holds it
    CREDITED = "credited"
    #: the card did not commit it; nothing was credited
    NOT_CREDITED = "not_credited"


class Settlement(Enum):
    """How a load's outcome became known."""

    #: from the card's answer to CREDIT FOR LOAD
    ANSWER = "answer"
    #: from the card's load log on a later contact (a torn load)
    CARD_LOG = "card_log"
    #: a later contact showed the card never committed it
    NOT_ON_CARD = "not_on_card"


@dataclass(frozen=True, slots=True)
class NewLoad:
    """What is journaled before the card is asked to commit (with what the request's journal
    entry needs, so a torn load settled later is journaled as its request)."""

    request_id: str
    card_number: str
    outlet_id: str
    terminal_number: bytes  # 6
    amount: int
    balance_before: int
    online_serial: int  # the card's online serial before this load
    transaction_time: dt.datetime  # the date and time sent in CREDIT FOR LOAD
    funding: str  # "cash:<method>", or "refund:<card>" / "replacement:<card>" for moved balances
    opened_at: dt.datetime
    operation: str = "top_up"  # the service operation (top_up, refund_pay)
    fingerprint: str = ""  # of the request's question
    operator: str = ""


@dataclass(frozen=True, slots=True)
class LoadRecord:
    load_id: int
    attempt: int
    new: NewLoad
    status: LoadStatus
    tac: bytes | None
    entry_id: int | None
    settled_at: dt.datetime | None
    settled_how: Settlement | None


_COLUMNS = ("load_id, attempt, request_id, operation, fingerprint, card_number, outlet_id,"
            " operator, terminal_number, amount, balance_before, online_serial, transaction_time,"
            " funding, opened_at, status, tac, entry_id, settled_at, settled_how")


def _load(row: Row) -> LoadRecord:
    new = NewLoad(row[2], row[5], row[6], bytes.fromhex(row[8]), row[9], row[10], row[11],
                  from_db_time(row[12]), row[13], from_db_time(row[14]), row[3], row[4], row[7])
    return LoadRecord(row[0], row[1], new, LoadStatus(row[15]),
                      None if row[16] is None else bytes.fromhex(row[16]), row[17],
                      optional_time(row[18]), None if row[19] is None else Settlement(row[19]))


class Loads:
    """The load journal inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def open(self, new: NewLoad) -> int:
        attempt = int(self._tx.value("SELECT COALESCE(MAX(attempt), 0) + 1 FROM loads"
                                     " WHERE request_id = ?", (new.request_id,)))
        return int(self._tx.value(
            "INSERT INTO loads (request_id, attempt, operation, fingerprint, card_number,"
            " outlet_id, operator, terminal_number, amount, balance_before, online_serial,"
            " transaction_time, funding, opened_at, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING load_id",
            (new.request_id, attempt, new.operation, new.fingerprint, new.card_number,
             new.outlet_id, new.operator, new.terminal_number.hex(),
             new.amount, new.balance_before, new.online_serial, to_db_time(new.transaction_time),
             new.funding, to_db_time(new.opened_at), LoadStatus.PENDING.value)))

    def load(self, load_id: int) -> LoadRecord | None:
        row = self._tx.one(f"SELECT {_COLUMNS} FROM loads WHERE load_id = ?", (load_id,))
        return None if row is None else _load(row)

    def of_request(self, request_id: str) -> list[LoadRecord]:
        """The request's attempts, first first."""
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM loads WHERE request_id = ?"
                            " ORDER BY attempt", (request_id,))
        return [_load(row) for row in rows]

    def pending_for(self, card_number: str) -> LoadRecord | None:
        row = self._tx.one(f"SELECT {_COLUMNS} FROM loads WHERE card_number = ? AND status = ?",
                           (card_number, LoadStatus.PENDING.value))
        return None if row is None else _load(row)

    def of_card(self, card_number: str) -> list[LoadRecord]:
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM loads WHERE card_number = ?"
                            " ORDER BY load_id", (card_number,))
        return [_load(row) for row in rows]

    def pending(self) -> list[LoadRecord]:
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM loads WHERE status = ? ORDER BY load_id",
                            (LoadStatus.PENDING.value,))
        return [_load(row) for row in rows]

    def settle(self, load_id: int, status: LoadStatus, at: dt.datetime, how: Settlement,
               tac: bytes | None = None, entry_id: int | None = None) -> bool:
        """Settle a pending load; False when it was not pending any more (settled elsewhere)."""
        changed = self._tx.execute(
            "UPDATE loads SET status = ?, settled_at = ?, settled_how = ?, tac = ?, entry_id = ?"
            " WHERE load_id = ? AND status = ?",
            (status.value, to_db_time(at), how.value, None if tac is None else tac.hex(),
             entry_id, load_id, LoadStatus.PENDING.value))
        return changed == 1
