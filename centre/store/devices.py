"""Cards and OBUs as the centre issued them, and the counters their numbers come from.

* `tx.devices.next_number(counter) -> int`: 1, 2, 3, ... per counter name, never reused.
* `add_card(CardRecord)`, `card(number)`, `cards_of_vehicle(vehicle_id)`,
  `cards_of_customer(customer_id)`, `active_card_of_vehicle(vehicle_id)` (active or lost: the
  one a vehicle holds), `set_card_status(number, status, at, without_card=False)`,
  `cards(status=None)`.
* `add_obu(ObuRecord)`, `obu(number)`, `obus_of_vehicle(vehicle_id)`,
  `active_obu_of_vehicle(vehicle_id)`, `set_obu_status(number, status, at, without_obu=False)`.

One card and one OBU per vehicle that are active or lost (a unique index keeps it so even
when two outlets issue at the same moment: the second write is a `ConflictError`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.store.database import Row, Transaction, from_db_time, to_db_time
from centre.values import CardKind, CardStatus, ObuStatus, PaymentMethod


@dataclass(frozen=True, slots=True)
class CardRecord:
    """A card the centre issued."""

    card_number: str  # network 4 + application serial 16
    kind: CardKind
    vehicle_id: int
    customer_id: int
    outlet_id: str  # the issuing outlet
    status: CardStatus
    issued_at: dt.datetime
    status_at: dt.datetime
    vehicle_class: int  # as personalised into 0015
    key_version: int
    algorithm: int  # keys.Algorithm value
    start_date: dt.date
    expiry_date: dt.date
    payment_method: PaymentMethod | None = None  # B: how the customer pays (refunds go back so)
    bank_account: str | None = None  # A: the bound bank account
    credit_guarantee: str | None = None  # A: the credit guarantee recorded
    replaces: str | None = None  # the card this one replaced
    cancelled_without_card: bool = False

    @property
    def network(self) -> str:
        return self.card_number[:4]

    @property
    def card_serial(self) -> str:
        return self.card_number[4:]


@dataclass(frozen=True, slots=True)
class ObuRecord:
    """An OBU the centre issued; its number is the 16-digit contract serial."""

    obu_number: str
    vehicle_id: int
    customer_id: int
    outlet_id: str
    status: ObuStatus
    issued_at: dt.datetime
    status_at: dt.datetime
    vehicle_class: int  # as personalised into the vehicle file
    start_date: dt.date
    expiry_date: dt.date
    cancelled_without_obu: bool = False


_CARD_COLUMNS = ("card_number, kind, vehicle_id, customer_id, outlet_id, status, issued_at,"
                 " status_at, vehicle_class, key_version, algorithm, start_date, expiry_date,"
                 " payment_method, bank_account, credit_guarantee, replaces,"
                 " cancelled_without_card")
_OBU_COLUMNS = ("obu_number, vehicle_id, customer_id, outlet_id, status, issued_at, status_at,"
                " vehicle_class, start_date, expiry_date, cancelled_without_obu")
#: The statuses in which a vehicle still holds the card or OBU (index `*_one_per_vehicle`).
_HELD = ("active", "lost")


def _card(row: Row) -> CardRecord:
    return CardRecord(
        row[0], CardKind(row[1]), row[2], row[3], row[4], CardStatus(row[5]),
        from_db_time(row[6]), from_db_time(row[7]), row[8], row[9], row[10],
        dt.date.fromisoformat(row[11]), dt.date.fromisoformat(row[12]),
        None if row[13] is None else PaymentMethod(row[13]), row[14], row[15], row[16],
        bool(row[17]))


def _obu(row: Row) -> ObuRecord:
    return ObuRecord(row[0], row[1], row[2], row[3], ObuStatus(row[4]), from_db_time(row[5]),
                     from_db_time(row[6]), row[7], dt.date.fromisoformat(row[8]),
                     dt.date.fromisoformat(row[9]), bool(row[10]))


class Devices:
    """Cards, OBUs and number counters inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def next_number(self, counter: str) -> int:
        """The next value of `counter` (starting at 1); taken under the row's write lock."""
        return int(self._tx.value(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name)"
            " DO UPDATE SET value = counters.value + 1 RETURNING value", (counter,)))

    # ------------------------------------------------------------ cards

    def add_card(self, card: CardRecord) -> None:
        self._tx.execute(
            f"INSERT INTO cards ({_CARD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?)",
            (card.card_number, card.kind.value, card.vehicle_id, card.customer_id,
             card.outlet_id, card.status.value, to_db_time(card.issued_at),
             to_db_time(card.status_at), card.vehicle_class, card.key_version, card.algorithm,
             card.start_date.isoformat(), card.expiry_date.isoformat(),
             None if card.payment_method is None else card.payment_method.value,
             card.bank_account, card.credit_guarantee, card.replaces,
             int(card.cancelled_without_card)))

    def card(self, card_number: str) -> CardRecord | None:
        row = self._tx.one(f"SELECT {_CARD_COLUMNS} FROM cards WHERE card_number = ?",
                           (card_number,))
        return None if row is None else _card(row)

    def cards(self, status: CardStatus | None = None) -> list[CardRecord]:
        if status is None:
            rows = self._tx.all(f"SELECT {_CARD_COLUMNS} FROM cards ORDER BY card_number")
        else:
            rows = self._tx.all(f"SELECT {_CARD_COLUMNS} FROM cards WHERE status = ?"
                                " ORDER BY card_number", (status.value,))
        return [_card(row) for row in rows]

    def cards_of_vehicle(self, vehicle_id: int) -> list[CardRecord]:
        rows = self._tx.all(f"SELECT {_CARD_COLUMNS} FROM cards WHERE vehicle_id = ?"
                            " ORDER BY issued_at", (vehicle_id,))
        return [_card(row) for row in rows]

    def cards_of_customer(self, customer_id: int) -> list[CardRecord]:
        rows = self._tx.all(f"SELECT {_CARD_COLUMNS} FROM cards WHERE customer_id = ?"
                            " ORDER BY issued_at", (customer_id,))
        return [_card(row) for row in rows]

    def active_card_of_vehicle(self, vehicle_id: int) -> CardRecord | None:
        """The card the vehicle holds (active or lost), if any."""
        row = self._tx.one(f"SELECT {_CARD_COLUMNS} FROM cards WHERE vehicle_id = ?"
                           " AND status IN (?, ?)", (vehicle_id, *_HELD))
        return None if row is None else _card(row)

    def set_card_status(self, card_number: str, status: CardStatus, at: dt.datetime, *,
                        without_card: bool = False) -> None:
        self._tx.execute("UPDATE cards SET status = ?, status_at = ?, cancelled_without_card = ?"
                         " WHERE card_number = ?",
                         (status.value, to_db_time(at), int(without_card), card_number))

    # ------------------------------------------------------------ OBUs

    def add_obu(self, obu: ObuRecord) -> None:
        self._tx.execute(
            f"INSERT INTO obus ({_OBU_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (obu.obu_number, obu.vehicle_id, obu.customer_id, obu.outlet_id, obu.status.value,
             to_db_time(obu.issued_at), to_db_time(obu.status_at), obu.vehicle_class,
             obu.start_date.isoformat(), obu.expiry_date.isoformat(),
             int(obu.cancelled_without_obu)))

    def obu(self, obu_number: str) -> ObuRecord | None:
        row = self._tx.one(f"SELECT {_OBU_COLUMNS} FROM obus WHERE obu_number = ?",
                           (obu_number,))
        return None if row is None else _obu(row)

    def active_obu_of_vehicle(self, vehicle_id: int) -> ObuRecord | None:
        """The OBU the vehicle holds (active or lost), if any."""
        row = self._tx.one(f"SELECT {_OBU_COLUMNS} FROM obus WHERE vehicle_id = ?"
                           " AND status IN (?, ?)", (vehicle_id, *_HELD))
        return None if row is None else _obu(row)

    def set_obu_status(self, obu_number: str, status: ObuStatus, at: dt.datetime, *,
                       without_obu: bool = False) -> None:
        self._tx.execute("UPDATE obus SET status = ?, status_at = ?, cancelled_without_obu = ?"
                         " WHERE obu_number = ?",
                         (status.value, to_db_time(at), int(without_obu), obu_number))

    def obus_of_vehicle(self, vehicle_id: int) -> list[ObuRecord]:
        rows = self._tx.all(f"SELECT {_OBU_COLUMNS} FROM obus WHERE vehicle_id = ?"
                            " ORDER BY issued_at", (vehicle_id,))
        return [_obu(row) for row in rows]
