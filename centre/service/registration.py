"""Real-name registration (seed art. 20, 21, 23) and changes of customer or vehicle information
(art. 26): every field checked before anything is written."""

from __future__ import annotations

import dataclasses
from typing import Any

from centre.service import guards
from centre.service.centre import Centre
from centre.service.listing import refresh_card, refresh_obu
from centre.service.outcomes import Outcome, Refusal, RefusalReason
from centre.service.requests import Work, perform
from centre.store.registry import CustomerData, VehicleData
from centre.store.store import StoreTransaction
from centre.values import Request
from protocols.errors import RecordError
from protocols.records import Plate, PlateColour, VehicleClass

CUSTOMER_KINDS = ("person", "company")
ID_TYPES = ("id_card", "passport", "business_licence", "other")
#: The vehicle-file fields' widths (card.md §2), as the largest value each holds.
_VEHICLE_LIMITS = {"user_type": 0xFF, "length_dm": 0xFFFF, "width_dm": 0xFF, "height_dm": 0xFF,
                   "wheels": 0xFF, "axles": 0xFF, "wheelbase_dm": 0xFFFF,
                   "load_or_seats": 0xFF_FFFF}
_ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CARD_CHECK = "10X98765432"


def _bad(message: str) -> Refusal:
    return Refusal(RefusalReason.BAD_INPUT, message)


def id_card_problem(number: str) -> str | None:
    """Why `number` is not a resident identity card number (GB 11643, with its check digit)."""
    if len(number) != 18 or not number[:17].isdigit() or not number.isascii():
        return f"id card number {number!r} is not 17 digits and a check character"
    check = _ID_CARD_CHECK[sum(int(d) * w for d, w in zip(number, _ID_CARD_WEIGHTS,
                                                           strict=False)) % 11]
    if number[17].upper() != check:
        return f"id card number {number!r} fails its check digit (expected {check})"
    return None


def check_customer(data: CustomerData) -> None:
    """Refusal (BAD_INPUT) for a customer record the rules do not accept."""
    if data.kind not in CUSTOMER_KINDS:
        raise _bad(f"customer kind {data.kind!r} is not one of {', '.join(CUSTOMER_KINDS)}")
    if not data.name.strip():
        raise _bad("the customer's name is empty (real-name registration, art. 20, 21)")
    if data.id_type not in ID_TYPES:
        raise _bad(f"document type {data.id_type!r} is not one of {', '.join(ID_TYPES)}")
    if data.id_type == "id_card":
        problem = id_card_problem(data.id_number)
        if problem:
            raise _bad(problem)
    elif not data.id_number.strip() or not data.id_number.isprintable():
        raise _bad("the document number is empty")
    if data.phone and not (data.phone.isascii() and data.phone.replace("-", "").isdigit()):
        raise _bad(f"phone {data.phone!r} is not a number")


def check_vehicle(data: VehicleData) -> None:
    """Refusal (BAD_INPUT) for a vehicle whose plate, colour, class or file fields cannot be
    written into a card and an OBU."""
    try:
        Plate.from_text(data.plate)
    except RecordError as exc:
        raise _bad(str(exc)) from exc
    if not data.plate.strip():
        raise _bad("the plate is empty")
    if data.plate_colour not in set(PlateColour):
        raise _bad(f"plate colour {data.plate_colour} is not a plate colour code")
    if data.vehicle_class not in set(VehicleClass):
        raise _bad(f"vehicle class {data.vehicle_class} is not a JT/T 489 class code")
    for name, limit in _VEHICLE_LIMITS.items():
        value = getattr(data, name)
        if not 0 <= value <= limit:
            raise _bad(f"{name} {value} is out of range 0..{limit}")
    if len(data.engine_number.encode("gbk", errors="replace")) > 16:
        raise _bad("the engine number is longer than the vehicle file's 16 bytes")


def _add_vehicle(tx: StoreTransaction, request: Request, customer_id: int,
                 data: VehicleData) -> int:
    check_vehicle(data)
    if tx.registry.vehicle_by_plate(data.plate, data.plate_colour) is not None:
        raise Refusal(RefusalReason.VEHICLE_EXISTS,
                      f"vehicle {data.plate} (plate colour {data.plate_colour}) is registered"
                      " already")
    return tx.registry.add_vehicle(customer_id, data, request.at)


