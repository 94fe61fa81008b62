"""Issuing A cards (art. 20), B cards (art. 21) and OBUs (art. 16-18), and replacing a bad card
(art. 26): one card and one OBU per vehicle, personalised with the issuer's diversified keys so
that the card trades at any lane.

A number is taken from its counter in a transaction of its own before the device writes
anything, so a number is never issued twice; a request that fails after that leaves a gap (and
a void card in the personaliser's tray, named in the refusal).

Numbering (our decision): card serial = issue year (2 digits) ‖ card type (16 B, 17 A) ‖ a
12-digit sequence per network; OBU contract serial = network ‖ issue year (4) ‖ an 8-digit
sequence per network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from centre.devices.ports import CardImage, ObuImage, Personaliser
from centre.errors import CentreError
from centre.ledger import accounts
from centre.ledger.limits import Service
from centre.ledger.refunds import refund_due_at
from centre.service import guards
from centre.service.centre import Centre
from centre.service.listing import refresh_card
from centre.service.outcomes import Done, Outcome, Refusal, RefusalReason, Refused
from centre.service.requests import Work, fingerprint, perform, replay
from centre.store.devices import CardRecord, ObuRecord
from centre.store.money import Refund
from centre.store.registry import Vehicle
from centre.store.store import StoreTransaction
from centre.values import (
    CENTRE_ZONE,
    CardKind,
    CardStatus,
    ObuStatus,
    PaymentMethod,
    Request,
    shown,
)
from protocols.records import (
    IssuerInfo,
    ObuSystemInfo,
    Plate,
    TamperStatus,
    VehicleInfo,
)
from protocols.records import ObuStatus as ObuStatusFlags

#: The ESAM's contract type and version written into an OBU's system information.
OBU_CONTRACT_TYPE = 0x01
OBU_CONTRACT_VERSION = 0x10


@dataclass(frozen=True, slots=True)
class CardApplication:
    """What the customer applies for: a card of `kind` for the vehicle with this plate."""

    kind: CardKind
    plate: str
    plate_colour: int
    payment_method: PaymentMethod | None = None  # B: how the customer pays; refunds go back so
    bank_account: str | None = None  # A: the bound bank account (art. 20)
    credit_guarantee: str | None = None  # A: the credit guarantee recorded (art. 20)


def _no_card_held(tx: StoreTransaction, vehicle: Vehicle) -> None:
    held = tx.devices.active_card_of_vehicle(vehicle.vehicle_id)
    if held is not None:
        raise Refusal(RefusalReason.CARD_ALREADY_ACTIVE,
                      f"vehicle {vehicle.data.plate} already holds card {held.card_number}"
                      f" ({held.status.value}): one vehicle, one card")


def _no_obu_held(tx: StoreTransaction, vehicle: Vehicle) -> None:
    held = tx.devices.active_obu_of_vehicle(vehicle.vehicle_id)
    if held is not None:
        raise Refusal(RefusalReason.OBU_ALREADY_ACTIVE,
                      f"vehicle {vehicle.data.plate} already holds OBU {held.obu_number}"
                      f" ({held.status.value}): one vehicle, one OBU")


def _check_application(application: CardApplication) -> None:
    if application.kind is CardKind.A:
        if not application.bank_account or not application.credit_guarantee:
            raise Refusal(RefusalReason.BAD_INPUT, "an A card needs the bound bank account and"
                          " the credit guarantee recorded (art. 20)")
    elif application.payment_method is None:
        raise Refusal(RefusalReason.BAD_INPUT, "a B card needs the payment method (its refund"
                      " goes back the same way, art. 21)")


def _dates(centre: Centre, at: dt.datetime) -> tuple[dt.date, dt.date]:
    start = at.astimezone(CENTRE_ZONE).date()
    years = centre.settings.issuer.validity_years
    try:
        return start, start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start, start.replace(year=start.year + years, day=28)


def _card_number(centre: Centre, application: CardApplication, at: dt.datetime) -> str:
    """A new card number, taken (and committed) now."""
    issuer = centre.settings.issuer
    with centre.store.transaction() as tx:
        sequence = tx.devices.next_number(f"card:{issuer.network}")
    year = at.astimezone(CENTRE_ZONE).year % 100
    return f"{issuer.network}{year:02d}{application.kind.card_type:02X}{sequence:012d}"


def _issuer_info(centre: Centre, number: str, kind: CardKind, vehicle: Vehicle,
                 at: dt.datetime) -> IssuerInfo:
    issuer = centre.settings.issuer
    start, expiry = _dates(centre, at)
    data = vehicle.data
    return IssuerInfo(issuer.issuer_identifier, kind.card_type, issuer.card_version,
                      issuer.network, number[4:], start, expiry, Plate.from_text(data.plate),
                      data.user_type, data.plate_colour, data.vehicle_class)


def _card_image(centre: Centre, info: IssuerInfo, kind: CardKind) -> CardImage:
    secrets = centre.host.card_secrets(info)
    balance = centre.settings.a_card_balance if kind is CardKind.A else 0
    return CardImage(info, balance, centre.host.key_version, secrets.algorithm, secrets.dpk,
                     secrets.dtk, secrets.dlk)


@dataclass(frozen=True, slots=True)
class _NewCard:
    number: str
    info: IssuerInfo
    image: CardImage
    where: str


def _new_card(centre: Centre, application: CardApplication, vehicle: Vehicle, at: dt.datetime,
              personaliser: Personaliser) -> _NewCard:
    """A number taken (committed), the card's 0015 and keys, written by the personaliser
    (`Refusal` when the device fails)."""
    number = _card_number(centre, application, at)
    info = _issuer_info(centre, number, application.kind, vehicle, at)
    image = _card_image(centre, info, application.kind)
    where = _personalise(personaliser.personalise_card, image, f"card {number}")
    return _NewCard(number, info, image, where)


def _personalise(write: Any, image: object, what: str) -> str:
    try:
        where: str = write(image)
    except (CentreError, OSError) as exc:
        raise Refusal(RefusalReason.DEVICE_FAILED, f"personalising {what} failed: {exc}") from exc
    return where


def _prepare(centre: Centre, request: Request, operation: str, question: dict[str, Any],
             check: Any) -> Outcome | None:
    """The replay or the refusal of a request before a number is taken; None to go on."""
    try:
        with centre.store.transaction() as tx:
            earlier = replay(tx, request, operation, fingerprint(operation, question))
            if earlier is not None:
                return earlier
            guards.outlet(tx, request)
            check(tx)
    except Refusal as refusal:
        return Refused(refusal.reason, refusal.message)
    return None


def _void(outcome: Outcome, where: str) -> Outcome:
    if isinstance(outcome, Refused):
        return Refused(outcome.reason, f"{outcome.message}; the device written at {where} is void")
    return outcome


def issue_card(centre: Centre, request: Request, application: CardApplication,
               personaliser: Personaliser) -> Outcome:
    """Issue an A or B card to a registered vehicle and personalise it."""
    operation = f"issue_{application.kind.value.lower()}_card"
    question = dataclasses.asdict(application)

    def check(tx: StoreTransaction) -> Vehicle:
        _check_application(application)
        vehicle = guards.vehicle(tx, application.plate, application.plate_colour)
        _no_card_held(tx, vehicle)
        return vehicle

    early = _prepare(centre, request, operation, question, check)
    if early is not None:
        return early
    with centre.store.transaction() as tx:
        vehicle = check(tx)
    try:
        new = _new_card(centre, application, vehicle, request.at, personaliser)
    except Refusal as refusal:
        return Refused(refusal.reason, refusal.message)
    number, info, image, where = new.number, new.info, new.image, new.where

    def work(tx: StoreTransaction) -> Work:
        vehicle = check(tx)
        tx.devices.add_card(CardRecord(
            number, application.kind, vehicle.vehicle_id, vehicle.customer_id, request.outlet,
            CardStatus.ACTIVE, request.at, request.at, vehicle.data.vehicle_class,
            centre.host.key_version, int(image.algorithm), info.start_date or request.at.date(),
            info.expiry_date or request.at.date(), application.payment_method,
            application.bank_account, application.credit_guarantee))
        service = Service.A_CARD if application.kind is CardKind.A else Service.B_CARD
        return Work({"card": number, "kind": application.kind.value, "plate": vehicle.data.plate,
                     "customer_id": vehicle.customer_id, "personalised": where,
                     "expiry_date": str(info.expiry_date)}, f"card:{number}", service)

    return _void(perform(centre, request, operation, question, work), where)


def issue_obu(centre: Centre, request: Request, plate: str, plate_colour: int,
              personaliser: Personaliser) -> Outcome:
    """Issue an OBU to a registered vehicle and personalise its ESAM."""
    question = {"plate": plate, "plate_colour": plate_colour}

    def check(tx: StoreTransaction) -> Vehicle:
        vehicle = guards.vehicle(tx, plate, plate_colour)
        _no_obu_held(tx, vehicle)
        return vehicle

    early = _prepare(centre, request, "issue_obu", question, check)
    if early is not None:
        return early
    issuer = centre.settings.issuer
    with centre.store.transaction() as tx:
        sequence = tx.devices.next_number(f"obu:{issuer.network}")
        vehicle = check(tx)
    start, expiry = _dates(centre, request.at)
    number = f"{issuer.network}{start.year:04d}{sequence:08d}"
    data = vehicle.data
    system_info = ObuSystemInfo(issuer.issuer_identifier, OBU_CONTRACT_TYPE, OBU_CONTRACT_VERSION,
                                number, start, expiry, 0x00, ObuStatusFlags(0),
                                TamperStatus.INSTALLED)
    vehicle_info = VehicleInfo(
        Plate.from_text(data.plate), data.plate_colour, data.vehicle_class, data.user_type,
        data.length_dm, data.width_dm, data.height_dm, data.wheels, data.axles,
        data.wheelbase_dm, data.load_or_seats,
        engine_number=data.engine_number.encode("gbk", errors="replace").ljust(16, b"\x00"))
    algorithm, key = centre.host.obu_key(issuer.network, number)
    image = ObuImage(system_info, vehicle_info, centre.host.key_version, algorithm, key)
    try:
        where = _personalise(personaliser.personalise_obu, image, f"OBU {number}")
    except Refusal as refusal:
        return Refused(refusal.reason, refusal.message)

    def work(tx: StoreTransaction) -> Work:
        vehicle = check(tx)
        tx.devices.add_obu(ObuRecord(number, vehicle.vehicle_id, vehicle.customer_id,
                                     request.outlet, ObuStatus.ACTIVE, request.at, request.at,
                                     vehicle.data.vehicle_class, start, expiry))
        return Work({"obu": number, "plate": vehicle.data.plate, "personalised": where,
                     "expiry_date": str(expiry)}, f"obu:{number}", Service.OBU)

    return _void(perform(centre, request, "issue_obu", question, work), where)


@dataclass(frozen=True, slots=True)
class OldCardReading:
    """What the old card said when it could still be read (balance and CTC)."""

    balance: int
    ctc: int


def replace_card(centre: Centre, request: Request, old_number: str, personaliser: Personaliser,
                 reading: OldCardReading | None) -> Outcome:
    """Replace a bad (or lost) card with a new one for the same vehicle (art. 26).

    A B card's balance moves to the new card as a refund to that card: at once when the old card
    could be read (`reading`: its real balance and CTC), 30 days later otherwise (the ledger's
    balance, less what clears in between), loaded by `refund pay --to-card`.
    """
    question = {"old": old_number, "read": None if reading is None else dataclasses.asdict(reading)}

    def check(tx: StoreTransaction) -> CardRecord:
        old = guards.card(tx, old_number)
        guards.status_is(old, (CardStatus.ACTIVE, CardStatus.LOST), "replacement")
        guards.issuing_centre(tx, request, old.outlet_id, "replacing a card")
        if reading is None and tx.loads.pending_for(old_number) is not None:
            raise Refusal(RefusalReason.LOAD_UNSETTLED, f"a top-up of card {old_number} is not"
                          " settled: present the card to settle it from its log")
        return old

    early = _prepare(centre, request, "replace_card", question, check)
    if early is not None:
        return early
    with centre.store.transaction() as tx:
        old = check(tx)
        vehicle = tx.registry.vehicle(old.vehicle_id)
    assert vehicle is not None
    application = CardApplication(old.kind, vehicle.data.plate, vehicle.data.plate_colour,
                                  old.payment_method, old.bank_account, old.credit_guarantee)
    try:
        new = _new_card(centre, application, vehicle, request.at, personaliser)
    except Refusal as refusal:
        return Refused(refusal.reason, refusal.message)
    number, info, image, where = new.number, new.info, new.image, new.where

    def work(tx: StoreTransaction) -> Work:
        old = check(tx)
        tx.devices.set_card_status(old_number, CardStatus.REPLACED, request.at,
                                   without_card=reading is None)
        refresh_card(tx, old_number, request.at, request.request_id)
        tx.devices.add_card(dataclasses.replace(
            old, card_number=number, status=CardStatus.ACTIVE, issued_at=request.at,
            status_at=request.at, outlet_id=request.outlet,
            vehicle_class=vehicle.data.vehicle_class, start_date=info.start_date or old.start_date,
            expiry_date=info.expiry_date or old.expiry_date, replaces=old_number,
            cancelled_without_card=False, key_version=centre.host.key_version,
            algorithm=int(image.algorithm)))
        result: dict[str, Any] = {"card": number, "replaces": old_number, "personalised": where}
        if old.kind is CardKind.B:
            balance = (reading.balance if reading is not None
                       else tx.book.balance(accounts.purse(old_number)))
            due = request.at if reading is not None else refund_due_at(request.at)
            assert old.payment_method is not None
            tx.money.open_refund(Refund(old_number, old.outlet_id, request.at, due, balance,
                                        None if reading is None else reading.ctc,
                                        old.payment_method))
            result.update(balance_to_move=balance, move_due_at=shown(due))
        service = Service.A_CARD if old.kind is CardKind.A else Service.B_CARD
        return Work(result, f"card:{old_number}", service)

    return _void(perform(centre, request, "replace_card", question, work), where)


__all__ = ["CardApplication", "Done", "OldCardReading", "issue_card", "issue_obu",
           "replace_card"]
