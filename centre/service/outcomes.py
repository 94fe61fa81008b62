"""What a service request comes to: `Done` (with the result the outlet is given, the same on a
retry) or `Refused` (a reason code and one line; nothing was written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from centre.ledger.limits import TimeLimit


class RefusalReason(Enum):
    """Why a request was refused; the value is the code printed and published."""

    #: the request names an outlet the centre does not know
    UNKNOWN_OUTLET = "unknown_outlet"
    #: no customer with that id or document
    UNKNOWN_CUSTOMER = "unknown_customer"
    #: no vehicle with that plate and colour
    UNKNOWN_VEHICLE = "unknown_vehicle"
    #: no card with that number
    UNKNOWN_CARD = "unknown_card"
    #: no OBU with that number
    UNKNOWN_OBU = "unknown_obu"
    #: a customer with that identity document is registered already
    CUSTOMER_EXISTS = "customer_exists"
    #: that plate and colour is registered already
    VEHICLE_EXISTS = "vehicle_exists"
    #: a field of the request is not valid (plate, class, colour, document, amount format)
    BAD_INPUT = "bad_input"
    #: the vehicle already holds an active (or lost) card: one vehicle, one card
    CARD_ALREADY_ACTIVE = "card_already_active"
    #: the vehicle already holds an active (or lost) OBU
    OBU_ALREADY_ACTIVE = "obu_already_active"
    #: the operation is for B cards and this is an A card (top-up, refund)
    NOT_A_B_CARD = "not_a_b_card"
    #: the operation is for A cards and this is a B card (bills)
    NOT_AN_A_CARD = "not_an_a_card"
    #: the card is not in the state the operation needs (e.g. unlock of a card not lost)
    WRONG_CARD_STATUS = "wrong_card_status"
    #: the OBU is not in the state the operation needs
    WRONG_OBU_STATUS = "wrong_obu_status"
    #: amount ≤ 0
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    #: the top-up would take the purse past its limit
    OVER_PURSE_LIMIT = "over_purse_limit"
    #: the rule names the outlet that must do it (the issuing outlet cancels and refunds)
    WRONG_OUTLET = "wrong_outlet"
    #: the outlet is not of the card's issuing service centre (art. 26)
    OTHER_SERVICE_CENTRE = "other_service_centre"
    #: the refund is not payable before its date
    REFUND_NOT_DUE = "refund_not_due"
    #: no refund is pending for that card
    NO_REFUND = "no_refund"
    #: the refund can go only to another B card of the same customer
    NOT_THE_CUSTOMERS_CARD = "not_the_customers_card"
    #: the request id was used before for a different request
    REQUEST_ID_REUSED = "request_id_reused"
    #: the card in the reader is not the card named
    WRONG_CARD_IN_READER = "wrong_card_in_reader"
    #: the card refused a command (status word in the message)
    CARD_REFUSED = "card_refused"
    #: the card's answers do not verify: not a genuine card of this issuer
    CARD_NOT_GENUINE = "card_not_genuine"
    #: the reader or the card failed; the message says what is known
    DEVICE_FAILED = "device_failed"
    #: an earlier top-up of this card awaits the card to be settled
    LOAD_UNSETTLED = "load_unsettled"
    #: the bill is not open (paid or defaulted already)
    BILL_NOT_OPEN = "bill_not_open"
    #: no such bill
    UNKNOWN_BILL = "unknown_bill"


@dataclass(frozen=True, slots=True)
class Done:
    """The request was done (now, or before: `replayed`)."""

    request_id: str
    operation: str
    result: dict[str, Any]
    replayed: bool = False
    time_limit: TimeLimit | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Refused:
    """The request was refused; nothing was written."""

    reason: RefusalReason
    message: str

    @property
    def ok(self) -> bool:
        return False


Outcome = Done | Refused


class Refusal(Exception):
    """Raised inside an operation to refuse it: the store transaction rolls back and the caller
    gets `Refused(reason, message)`. Never leaves `centre.service`."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
