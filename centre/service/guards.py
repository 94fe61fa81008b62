"""Checks several operations share: the card or OBU named exists, and the outlet may serve it
(the issuing outlet, or any outlet of the issuing service centre, art. 21 and 26)."""

from __future__ import annotations

from centre.service.outcomes import Refusal, RefusalReason
from centre.store.devices import CardRecord, ObuRecord
from centre.store.registry import Outlet, Vehicle
from centre.store.store import StoreTransaction
from centre.values import CardKind, CardStatus, Request


def outlet(tx: StoreTransaction, request: Request) -> Outlet:
    found = tx.registry.outlet(request.outlet)
    if found is None:
        raise Refusal(RefusalReason.UNKNOWN_OUTLET, f"unknown outlet {request.outlet}")
    return found


def card(tx: StoreTransaction, number: str) -> CardRecord:
    found = tx.devices.card(number)
    if found is None:
        raise Refusal(RefusalReason.UNKNOWN_CARD, f"unknown card {number}")
    return found


def obu(tx: StoreTransaction, number: str) -> ObuRecord:
    found = tx.devices.obu(number)
    if found is None:
        raise Refusal(RefusalReason.UNKNOWN_OBU, f"unknown OBU {number}")
    return found


def vehicle(tx: StoreTransaction, plate: str, plate_colour: int) -> Vehicle:
    found = tx.registry.vehicle_by_plate(plate, plate_colour)
    if found is None:
        raise Refusal(RefusalReason.UNKNOWN_VEHICLE,
                      f"no vehicle {plate} (plate colour {plate_colour}) is registered")
    return found


def b_card(tx: StoreTransaction, number: str, operation: str) -> CardRecord:
    found = card(tx, number)
    if found.kind is not CardKind.B:
        raise Refusal(RefusalReason.NOT_A_B_CARD,
                      f"card {number} is an A card (credit): {operation} is for B cards only")
    return found


def status_is(found: CardRecord, wanted: tuple[CardStatus, ...], operation: str) -> None:
    if found.status not in wanted:
        names = " or ".join(s.value for s in wanted)
        raise Refusal(RefusalReason.WRONG_CARD_STATUS,
                      f"card {found.card_number} is {found.status.value}: {operation} needs it"
                      f" {names}")


def issuing_centre(tx: StoreTransaction, request: Request, issued_by: str, what: str) -> None:
    """The request's outlet must belong to the service centre of the outlet `issued_by`."""
    here, there = outlet(tx, request), tx.registry.outlet(issued_by)
    if there is not None and here.service_centre != there.service_centre:
        raise Refusal(RefusalReason.OTHER_SERVICE_CENTRE,
                      f"{what} is done at an outlet of service centre {there.service_centre}"
                      f" (issued by {issued_by}); outlet {here.outlet_id} belongs to"
                      f" {here.service_centre}")


def issuing_outlet(request: Request, issued_by: str, what: str) -> None:
    """The request must come from the outlet `issued_by` itself."""
    if request.outlet != issued_by:
        raise Refusal(RefusalReason.WRONG_OUTLET,
                      f"{what} is done by the outlet that issued the card ({issued_by}), not"
                      f" {request.outlet}")