def add_customer(centre: Centre, request: Request, customer: CustomerData,
                 vehicle: VehicleData | None = None) -> Outcome:
    """Register a customer by identity document, with a first vehicle when given."""
    def work(tx: StoreTransaction) -> Work:
        check_customer(customer)
        existing = tx.registry.customer_by_document(customer.id_type, customer.id_number)
        if existing is not None:
            raise Refusal(RefusalReason.CUSTOMER_EXISTS,
                          f"a customer with {customer.id_type} {customer.id_number} is"
                          f" registered already (customer {existing.customer_id})")
        customer_id = tx.registry.add_customer(customer, request.outlet, request.at)
        result: dict[str, Any] = {"customer_id": customer_id, "name": customer.name}
        if vehicle is not None:
            result["vehicle_id"] = _add_vehicle(tx, request, customer_id, vehicle)
            result["plate"] = vehicle.plate
        return Work(result, f"customer:{customer_id}")

    question = {"customer": dataclasses.asdict(customer),
                "vehicle": None if vehicle is None else dataclasses.asdict(vehicle)}
    return perform(centre, request, "customer_add", question, work)


def add_vehicle(centre: Centre, request: Request, customer_id: int,
                vehicle: VehicleData) -> Outcome:
    """Register another vehicle of a customer."""
    def work(tx: StoreTransaction) -> Work:
        if tx.registry.customer(customer_id) is None:
            raise Refusal(RefusalReason.UNKNOWN_CUSTOMER, f"no customer {customer_id}")
        vehicle_id = _add_vehicle(tx, request, customer_id, vehicle)
        return Work({"customer_id": customer_id, "vehicle_id": vehicle_id,
                     "plate": vehicle.plate}, f"vehicle:{vehicle_id}")

    return perform(centre, request, "vehicle_add",
                   {"customer_id": customer_id, "vehicle": dataclasses.asdict(vehicle)}, work)


def update_customer(centre: Centre, request: Request, customer_id: int,
                    changes: dict[str, str]) -> Outcome:
    """Change a customer's name, phone or kind (art. 26)."""
    def work(tx: StoreTransaction) -> Work:
        found = tx.registry.customer(customer_id)
        if found is None:
            raise Refusal(RefusalReason.UNKNOWN_CUSTOMER, f"no customer {customer_id}")
        allowed = {"name", "phone", "kind"}
        if not changes or set(changes) - allowed:
            raise _bad(f"a customer change may set {', '.join(sorted(allowed))}")
        updated = dataclasses.replace(found.data, **changes)
        check_customer(updated)
        tx.registry.update_customer(customer_id, updated, request.at)
        return Work({"customer_id": customer_id, "changed": sorted(changes)},
                    f"customer:{customer_id}")

    return perform(centre, request, "customer_update",
                   {"customer_id": customer_id, "changes": changes}, work)


def update_vehicle(centre: Centre, request: Request, plate: str, plate_colour: int,
                   changes: dict[str, int | str]) -> Outcome:
    """Change a vehicle's class or file data (art. 26). A card or OBU that carries the old class
    is listed as class mismatch until it is replaced."""
    def work(tx: StoreTransaction) -> Work:
        vehicle = guards.vehicle(tx, plate, plate_colour)
        if not changes or {"plate", "plate_colour"} & set(changes):
            raise _bad("a vehicle change may not change the plate: register the new plate")
        try:
            updated = dataclasses.replace(vehicle.data, **changes)  # type: ignore[arg-type]
        except TypeError as exc:
            raise _bad(f"unknown vehicle field: {exc}") from exc
        check_vehicle(updated)
        tx.registry.update_vehicle(vehicle.vehicle_id, updated, request.at)
        listed: dict[str, str | None] = {}
        card = tx.devices.active_card_of_vehicle(vehicle.vehicle_id)
        if card is not None:
            category = refresh_card(tx, card.card_number, request.at, request.request_id)
            listed[card.card_number] = None if category is None else category.name.lower()
        obu = tx.devices.active_obu_of_vehicle(vehicle.vehicle_id)
        if obu is not None:
            obu_category = refresh_obu(tx, obu.obu_number, request.at, request.request_id)
            listed[obu.obu_number] = None if obu_category is None else obu_category.name.lower()
        return Work({"vehicle_id": vehicle.vehicle_id, "changed": sorted(changes),
                     "listed": listed}, f"vehicle:{vehicle.vehicle_id}")

    return perform(centre, request, "vehicle_update",
                   {"plate": plate, "plate_colour": plate_colour, "changes": changes}, work)


__all__ = ["add_customer", "add_vehicle", "check_customer", "check_vehicle", "id_card_problem",
           "update_customer", "update_vehicle"]
